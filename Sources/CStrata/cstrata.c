/* Compiles the published headers as C so a header error fails the build. No logic lives here. */
#include "strata/strata.h"
