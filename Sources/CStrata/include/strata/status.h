/*
 * strata/status.h: status codes and the per-thread last error.
 *
 * Every fallible call returns a strata_status: STRATA_OK (0) on success, a
 * negative code on failure. Values are fixed forever: new codes are appended,
 * none is renumbered or reused. On failure a message naming the culprit (the
 * key, the file, the id, the dimension) is stored for the calling thread and
 * can be read with strata_error_last().
 */
#ifndef STRATA_STATUS_H
#define STRATA_STATUS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Result of every fallible call: 0 ok, negative on error. */
typedef int32_t strata_status;

enum {
    STRATA_OK = 0,                      /**< Success. */
    STRATA_ERR_INVALID_ARGUMENT = -1,   /**< A NULL handle, a bad count, an out-of-range value. */
    STRATA_ERR_NOT_FOUND = -2,          /**< No memory with that id (or no such plugin, snapshot, ...). */
    STRATA_ERR_INVALID_CONFIG = -3,     /**< The configuration has an unknown key or a bad value. */
    STRATA_ERR_PLUGIN = -4,             /**< A plugin file could not be found, loaded or used. */
    STRATA_ERR_ABI_MISMATCH = -5,       /**< A plugin was built for an incompatible ABI version. */
    STRATA_ERR_IO = -6,                 /**< A file or network operation failed. */
    STRATA_ERR_DIMENSION = -7,          /**< A vector's dimension differs from the store's. */
    STRATA_ERR_INVALID_VECTOR = -8,     /**< A vector holds NaN or infinity, or is all zeros where that is meaningless. */
    STRATA_ERR_INVALID_JSON = -9,       /**< A JSON document is malformed or has the wrong shape. */
    STRATA_ERR_INVALID_UTF8 = -10,      /**< A string is not valid UTF-8. */
    STRATA_ERR_INVALID_FILTER = -11,    /**< A metadata filter is malformed; the message names the bad part. */
    STRATA_ERR_BACKEND = -12,           /**< A backend (store, embedder, summarizer, kernel) failed. */
    STRATA_ERR_UNSUPPORTED = -13,       /**< The backend does not offer this operation. */
    STRATA_ERR_CONFLICT = -14,          /**< The operation conflicts with the current state (e.g. a duplicate id). */
    STRATA_ERR_INTERNAL = -15,          /**< A bug in Strata: please report it with the message. */
    STRATA_ERR_CORRUPT = -16            /**< A stored file is damaged beyond what can be cut off safely; the message names the file and where. Since ABI 1.1. */
};

/**
 * The message of the last failed call made on this thread, or "" when the
 * last call succeeded or none was made. The pointer is owned by the library
 * and valid until the next Strata call on the same thread: copy it to keep it.
 * [thread-safe] Each thread sees its own message.
 */
const char *strata_error_last(void);

/**
 * A static, stable name for a status code, e.g. "STRATA_ERR_NOT_FOUND"
 * ("STRATA_ERR_UNKNOWN" for a code this library does not know). Never free it.
 * [thread-safe]
 */
const char *strata_status_name(strata_status status);

/**
 * Frees a string the library returned through a char ** out-parameter.
 * NULL is a no-op. Never pass a string from another allocator.
 * [thread-safe]
 */
void strata_string_free(char *string);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_STATUS_H */
