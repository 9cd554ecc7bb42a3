"""Exceptions raised by the Strata bindings.

Every failing C call returns a negative ``strata_status``; :func:`error_for`
turns it into an instance of the class registered for that code in
:data:`ERROR_CLASSES`, carrying the numeric ``code``, the symbolic ``status``
name (``"STRATA_ERR_NOT_FOUND"``) and the message the library stored for the
calling thread (``strata_error_last()``).

This module does not load the library, so it can be imported (and its classes
caught) even when :class:`LibraryNotFound` is raised by ``import strata``.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "STRATA_OK",
    "STATUS_NAMES",
    "ERROR_CLASSES",
    "error_for",
    "LibraryNotFound",
    "StrataError",
    "InvalidArgument",
    "NotFound",
    "InvalidConfig",
    "PluginError",
    "ABIMismatch",
    "IncompatibleLibrary",
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
    "EngineClosed",
    "HTTP_ERROR_CLASSES",
    "ServerError",
    "Unauthorized",
    "Forbidden",
    "ServerUnavailable",
    "RequestTooLarge",
    "ServerUnreachable",
]

#: Success.
STRATA_OK = 0

#: The status codes of include/strata/status.h and their names. Used only for
#: errors raised on the Python side; errors from the library take their name
#: from ``strata_status_name()``.
STATUS_NAMES: dict[int, str] = {
    0: "STRATA_OK",
    -1: "STRATA_ERR_INVALID_ARGUMENT",
    -2: "STRATA_ERR_NOT_FOUND",
    -3: "STRATA_ERR_INVALID_CONFIG",
    -4: "STRATA_ERR_PLUGIN",
    -5: "STRATA_ERR_ABI_MISMATCH",
    -6: "STRATA_ERR_IO",
    -7: "STRATA_ERR_DIMENSION",
    -8: "STRATA_ERR_INVALID_VECTOR",
    -9: "STRATA_ERR_INVALID_JSON",
    -10: "STRATA_ERR_INVALID_UTF8",
    -11: "STRATA_ERR_INVALID_FILTER",
    -12: "STRATA_ERR_BACKEND",
    -13: "STRATA_ERR_UNSUPPORTED",
    -14: "STRATA_ERR_CONFLICT",
    -15: "STRATA_ERR_INTERNAL",
    -16: "STRATA_ERR_CORRUPT",
}


class LibraryNotFound(ImportError):
    """libstrata.so could not be found or loaded; raised by ``import strata``.

    The message names every path that was tried and how to fix it (run
    ``swift build`` in the repository, or point ``STRATA_LIBRARY`` at the file).
    """

    def __init__(self, message: str, tried: list[str] | None = None) -> None:
        super().__init__(message)
        #: The paths that were tried, in order.
        self.tried: list[str] = list(tried or [])


class StrataError(Exception):
    """Base class of every error reported by the Strata library.

    Attributes:
        code: the negative ``strata_status`` code (e.g. ``-2``).
        status: its symbolic name (e.g. ``"STRATA_ERR_NOT_FOUND"``).
        message: the library's message naming the culprit (key, id, file, dimension).
    """

    #: The status code this class stands for (None for the base class).
    default_code: ClassVar[int | None] = None

    code: int | None
    status: str
    message: str

    def __init__(self, message: str = "", code: int | None = None, status: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = type(self).default_code if code is None else code
        self.status = status or STATUS_NAMES.get(self.code, "STRATA_ERR_UNKNOWN")  # type: ignore[arg-type]

    def __str__(self) -> str:
        # Overrides KeyError's quoting and OSError's "[Errno ...]" formatting.
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code}, status={self.status!r})"

    def __reduce__(self):  # keep code and status through pickling (e.g. multiprocessing)
        return (type(self), (self.message, self.code, self.status))


class InvalidArgument(StrataError, ValueError):
    """STRATA_ERR_INVALID_ARGUMENT: a NULL handle, a bad count, an out-of-range value."""

    default_code = -1


class NotFound(StrataError, KeyError):
    """STRATA_ERR_NOT_FOUND: no memory with that id (or no such plugin, subscription, ...)."""

    default_code = -2

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return self.message


class InvalidConfig(StrataError, ValueError):
    """STRATA_ERR_INVALID_CONFIG: an unknown configuration key or a bad value (the message names the key path)."""

    default_code = -3


class PluginError(StrataError):
    """STRATA_ERR_PLUGIN: a plugin could not be found, loaded or used (the message names the file and folders)."""

    default_code = -4


class ABIMismatch(PluginError):
    """STRATA_ERR_ABI_MISMATCH: a plugin (or the library) was built for an incompatible ABI version."""

    default_code = -5


class IncompatibleLibrary(ABIMismatch, ImportError):
    """Raised by ``import strata`` when libstrata's ABI major differs from the one this package speaks."""


