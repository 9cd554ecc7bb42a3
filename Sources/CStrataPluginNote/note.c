/*
 * The ELF note that identifies each Swift plugin (libstrata-memory.so, -sqlite, -file,
 * -tensor) as a Strata plugin before it is loaded (include/strata/plugin.h). Linked into the
 * plugin targets only: libstrata.so and the CLI are not plugins and carry no note.
 */
#include "strata/plugin.h"

STRATA_PLUGIN_NOTE;
