/* The SQLite C API from Debian's libsqlite3-dev, for the SQLite store plugin. */
#include <sqlite3.h>
