"""Loading libstrata through cffi in ABI mode.

The declarations below are copied by hand from include/strata/status.h,
version.h and engine.h (cdef takes no preprocessor directives, so the
``#define`` constants live in Python).

Where the library is looked for, in order:

1. ``$STRATA_LIBRARY``, a path to the shared library file; when set, nothing else is tried.
2. The library the package carries, ``strata/_lib/libstrata.so``: a wheel made by
   ``scripts/wheel`` puts it there with the plugins and the Swift runtime beside it.
3. In the repository holding this package (three folders above
   ``bindings/python/strata``): ``.build/release``, ``.build/debug`` and the
   per-triple ``.build/<arch>-unknown-linux-gnu/{release,debug}`` folders. When
   several exist, the most recently modified file wins.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

import cffi

from .errors import IncompatibleLibrary, LibraryNotFound

__all__ = ["ffi", "lib", "library_path", "ABI_VERSION_MAJOR", "CDEF", "candidate_paths", "find_library", "packaged_path"]

#: The ABI major this package was written for (STRATA_ABI_VERSION_MAJOR of include/strata/version.h).
ABI_VERSION_MAJOR = 1
#: The ABI minor this package was written against. Any library minor loads; a function newer than
#: the library (the snapshot methods and ``Engine.anomalies`` need 1.2) raises
#: :class:`strata.Unsupported` when called.
ABI_VERSION_MINOR = 9

#: STRATA_EMBED_MAX_TEXTS of include/strata/engine.h: the most texts one ``Engine.embed`` call takes.
EMBED_MAX_TEXTS = 65536

#: The environment variable naming the library file to load.
ENV_VAR = "STRATA_LIBRARY"

CDEF = r"""
/* ---- strata/status.h ---- */
typedef int32_t strata_status;

enum {
    STRATA_OK = 0,
    STRATA_ERR_INVALID_ARGUMENT = -1,
    STRATA_ERR_NOT_FOUND = -2,
    STRATA_ERR_INVALID_CONFIG = -3,
    STRATA_ERR_PLUGIN = -4,
    STRATA_ERR_ABI_MISMATCH = -5,
    STRATA_ERR_IO = -6,
    STRATA_ERR_DIMENSION = -7,
    STRATA_ERR_INVALID_VECTOR = -8,
    STRATA_ERR_INVALID_JSON = -9,
    STRATA_ERR_INVALID_UTF8 = -10,
    STRATA_ERR_INVALID_FILTER = -11,
    STRATA_ERR_BACKEND = -12,
    STRATA_ERR_UNSUPPORTED = -13,
    STRATA_ERR_CONFLICT = -14,
    STRATA_ERR_INTERNAL = -15,
    STRATA_ERR_CORRUPT = -16
};

const char *strata_error_last(void);
const char *strata_status_name(strata_status status);
void strata_string_free(char *string);

/* ---- strata/version.h ---- */
uint32_t strata_abi_version(void);
const char *strata_version(void);

/* ---- strata/engine.h ---- */
typedef struct strata_engine strata_engine;

