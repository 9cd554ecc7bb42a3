"""Python bindings for Strata, a memory engine for agents.

The package loads libstrata through its C ABI (cffi, ABI mode) at import time:
``$STRATA_LIBRARY`` if set, else the repository's ``.build/{release,debug}``
(the most recently built). ``import strata`` raises :class:`LibraryNotFound`
(an ImportError) when there is none, and :class:`IncompatibleLibrary` (also an
ImportError) when the library's ABI major is not the one this package speaks;
catch them as ``ImportError`` since the package itself failed to import.

A wheel made by ``scripts/wheel`` carries the library, its plugins and the Swift
runtime in ``strata/_lib``, and loads them from there.

Quick start::

    import strata

    with strata.Engine() as engine:                      # embedded default, all in memory
        engine.store("Alice prefers green tea", metadata={"user": "alice"})
        for hit in engine.recall("what does alice drink?", k=3):
            print(f"{hit.score:.3f} {hit.content}")

    with strata.open("memories") as engine:              # a store folder: SQLite, persists
        engine.store("Alice prefers green tea", user_id="alice")

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
    Forbidden,
    RequestTooLarge,
    ServerError,
    ServerUnavailable,
    ServerUnreachable,
    Unauthorized,
)
from ._ffi import ABI_VERSION_MAJOR, library_path
from ._ffi import ffi as _cffi, lib as _lib
import os as _os
from typing import Any as _Any, Mapping as _Mapping

from .engine import DEFAULT_STORE, STORE_FILE, Engine, scope_for
from .client import Client, EventStream
from .kernel import Kernel
from .models import Anomaly, Event, HistoryEntry, Hit, Memory, Rollback, Snapshot, StoredId


def open(path: str | _os.PathLike[str], config: _Mapping[str, _Any] | None = None) -> Engine:  # noqa: A001
    """Opens the persistent store in folder ``path``, creating it (and its ``strata.json``) on first use.

    ``strata.open(path, config)`` is ``strata.Engine(config, path=path)``: see :class:`Engine`.
    A new folder gets ``config`` (default :data:`DEFAULT_STORE`: SQLite in ``strata.db``);
    reopening needs only the folder, which keeps the embedder and its dimension::

        with strata.open("memories", {"store": {"backend": "sqlite", "plugin": "sqlite",
                                                 "options": {"path": "strata.db"}},
                                       "embedder": {"backend": "hashing", "options": {"dimension": 64}}}) as engine:
            engine.store("Alice prefers green tea")
        with strata.open("memories") as engine:   # 64 dimensions, read from memories/strata.json
            engine.recall("tea")
    """
    return Engine(config, path=path)


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
    "Client",
    "EventStream",
    "open",
    "scope_for",
    "DEFAULT_STORE",
    "STORE_FILE",
    "Memory",
    "StoredId",
    "Event",
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
    "ServerError",
    "Unauthorized",
    "Forbidden",
    "ServerUnavailable",
    "RequestTooLarge",
    "ServerUnreachable",
]
