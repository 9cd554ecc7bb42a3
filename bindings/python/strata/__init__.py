"""Python bindings for Strata, a memory engine for agents.

The package loads libstrata through its C ABI (cffi, ABI mode) at import time:
``$STRATA_LIBRARY`` if set, else the repository's ``.build/{release,debug}``
(the most recently built). ``import strata`` raises :class:`LibraryNotFound`
(an ImportError) when there is none, and :class:`IncompatibleLibrary` (also an
ImportError) when the library's ABI major is not the one this package speaks;
catch them as ``ImportError`` since the package itself failed to import.

Quick start::

    import strata

    with strata.Engine() as engine:                      # embedded default, all in memory
        engine.store("Alice prefers green tea", metadata={"user": "alice"})
        for hit in engine.recall("what does alice drink?", k=3):
            print(f"{hit.score:.3f} {hit.content}")

Errors are :class:`StrataError` subclasses carrying ``code``, ``status`` and
the library's message (e.g. :class:`NotFound`, :class:`InvalidFilter`).
"""

from __future__ import annotations

from .errors import (
    ABIMismatch,
    BackendError,
    Conflict,
    DimensionMismatch,
    EngineClosed,
    IncompatibleLibrary,
    InternalError,
    CorruptStore,
    InvalidArgument,
    InvalidConfig,
    InvalidFilter,
    InvalidJSON,
    InvalidUTF8,
    InvalidVector,
    LibraryNotFound,
    NotFound,
    PluginError,
    StrataError,
    StrataIOError,
    Unsupported,
)
from ._ffi import ABI_VERSION_MAJOR, library_path
from ._ffi import ffi as _cffi, lib as _lib
from .engine import Engine
from .kernel import Kernel
from .models import Anomaly, HistoryEntry, Hit, Memory, Rollback, Snapshot


def abi_version() -> int:
    """The loaded library's ABI version as ``(major << 16) | minor`` (``0x10000`` is 1.0)."""
    return int(_lib.strata_abi_version())


def version() -> str:
    """The loaded library's version, e.g. "0.1.0" (same as ``strata.__version__``)."""
    return _cffi.string(_lib.strata_version()).decode("ascii")


#: The version of the loaded libstrata (``strata_version()``).
__version__: str = version()

__all__ = [
    "Kernel",
    "Engine",
    "Memory",
    "Hit",
    "HistoryEntry",
    "Snapshot",
    "Rollback",
    "Anomaly",
    "abi_version",
    "version",
    "library_path",
    "ABI_VERSION_MAJOR",
    "__version__",
    "StrataError",
    "LibraryNotFound",
    "IncompatibleLibrary",
    "EngineClosed",
    "InvalidArgument",
    "NotFound",
    "InvalidConfig",
    "PluginError",
    "ABIMismatch",
    "StrataIOError",
    "DimensionMismatch",
    "InvalidVector",
    "InvalidJSON",
    "InvalidUTF8",
    "InvalidFilter",
    "BackendError",
    "Unsupported",
    "Conflict",
    "InternalError",
    "CorruptStore",
]
