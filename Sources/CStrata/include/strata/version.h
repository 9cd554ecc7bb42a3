/*
 * strata/version.h: library and ABI versions.
 *
 * The ABI version is (major << 16) | minor. A plugin or program built against
 * ABI major M works with any library whose major is M and whose minor is at
 * least the minor it was built against: minors only append (new functions,
 * new fields at the end of structs that begin with struct_size). A major bump
 * means an incompatible change and is refused at plugin load time.
 */
#ifndef STRATA_VERSION_H
#define STRATA_VERSION_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** ABI major version: changes only for incompatible changes. */
#define STRATA_ABI_VERSION_MAJOR 1
/** ABI minor version: grows when functions or struct fields are appended. */
#define STRATA_ABI_VERSION_MINOR 9
/** The ABI version these headers describe, as (major << 16) | minor. */
#define STRATA_ABI_VERSION ((uint32_t)((STRATA_ABI_VERSION_MAJOR << 16) | STRATA_ABI_VERSION_MINOR))

/** Library version string these headers ship with (semantic versioning). */
#define STRATA_VERSION_STRING "0.1.0"

/**
 * The ABI version of the library loaded at run time, as (major << 16) | minor.
 * Compare with STRATA_ABI_VERSION to detect a header / library mismatch.
 * [thread-safe] Never fails.
 */
uint32_t strata_abi_version(void);

/**
 * The library version, e.g. "0.1.0". The string is static: never free it.
 * [thread-safe] Never fails.
 */
const char *strata_version(void);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_VERSION_H */