class StrataIOError(StrataError, OSError):
    """STRATA_ERR_IO: a file or network operation failed."""

    default_code = -6


class DimensionMismatch(InvalidArgument):
    """STRATA_ERR_DIMENSION: a vector's dimension differs from the engine's (the message names both)."""

    default_code = -7


class InvalidVector(InvalidArgument):
    """STRATA_ERR_INVALID_VECTOR: a vector holds NaN or infinity (the message names the item and position)."""

    default_code = -8


class InvalidJSON(InvalidArgument):
    """STRATA_ERR_INVALID_JSON: a JSON document is malformed, has the wrong shape or an unknown key."""

    default_code = -9


class InvalidUTF8(InvalidArgument, UnicodeError):
    """STRATA_ERR_INVALID_UTF8: a string is not valid UTF-8 (e.g. a Python str holding lone surrogates)."""

    default_code = -10


class InvalidFilter(InvalidArgument):
    """STRATA_ERR_INVALID_FILTER: a metadata filter is malformed; the message names the bad part."""

    default_code = -11


class BackendError(StrataError):
    """STRATA_ERR_BACKEND: a backend (store, embedder, summarizer, kernel) failed."""

    default_code = -12


class Unsupported(StrataError, NotImplementedError):
    """STRATA_ERR_UNSUPPORTED: the backend does not offer this operation."""

    default_code = -13


class Conflict(StrataError):
    """STRATA_ERR_CONFLICT: the operation conflicts with the current state.

    Also raised by the bindings when an event callback calls a verb of the
    engine delivering the event that the library cannot run there (see
    :meth:`strata.Engine.subscribe`).
    """

    default_code = -14


class InternalError(StrataError):
    """STRATA_ERR_INTERNAL: a bug in Strata; please report it with the message."""

    default_code = -15


class CorruptStore(StrataError):
    """STRATA_ERR_CORRUPT: a stored file is damaged beyond what can be cut off safely;
    the message names the file and where."""

    default_code = -16


class EngineClosed(InvalidArgument):
    """The :class:`strata.Engine` was closed; it cannot be used any more."""


#: status code -> exception class, one row per code of include/strata/status.h.
ERROR_CLASSES: dict[int, type[StrataError]] = {
    -1: InvalidArgument,
    -2: NotFound,
    -3: InvalidConfig,
    -4: PluginError,
    -5: ABIMismatch,
    -6: StrataIOError,
    -7: DimensionMismatch,
    -8: InvalidVector,
    -9: InvalidJSON,
    -10: InvalidUTF8,
    -11: InvalidFilter,
    -12: BackendError,
    -13: Unsupported,
    -14: Conflict,
    -15: InternalError,
    -16: CorruptStore,
}


def error_for(code: int, message: str, status: str | None = None) -> StrataError:
    """The exception for a failed call: the class registered for ``code`` (StrataError if unknown)."""
    cls = ERROR_CLASSES.get(code, StrataError)
    return cls(message, code, status)


# ---- errors only the server has ------------------------------------------------------------------
#
# `strata serve` answers an engine error as {"error": {"status", "code", "message"}} with the C
# status name and its negative code: :func:`error_for` turns it into the class Engine raises.
# Errors only HTTP has carry the HTTP status as a positive ``code`` and a name of their own
# (Sources/StrataServer/APIError.swift); :class:`strata.Client` raises these for them.


class ServerError(StrataError):
    """An error only a server has (no token, a body too large, a busy server, an unknown route).

    ``code`` is the HTTP status (positive, unlike the library's codes) and ``status`` the
    server's name for it (``"UNAUTHORIZED"``).
    """


class Unauthorized(ServerError, PermissionError):
    """401: the server wants a token and got none, or one it does not know (revoked, mistyped)."""

    default_code = 401


class Forbidden(ServerError, PermissionError):
    """403: the token is valid but its role or scope does not allow this request."""

    default_code = 403


class ServerUnavailable(ServerError):
    """503: the server is busy (too many requests pending) or cannot read its token file."""

    default_code = 503


class RequestTooLarge(ServerError, ValueError):
    """413: the request body is larger than the server takes (``strata serve --max-body``)."""

    default_code = 413


class ServerUnreachable(StrataIOError, ConnectionError):
    """The server could not be reached, or the connection broke before it answered (the message names the URL)."""


#: The server's name of an HTTP-only error -> exception class; other names raise :class:`ServerError`.
HTTP_ERROR_CLASSES: dict[str, type[ServerError]] = {
    "UNAUTHORIZED": Unauthorized,
    "FORBIDDEN": Forbidden,
    "UNAVAILABLE": ServerUnavailable,
    "CONTENT_TOO_LARGE": RequestTooLarge,
}