strata_status strata_engine_open(strata_engine **out, const char *config_json);
strata_status strata_engine_open_file(strata_engine **out, const char *config_path);        /* ABI 1.7 */
void strata_engine_close(strata_engine *engine);
strata_status strata_engine_store(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_recall(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_get(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_list(strata_engine *engine, const char *request_json, char **out_json);  /* ABI 1.7 */
strata_status strata_engine_update(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_forget(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_history(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_stats(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_metabolize(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_snapshot(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_snapshots(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_rollback(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_delete_snapshot(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_anomalies(strata_engine *engine, const char *request_json, char **out_json);
strata_status strata_engine_reembed(strata_engine *engine, strata_engine *target, const char *request_json, char **out_json);
strata_status strata_engine_store_vectors(strata_engine *engine, const char *request_json,
                                          const float *vectors, size_t count, size_t dimension,
                                          char **out_json);
strata_status strata_engine_recall_vector(strata_engine *engine, const char *request_json,
                                          const float *query, size_t dimension, char **out_json);
size_t strata_engine_dimension(const strata_engine *engine);                        /* ABI 1.6 */
strata_status strata_engine_embed(strata_engine *engine, const char *const *texts, size_t count, size_t dimension,
                                  float *out_vectors);                                  /* ABI 1.6 */

/* ---- strata/kernel.h (ABI 1.3) ---- */
typedef struct strata_kernel strata_kernel;
strata_status strata_kernel_open(strata_kernel **out, const char *config_json);
void strata_kernel_close(strata_kernel *kernel);
size_t strata_kernel_dimension(const strata_kernel *kernel);
size_t strata_kernel_state_size(const strata_kernel *kernel);
size_t strata_kernel_log_count(const strata_kernel *kernel);
strata_status strata_kernel_info(const strata_kernel *kernel, char **out_json);
strata_status strata_kernel_initial_state(strata_kernel *kernel, size_t batch, float *state);
strata_status strata_kernel_step(strata_kernel *kernel, size_t batch, float *state, const float *hidden,
                                 const float *done_mask, float *read, float *logs);
strata_status strata_kernel_sequence(strata_kernel *kernel, size_t steps, size_t batch, float *state,
                                     const float *hidden, const float *done_masks, float *read, float *logs);
strata_status strata_kernel_reset(strata_kernel *kernel, size_t batch, float *state, const float *keep_mask);
strata_status strata_kernel_save_state(strata_kernel *kernel, const char *path, size_t batch, const float *state);
strata_status strata_kernel_load_state(strata_kernel *kernel, const char *path, size_t batch, float *state);
strata_status strata_kernel_save_weights(strata_kernel *kernel, const char *path);
typedef void (*strata_event_fn)(void *user_data, const char *event_json);

strata_status strata_engine_subscribe(strata_engine *engine, strata_event_fn callback, void *user_data,
                                      uint64_t *out_subscription);
strata_status strata_engine_unsubscribe(strata_engine *engine, uint64_t subscription);
"""

_LIB_NAME = "libstrata.dylib" if sys.platform == "darwin" else "libstrata.so"


def _repository() -> Path:
    """The repository holding this package: <repo>/bindings/python/strata/_ffi.py -> <repo>."""
    return Path(__file__).resolve().parents[3]


def packaged_path() -> Path:
    """Where an installed wheel keeps its library: ``strata/_lib/libstrata.so`` beside this module."""
    return Path(__file__).resolve().parent / "_lib" / _LIB_NAME


def candidate_paths(repo: Path | None = None) -> list[Path]:
    """The build locations searched inside ``repo`` (default: the repository holding this package)."""
    build = (repo if repo is not None else _repository()) / ".build"
    triples = []
    for arch in dict.fromkeys([platform.machine() or "x86_64", "x86_64"]):
        triples.append(f"{arch}-unknown-linux-gnu")
    paths = [build / "release" / _LIB_NAME, build / "debug" / _LIB_NAME]
    for triple in triples:
        paths += [build / triple / "release" / _LIB_NAME, build / triple / "debug" / _LIB_NAME]
    return paths


def find_library(env: dict[str, str] | None = None, repo: Path | None = None) -> str:
    """The path of the library to load; raises :class:`LibraryNotFound` naming every path tried.

    Args:
        env: the environment to read ``STRATA_LIBRARY`` from (default ``os.environ``).
        repo: the repository to search (default: the one holding this package).
    """
    explicit = (os.environ if env is None else env).get(ENV_VAR)
    if explicit:
        if os.path.isfile(explicit):
            return explicit
        raise LibraryNotFound(
            f"{ENV_VAR}={explicit} does not name an existing file. Tried: {explicit}. "
            f"Set {ENV_VAR} to the path of {_LIB_NAME}, or unset it to use the repository build "
            f"(run `swift build` in the repository).",
            [explicit],
        )
    packaged = packaged_path()
    if packaged.is_file():
        return str(packaged)
    tried = candidate_paths(repo)
    found: dict[str, tuple[float, Path]] = {}
    for path in tried:
        try:
            if not path.is_file():
                continue
            real = os.path.realpath(path)
            found.setdefault(real, (os.stat(real).st_mtime, path))
        except OSError:
            continue
    if not found:
        tried = [packaged] + tried
        names = ", ".join(str(p) for p in tried)
        raise LibraryNotFound(
            f"libstrata not found. Tried: {names}. Run `swift build` (or `swift build -c release`) "
            f"in {(repo if repo is not None else _repository())}, or set {ENV_VAR} to the path of {_LIB_NAME}.",
            [str(p) for p in tried],
        )
    # The most recently built one; release before debug on a tie.
    newest = max(found.values(), key=lambda t: t[0])
    return str(newest[1])


def _load() -> tuple[cffi.FFI, Any, str]:
    path = find_library()
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    try:
        lib = ffi.dlopen(path)
    except OSError as error:
        raise LibraryNotFound(
            f"libstrata at {path} could not be loaded: {error}. Rebuild it with `swift build`, "
            f"or set {ENV_VAR} to a working {_LIB_NAME}.",
            [path],
        ) from error
    abi = int(lib.strata_abi_version())
    major, minor = abi >> 16, abi & 0xFFFF
    if major != ABI_VERSION_MAJOR:
        raise IncompatibleLibrary(
            f"libstrata at {path} has ABI version {major}.{minor} but this package was written for ABI "
            f"major {ABI_VERSION_MAJOR} ({ABI_VERSION_MAJOR}.{ABI_VERSION_MINOR}); use bindings that match "
            f"the library, or a library with ABI major {ABI_VERSION_MAJOR}."
        )
    return ffi, lib, path


ffi, lib, library_path = _load()
