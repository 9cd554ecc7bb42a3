"""The :class:`Engine`: one open Strata engine and its memory verbs."""

from __future__ import annotations

import errno
import json
import numbers
import os
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, Union

import numpy as np

from ._ffi import EMBED_MAX_TEXTS, ffi, lib
from .errors import STRATA_OK, Conflict, EngineClosed, InvalidArgument, InvalidConfig, StrataError, Unsupported, error_for
from .models import Anomaly, Event, HistoryEntry, Hit, Memory, Rollback, Snapshot, StoredId, format_time

__all__ = ["Engine", "Config", "EventCallback", "scope_for", "STORE_FILE", "DEFAULT_STORE"]

#: What :class:`Engine` accepts as configuration.
Config = Union[None, Mapping[str, Any], str, bytes, "os.PathLike[str]"]
#: An event subscriber: receives each :class:`strata.Event`.
EventCallback = Callable[[Event], Any]

#: The configuration file of a store folder (the CLI's ``strata --dir DIR`` reads the same one).
STORE_FILE = "strata.json"
#: What :func:`strata.open` writes into a new store folder when no configuration is given: the
#: CLI's ``strata init --preset sqlite`` (memories and history in ``strata.db`` beside it) with
#: the embedded default's hashing embedder.
DEFAULT_STORE: dict[str, Any] = {"store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db"}}}

_Time = Union[datetime, str]


def _encode(text: str | bytes) -> bytes:
    """A str as UTF-8 bytes for the library.

    Lone surrogates are passed through (``surrogatepass``) so the engine itself
    reports them as STRATA_ERR_INVALID_UTF8 (:class:`strata.InvalidUTF8`).
    """
    if isinstance(text, bytes):
        return text
    return text.encode("utf-8", "surrogatepass")


def _json_bytes(document: Any) -> bytes:
    # ensure_ascii=False keeps lone surrogates raw (see _encode); control
    # characters, NUL included, are still escaped, so no NUL reaches C.
    return _encode(json.dumps(document, ensure_ascii=False))


def _config_bytes(config: Config) -> Any:
    if config is None:
        return ffi.NULL
    if isinstance(config, Mapping):
        return _json_bytes(dict(config))
    if isinstance(config, (str, bytes)):
        return _encode(config)
    raise TypeError(
        f"config must be None, a dict, a JSON str or a path (os.PathLike) to a JSON file, not {type(config).__name__}"
    )


def _memory_item(item: Mapping[str, Any] | str) -> dict[str, Any]:
    """One item of a store request: a str is the content; a dict is sent as is (a datetime "at" is formatted)."""
    if isinstance(item, str):
        return {"content": item}
    if not isinstance(item, Mapping):
        raise TypeError(f"a memory item must be a str or a dict, not {type(item).__name__}")
    out = dict(item)
    # The keys of a store request are checked here for type (TypeError naming them); an
    # unknown key is left for the engine, whose InvalidJSON names it.
    known = ("content", "id", "metadata", "scope", "visibility", "category", "importance", "pinned", "tier", "at", "ttl_seconds")
    _check_fields(**{key: out[key] for key in known if key in out})
    if isinstance(out.get("at"), datetime):
        out["at"] = format_time(out["at"])
    return out


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _stored_ids(ids: list[str], merged: list[str]) -> list[StoredId]:
    """The ids of a batch answer with their flags. ``merged`` lists an id once per item that merged
    into that memory; merges into a memory come after the item that added it (if the batch added
    it at all), so they are its last occurrences."""
    left = {i: merged.count(i) for i in set(merged)}
    remaining = {i: ids.count(i) for i in left}
    out = []
    for i in ids:
        if i in left:
            remaining[i] -= 1
            out.append(StoredId(i, remaining[i] < left[i]))
        else:
            out.append(StoredId(i, False))
    return out


def _check_type(value: Any, types: type | tuple[type, ...], name: str, *, optional: bool = True) -> None:
    """Raises TypeError naming ``name`` unless ``value`` is one of ``types`` (or None when optional).

    A bool is not accepted as a number: ``k=True`` is a mistake, not 1.
    """
    if value is None and optional:
        return
    wanted = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) and bool not in wanted:
        ok = False
    else:
        ok = isinstance(value, wanted)
    if not ok:
        spoken: dict[Any, str] = {numbers.Real: "a number", numbers.Integral: "int", Mapping: "dict", os.PathLike: "os.PathLike"}
        names = " or ".join(spoken.get(t, t.__name__) for t in wanted)
        raise TypeError(f"{name} must be {names}{' or None' if optional else ''}, not {type(value).__name__}")


def _check_fields(**fields: Any) -> None:
    """The type checks of the verbs' common arguments, each by its name."""
    kinds: dict[str, tuple[type, ...]] = {
        "content": (str,), "query": (str,), "id": (str,), "scope": (str,), "visibility": (str,), "category": (str,),
        "tier": (str,), "importance": (numbers.Real,), "pinned": (bool,), "ttl_seconds": (numbers.Real,),
        "k": (numbers.Integral,), "limit": (numbers.Integral,), "offset": (numbers.Integral,),
        "metadata": (Mapping,), "filter": (Mapping,), "track_access": (bool,), "at": (datetime, str),
        "user_id": (str,), "agent_id": (str,), "run_id": (str,),
    }
    for name, value in fields.items():
        _check_type(value, kinds[name], name)


def scope_for(user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None) -> str:
    """The scope path :meth:`Engine.store` gives a memory stored with Mem0's ids.

    Each given id is one node, outermost first: ``scope_for("alice", "planner", "42")`` is
    ``"user:alice/agent:planner/run:42"``, ``scope_for(agent_id="planner")`` is
    ``"agent:planner"``, none is ``""`` (the root). An id holding ``/`` is refused
    (:class:`ValueError`): it would make two nodes of one.
    """
    parts = []
    for prefix, value in (("user", user_id), ("agent", agent_id), ("run", run_id)):
        if value is None:
            continue
        _check_type(value, str, f"{prefix}_id")
        if not value or "/" in value:
            raise ValueError(f"{prefix}_id must be non-empty and hold no '/', got {value!r}")
        parts.append(f"{prefix}:{value}")
    return "/".join(parts)


def _with_ids(filter: Mapping[str, Any] | None, ids: Mapping[str, str | None]) -> dict[str, Any] | None:
    """``filter`` and an equality condition on each given Mem0 id (metadata keys of the same names)."""
    given = {k: v for k, v in ids.items() if v is not None}
    if not given:
        return dict(filter) if filter is not None else None
    conditions: list[Any] = [{k: v} for k, v in given.items()]
    if filter is not None:
        conditions.insert(0, dict(filter))
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _store_folder_config(path: str | os.PathLike[str], config: Any, created: list[Path]) -> Path:
    """The ``strata.json`` of store folder ``path``, written from ``config`` (or :data:`DEFAULT_STORE`) when new.

    What it creates is appended to ``created``, innermost first.
    """
    folder = Path(os.fspath(path))
    file = folder / STORE_FILE
    if config is not None and not isinstance(config, Mapping):
        raise TypeError(f"with path=, config must be a dict (written to {file} when the store is new), not {type(config).__name__}")
    if file.exists():
        if config is not None:
            with file.open("rb") as f:
                existing = json.load(f)
            if existing != dict(config):
                raise InvalidConfig(
                    f"{file} already describes this store and differs from the config given; open it with path= alone "
                    f"(the store keeps its configuration, embedder and dimension included), or edit {file}"
                )
        return file
    document = dict(config) if config is not None else DEFAULT_STORE
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True)
        created.append(folder)
    # Write, then rename: a crash leaves no half-written strata.json for the next open to refuse.
    fd, temporary = tempfile.mkstemp(prefix=f".{STORE_FILE}.", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(document, f, indent=2)
            f.write("\n")
        os.replace(temporary, file)
    except BaseException:
        os.unlink(temporary)
        raise
    created.insert(0, file)
    return file


def _embed_texts(texts: Iterable[str | bytes], owner: str) -> list[bytes]:
    """The texts of an ``embed`` call as UTF-8 bytes, checked as :meth:`Engine.embed` documents
    (``owner`` names the class in the message), so :class:`strata.Client` refuses the same
    texts with the same exceptions before anything is sent."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"texts must be a sequence of str, not one str: {owner}.embed([text]) embeds one text")
    items = list(texts)
    if len(items) > EMBED_MAX_TEXTS:
        raise InvalidArgument(
            f"{owner}.embed takes at most {EMBED_MAX_TEXTS} texts per call, got {len(items)}; embed a larger corpus in several calls"
        )
    encoded = []
    for i, text in enumerate(items):
        if not isinstance(text, (str, bytes)):
            raise TypeError(f"text {i} must be a str or bytes, not {type(text).__name__}")
        data = _encode(text)
        # A C string ends at the first NUL: the rest of the text would be dropped without a word.
        at = data.find(b"\0")
        if at >= 0:
            raise InvalidArgument(
                f"text {i} holds a NUL character (U+0000) at byte offset {at}; Strata embeds text without NUL, which C strings cannot carry"
            )
        encoded.append(data)
    return encoded


def _float32(array: Any, what: str) -> np.ndarray:
    """``array`` as C-contiguous, aligned, native float32: the same object when it already is (no copy)."""
    arr = np.asarray(array)
    if np.iscomplexobj(arr):
        raise TypeError(f"{what} must be real numbers, got dtype {arr.dtype}")
    if arr.dtype == np.float32 and arr.flags.c_contiguous and arr.flags.aligned:
        return arr
    try:
        return np.ascontiguousarray(arr, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} must be convertible to float32, got dtype {arr.dtype}: {error}") from error


def _as_rows(vectors: Any) -> tuple[np.ndarray, int, int]:
    """Vectors as a float32 row-major block, its count and its dimension. 1-D means one vector."""
    arr = _float32(vectors, "vectors")
    if arr.ndim == 1:
        return arr, 1, int(arr.shape[0])
    if arr.ndim == 2:
        return arr, int(arr.shape[0]), int(arr.shape[1])
    raise InvalidArgument(f"vectors must be a 1-D vector or a 2-D [count, dimension] array, got shape {arr.shape}")


def _as_query(vector: Any) -> tuple[np.ndarray, int]:
    arr = _float32(vector, "the query vector")
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise InvalidArgument(f"the query vector must be 1-D (or shape [1, dimension]), got shape {arr.shape}")
    return arr, int(arr.shape[0])


class _Subscriber:
    """The Python side of one subscription: decodes the event and calls the user's callback.

    Exceptions escape to cffi, which reports them through ``sys.unraisablehook``
    ("Exception ignored from cffi callback <strata subscriber ...>") and returns
    to the library normally: a failing callback never crashes the process.
    """

    def __init__(self, callback: EventCallback, local: threading.local) -> None:
        self.callback = callback
        self.local = local

    def __call__(self, user_data: Any, event_json: Any) -> None:
        local = self.local
        local.in_callback = getattr(local, "in_callback", 0) + 1
        try:
            event = json.loads(ffi.string(event_json).decode("utf-8", "surrogateescape"))
            self.callback(Event.from_json(event))
        finally:
            local.in_callback -= 1

    def __repr__(self) -> str:
        return f"<strata event subscriber {self.callback!r}>"


class Engine:
    """An open Strata engine: store, embedder and summarizer composed from one configuration.

    Args:
        config: None for the embedded default (in-memory store, hashing embedder,
            extractive summarizer: nothing persists); a dict (sent as JSON); a str holding
            the JSON document; or a path (``os.PathLike``) to a JSON file, whose relative
            ``"path"`` options name files beside it (``strata_engine_open_file``).
        path: a store folder, for memories that persist: ``Engine(path="memories")``, or
            :func:`strata.open` ``("memories")``. The folder's ``strata.json`` says what the
            store is (the CLI's ``strata --dir memories`` opens the same one). A new folder is
            created with ``config`` (a dict) written there, default :data:`strata.DEFAULT_STORE`:
            SQLite in ``strata.db`` with the hashing embedder. Reopening needs nothing but the
            folder: the embedder and its dimension are in ``strata.json``. ``config`` given for
            an existing folder must equal its ``strata.json`` (else :class:`InvalidConfig`).

    Raises:
        InvalidJSON: malformed configuration JSON.
        InvalidConfig: an unknown key or a bad value; the message names the key path. A store
            made with another embedder or dimension than the configured one (named, both).
        FileNotFoundError: no configuration file at that path.
        StrataIOError: a configuration file that cannot be read (named).
        PluginError, ABIMismatch: a configured plugin cannot be loaded.
        TypeError: ``config`` of another type.

    The engine is thread-safe: any number of threads may call its verbs at once.
    Use it as a context manager, or call :meth:`close`; a closed engine raises
    :class:`strata.EngineClosed` (a :class:`strata.StrataError`).

    Example::

        with strata.Engine() as engine:
            mid = engine.store("Alice prefers green tea", metadata={"user": "alice"})
            for hit in engine.recall("what does alice drink?", k=3):
                print(hit.score, hit.content)
    """

    def __init__(self, config: Config = None, *, path: str | os.PathLike[str] | None = None) -> None:
        self._handle: Any = None
        self._cond = threading.Condition()
        self._active = 0
        self._local = threading.local()
        self._subscriptions: dict[int, Any] = {}
        created: list[Path] = []
        if path is not None:
            _check_type(path, (str, os.PathLike), "path", optional=False)
            config = _store_folder_config(path, config, created)
        out = ffi.new("strata_engine **")
        if isinstance(config, os.PathLike):
            if not os.path.lexists(config):
                raise FileNotFoundError(errno.ENOENT, "no such configuration file", os.fspath(config))
            status = self._open_file(out, os.fsencode(config))
        else:
            status = lib.strata_engine_open(out, _config_bytes(config))
        if status != STRATA_OK:
            error = self._error(status)
            # A new store folder that cannot be opened is not left behind to be refused next time.
            for made in created:
                try:
                    made.unlink() if made.is_file() else made.rmdir()
                except OSError:
                    pass
            raise error
        self._handle = out[0]

    @staticmethod
    def _open_file(out: Any, path: bytes) -> int:
        try:
            function = lib.strata_engine_open_file
        except AttributeError:
            raise Unsupported("the loaded libstrata has no strata_engine_open_file (it needs ABI 1.7): rebuild or update libstrata") from None
        return function(out, path)

    # ---- lifetime -------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._handle is None

    def close(self) -> None:
        """Closes the engine and releases everything it holds. Calling it again does nothing.

        Waits for verbs running on other threads to finish first.
        """
        self._refuse_in_callback("close")
        with self._cond:
            handle = self._handle
            if handle is None:
                return
            self._handle = None  # new calls now raise EngineClosed
            while self._active:
                self._cond.wait()
        lib.strata_engine_close(handle)
        self._subscriptions.clear()

    def __enter__(self) -> "Engine":
        self._check_open()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if getattr(self, "_handle", None) is not None:
                self.close()
        except Exception:  # interpreter shutdown, or close() from a callback thread
            pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<strata.Engine {state} at {id(self):#x}>"

    # ---- the memory verbs -----------------------------------------------------------------------

    def store(
        self,
        content: str,
        metadata: Mapping[str, Any] | None = None,
        scope: str | None = None,
        *,
        visibility: str | None = None,
        category: str | None = None,
        importance: float | None = None,
        pinned: bool | None = None,
        tier: str | None = None,
        at: _Time | None = None,
        ttl_seconds: float | None = None,
        id: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> StoredId:
        """Stores one memory and returns its id, a :class:`strata.StoredId` (a str).

        Args:
            content: the text to remember.
            metadata: a JSON object, searchable with recall filters.
            scope: the agent-tree node owning the memory, e.g. "org/planner" (default: the root, "").
            visibility: "local" (only its own scope), "shared" (also its parent and
                children) or "global" (everyone); default from the configuration ("local").
            category, importance (0..1), pinned, tier: see include/strata/engine.h.
            at: when it happened: a datetime (naive means UTC) or an ISO-8601 str.
            ttl_seconds: seconds until the memory expires.
            id: your id for the memory (1 to 256 bytes, no control character, not starting
                with "strata:"); the id of a memory that exists replaces it (see :meth:`upsert`).
            user_id, agent_id, run_id: Mem0's ids. Each given one is written into the
                metadata under its own name (so ``recall(..., user_id="alice")`` finds it),
                and the scope defaults to :func:`strata.scope_for` of them
                (``"user:alice/agent:planner"``), so de-duplication stays within one user's memories.

        A near-identical memory already in the same scope is updated instead of
        copied: its id is returned with ``.deduplicated`` True (and its history gains an
        UPDATE). An item with an ``id`` is never de-duplicated.

        Raises:
            TypeError: an argument of the wrong type (named).
            InvalidArgument: importance outside 0..1, a bad id, a time a day or more ahead.
        """
        _check_fields(content=content, metadata=metadata, scope=scope, visibility=visibility, category=category,
                      importance=importance, pinned=pinned, tier=tier, at=at, ttl_seconds=ttl_seconds, id=id,
                      user_id=user_id, agent_id=agent_id, run_id=run_id)
        _check_type(content, str, "content", optional=False)
        metadata, scope = self._mem0(metadata, scope, user_id=user_id, agent_id=agent_id, run_id=run_id)
        item = _drop_none(
            id=id,
            content=content,
            metadata=metadata,
            scope=scope,
            visibility=visibility,
            category=category,
            importance=importance,
            pinned=pinned,
            tier=tier,
            at=format_time(at) if at is not None else None,
            ttl_seconds=ttl_seconds,
        )
        answer = self._call(lib.strata_engine_store, item, verb="store")
        return StoredId(answer["id"], answer["id"] in answer.get("deduplicated", []))

    def upsert(
        self,
        id: str,
        content: str,
        metadata: Mapping[str, Any] | None = None,
        scope: str | None = None,
        **fields: Any,
    ) -> StoredId:
        """Stores ``content`` under your ``id``: adds it when no memory has that id, else replaces that memory.

        A replaced memory takes the content, metadata (the whole object) and scope given here,
        and the fields given as keywords (as for :meth:`store`); it keeps the others, its
        creation time, access count and history (which gains an UPDATE), and subscribers get
        ``memory.updated``. Never de-duplicated. ``store(content, id=...)`` does the same.
        """
        _check_type(id, str, "id", optional=False)
        return self.store(content, metadata, scope, id=id, **fields)

    def store_many(self, items: Iterable[Mapping[str, Any] | str], *, dedupe: bool | None = None) -> list[StoredId]:
        """Stores a batch atomically; returns the ids in order (:class:`strata.StoredId`, each a str).

        Each item is a str (the content) or a dict shaped like one memory of a
        store request: ``{"content", "id", "metadata", "scope", "visibility", "category",
        "importance", "pinned", "tier", "at", "ttl_seconds"}``. An empty batch stores nothing.
        An item with an ``id`` adds or replaces that memory (see :meth:`upsert`); the same id
        twice: the later item wins.

        Args:
            dedupe: False stores the batch without comparing its items with near neighbours,
                about four times faster (a bulk import of texts known to differ); True
                compares even where the configuration turns it off; None: the
                configuration's ``dedupe.enabled`` (true by default).

        Raises:
            TypeError: ``items`` is a str, or an item is neither a str nor a dict.
        """
        if isinstance(items, (str, bytes)):
            raise TypeError("items must be an iterable of str or dict, not one str: store_many([text]) stores one text")
        _check_type(dedupe, bool, "dedupe")
        request = [_memory_item(item) for item in items]
        if not request:
            return []
        body: dict[str, Any] = {"items": request}
        if dedupe is not None:
            body["dedupe"] = dedupe
        answer = self._call(lib.strata_engine_store, body, verb="store_many")
        return _stored_ids(answer["ids"], answer.get("deduplicated", []))

    def store_vectors(
        self, vectors: Any, items: Sequence[Mapping[str, Any] | str] | None = None
    ) -> list[str]:
        """Stores memories with embeddings you computed; no embedder runs. Returns the ids in order.

        Args:
            vectors: a float32 array of shape [count, dimension] (a 1-D array is one
                vector). A C-contiguous float32 array is handed to the library without
                copying; anything else is converted first.
            items: None (memories with empty content) or exactly ``count`` items as for
                :meth:`store_many`.

        Raises:
            DimensionMismatch: the dimension differs from the engine's (the message names both).
            InvalidVector: a NaN or infinity (the message names the vector and position);
                nothing of the batch is stored.
        """
        arr, count, dimension = _as_rows(vectors)
        request = ffi.NULL if items is None else _json_bytes({"items": [_memory_item(i) for i in items]})
        buffer = ffi.from_buffer("float[]", arr)
        answer = self._call_raw(
            lib.strata_engine_store_vectors, request, buffer, count, dimension, verb="store_vectors"
        )
        return list(answer["ids"])

    def embed(self, texts: Iterable[str | bytes]) -> np.ndarray:
        """Embeds texts with the engine's embedder, as :meth:`store` and :meth:`recall` do; stores nothing.

        The whole batch is one embedder call (``strata_engine_embed``). The rows can be
        stored with :meth:`store_vectors` or used as queries with :meth:`recall_vector`.

        Args:
            texts: a sequence of str (or UTF-8 bytes), at most ``EMBED_MAX_TEXTS``
                (65,536) of them; a bare str is refused (it would embed each character).

        Returns:
            A float32 array of shape ``(len(texts), dimension)``, row i for text i
            (shape ``(0, dimension)`` for no texts).

        Raises:
            TypeError: ``texts`` is a str or bytes, or holds something else than str or bytes.
            InvalidArgument: a text holds a NUL character (named by its index), or more than
                ``EMBED_MAX_TEXTS`` texts.
            InvalidUTF8: a text is not valid UTF-8 (a lone surrogate; the message names the
                text and the byte offset).
            BackendError: the embedder failed.
        """
        encoded = [ffi.new("char[]", data) for data in _embed_texts(texts, "Engine")]
        try:
            function = lib.strata_engine_embed
            dimension_of = lib.strata_engine_dimension
        except AttributeError:
            raise Unsupported("the loaded libstrata has no strata_engine_embed (it needs ABI 1.6): rebuild or update libstrata") from None
        texts_c = ffi.new("const char *[]", encoded) if encoded else ffi.NULL
        with self._using() as handle:
            dimension = int(dimension_of(handle))
            out = np.empty((len(encoded), dimension), dtype=np.float32)
            buffer = ffi.from_buffer("float[]", out) if encoded else ffi.NULL
            status = function(handle, texts_c, len(encoded), dimension, buffer)
            if status != STRATA_OK:
                raise self._error(status)
        return out

    def recall(
        self,
        query: str = "",
        k: int | None = None,
        filter: Mapping[str, Any] | None = None,
        scope: str | None = None,
        *,
        tiers: Sequence[str] | str | None = None,
        category: str | None = None,
        track_access: bool | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Hit]:
        """The memories most relevant to ``query``, best first.

        Hybrid vector + keyword (BM25) search fused as the configuration's
        ``recall.fusion`` says for the embedder, then weighted by recency, importance and
        access count; each :class:`Hit` reports every part.

        Args:
            query: the text to search for. ``""`` (the default) ranks every memory in view by
                recency, importance and access alone: the most recent and most important
                first (``scores["vector"]`` and ``["keyword"]`` None, ``["fused"]`` 0). It
                reads every memory in view, so it costs a scan of the store.
            k: how many hits at most (default: the configuration's ``recall.k``, 10).
            filter: a metadata filter, e.g. ``{"user": "alice"}``,
                ``{"n": {"$gte": 3}}``, ``{"$or": [...]}``, dotted paths for nested keys.
            scope: recall as this node of the agent tree (its own memories, SHARED
                memories of its parent and children, GLOBAL memories); None sees all.
            tiers: only these tiers. category: only this category.
            track_access: whether this recall counts as an access of its hits (their access
                count and time weigh in later scores); default the configuration's
                ``recall.track_access`` (True). False is a read-only recall: the next one
                scores the same.
            user_id, agent_id, run_id: only memories stored with these Mem0 ids (a metadata
                condition on each, joined with ``filter``; see :meth:`store`).

        Raises:
            TypeError: an argument of the wrong type (named).
            InvalidFilter: a malformed filter (the message names the bad part).
        """
        _check_fields(query=query, k=k, filter=filter, scope=scope, category=category, track_access=track_access)
        _check_type(query, str, "query", optional=False)
        filter = _with_ids(filter, {"user_id": user_id, "agent_id": agent_id, "run_id": run_id})
        request = self._recall_request(query, k, filter, scope, tiers, category)
        if track_access is not None:
            request["track_access"] = track_access
        answer = self._call(lib.strata_engine_recall, request, verb="recall")
        return [Hit.from_json(h) for h in answer["hits"]]

    def recall_vector(
        self,
        vector: Any,
        k: int | None = None,
        filter: Mapping[str, Any] | None = None,
        scope: str | None = None,
        query: str | None = None,
        *,
        tiers: Sequence[str] | str | None = None,
        category: str | None = None,
        track_access: bool | None = None,
    ) -> list[Hit]:
        """Like :meth:`recall` with a query vector you computed (1-D, the engine's dimension).

        Keyword search runs only when ``query`` text is given too.
        """
        _check_fields(query=query, k=k, filter=filter, scope=scope, category=category, track_access=track_access)
        arr, dimension = _as_query(vector)
        fields = self._recall_request(query, k, filter, scope, tiers, category)
        if track_access is not None:
            fields["track_access"] = track_access
        request = _json_bytes(fields)
        buffer = ffi.from_buffer("float[]", arr)
        answer = self._call_raw(
            lib.strata_engine_recall_vector, request, buffer, dimension, verb="recall_vector"
        )
        return [Hit.from_json(h) for h in answer["hits"]]

    def get(self, id: str) -> Memory:
        """The memory with this id. Raises :class:`strata.NotFound` (naming the id) when there is none."""
        _check_type(id, str, "id", optional=False)
        return Memory.from_json(self._call(lib.strata_engine_get, {"id": id}, verb="get"))

    def get_many(self, ids: Iterable[str]) -> list[Memory]:
        """The memories with these ids, in the order given; ids with no memory (or an expired one) are left out.

        One call (``strata_engine_list`` with ``ids``), nothing counted as an access.

        Raises:
            TypeError: ``ids`` is one str, or holds something else than str.
        """
        if isinstance(ids, (str, bytes)):
            raise TypeError("ids must be an iterable of str, not one str: get_many([id]) reads one memory")
        wanted = list(ids)
        for i, one in enumerate(wanted):
            _check_type(one, str, f"ids[{i}]", optional=False)
        if not wanted:
            return []
        found = {m.id: m for m in self._list({"ids": wanted})[0]}
        return [found[i] for i in dict.fromkeys(wanted) if i in found]

    def get_all(
        self,
        filter: Mapping[str, Any] | None = None,
        scope: str | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        tiers: Sequence[str] | str | None = None,
        category: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Memory]:
        """Every memory in view, oldest first (creation time, then id); ``limit`` and ``offset`` page through them.

        In view is what :meth:`recall` with the same ``filter``, ``scope``, ``tiers``,
        ``category`` and Mem0 ids could find (unexpired memories). Nothing is counted as an
        access. ``strata_engine_list``.

        Raises:
            TypeError: an argument of the wrong type (named).
            InvalidArgument: a negative ``limit`` or ``offset``. InvalidFilter: a malformed filter.
        """
        _check_fields(filter=filter, scope=scope, limit=limit, offset=offset, category=category)
        filter = _with_ids(filter, {"user_id": user_id, "agent_id": agent_id, "run_id": run_id})
        request = self._recall_request(None, None, filter, scope, tiers, category)
        request.update(_drop_none(limit=limit, offset=offset or None))
        return self._list(request)[0]

    def count(
        self,
        filter: Mapping[str, Any] | None = None,
        scope: str | None = None,
        *,
        tiers: Sequence[str] | str | None = None,
        category: str | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> int:
        """How many memories :meth:`get_all` with the same arguments answers (without reading them out)."""
        _check_fields(filter=filter, scope=scope, category=category)
        filter = _with_ids(filter, {"user_id": user_id, "agent_id": agent_id, "run_id": run_id})
        request = self._recall_request(None, None, filter, scope, tiers, category)
        request["limit"] = 0
        return self._list(request)[1]

    def _list(self, request: dict[str, Any]) -> tuple[list[Memory], int]:
        try:
            function = lib.strata_engine_list
        except AttributeError:
            raise Unsupported("the loaded libstrata has no strata_engine_list (it needs ABI 1.7): rebuild or update libstrata") from None
        answer = self._call(function, request, verb="list")
        return [Memory.from_json(m) for m in answer["memories"]], int(answer["total"])

    def update(
        self,
        id: str,
        content: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        category: str | None = None,
        importance: float | None = None,
        pinned: bool | None = None,
        visibility: str | None = None,
    ) -> Memory:
        """Changes a memory and returns it updated; None leaves a field as it is.

        A new content is re-embedded; ``metadata`` replaces the whole metadata object.

        Raises:
            NotFound: no memory with this id. TypeError: an argument of the wrong type (named).
            InvalidJSON: nothing to change, or an empty content.
        """
        _check_type(id, str, "id", optional=False)
        _check_fields(content=content, metadata=metadata, category=category, importance=importance, pinned=pinned,
                      visibility=visibility)
        request = _drop_none(
            id=id,
            content=content,
            metadata=dict(metadata) if metadata is not None else None,
            category=category,
            importance=importance,
            pinned=pinned,
            visibility=visibility,
        )
        return Memory.from_json(self._call(lib.strata_engine_update, request, verb="update"))

    def forget(
        self,
        id: str | None = None,
        *,
        filter: Mapping[str, Any] | None = None,
        scope: str | None = None,
        all: bool = False,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[str]:
        """Forgets one memory by id, or every memory matching ``filter``.

        With ``scope``, only the memories that node owns (stored there) are forgotten,
        never another node's GLOBAL or SHARED memories it can see. A filter with no
        condition (``{}``) would forget everything: it needs ``all=True`` (otherwise
        :class:`strata.InvalidArgument`), and ``forget(all=True)`` alone means that filter.

        Returns the forgotten ids. An unknown id raises :class:`strata.NotFound`; a
        filter matching nothing returns []. History keeps a DELETE entry.

        ``user_id``, ``agent_id``, ``run_id`` forget the memories stored with these Mem0 ids
        (joined with ``filter``): ``forget(user_id="alice")`` is Mem0's ``delete_all(user_id=...)``.
        """
        _check_fields(id=id, filter=filter, scope=scope)
        _check_type(all, bool, "all", optional=False)
        if id is None:
            filter = _with_ids(filter, {"user_id": user_id, "agent_id": agent_id, "run_id": run_id})
        elif (user_id, agent_id, run_id) != (None, None, None):
            raise TypeError("forget takes an id or user_id / agent_id / run_id (with a filter), not both")
        if all and id is None and filter is None:
            filter = {}
        request = _drop_none(id=id, filter=dict(filter) if filter is not None else None, scope=scope, all=all or None)
        answer = self._call(lib.strata_engine_forget, request, verb="forget")
        return list(answer["forgotten"])

    def reset(self) -> int:
        """Forgets every memory of the store; returns how many. ``forget(all=True)``.

        History keeps a DELETE row for each (it is the audit log), and snapshots stay:
        :meth:`rollback` brings the memories back.
        """
        return len(self.forget(all=True))

    def history(self, id: str) -> list[HistoryEntry]:
        """Every change made to a memory, oldest first (kept after it is forgotten)."""
        answer = self._call(lib.strata_engine_history, {"id": id}, verb="history")
        return [HistoryEntry.from_json(e) for e in answer["history"]]

    def stats(self) -> dict[str, Any]:
        """Counts and configuration summary: ``memories``, ``expired``, ``by_tier``, ``by_category``,
        ``by_scope``, ``dimension``, ``store``, ``embedder``, ``summarizer``, ``operations``,
        ``access``, ``patterns``, ``lifecycle`` (the totals of every metabolize cycle) and ``space``
        (the embedding space of the store's vectors: ``embedder``, ``model_id``, ``dimension``,
        ``normalized``, the last None until the first vectors are written), and ``index``: the
        store's vector index and the bytes it holds in this process (``kind`` "exact" or "hnsw",
        ``rows``, ``m`` / ``ef_construction`` / ``ef_search`` for hnsw, ``compression``,
        ``mapped`` where the store can map an index image, ``bytes``: ``vectors``, ``codes``,
        ``graph``, ``total``), or None when the store does not report it (ABI 1.8)."""
        return self._call(lib.strata_engine_stats, {}, verb="stats")

    def metabolize(self, *, now: _Time | None = None, dry_run: bool = False, moves: bool = True) -> dict[str, Any]:
        """Runs one lifecycle cycle and returns its report (see ``strata_engine_metabolize``).

        Memories migrate between the configured tiers, are compressed, pruned (``age``,
        ``relevance``, ``redundancy``, ``capacity``), consolidated into episodes and folded into
        patterns; each move is in ``report["moves"]`` with its reason, and in the memory's history.

        Args:
            now: the time the rules are applied at (a datetime, naive means UTC, or an ISO-8601
                str); default: the engine's clock.
            dry_run: report without changing anything.
            moves: include the per-memory list of moves.

        A summarizer failure is not raised: the memories concerned stay, ``report["errors"]`` says why.
        """
        request: dict[str, Any] = {"dry_run": bool(dry_run), "moves": bool(moves)}
        if now is not None:
            request["now"] = format_time(now) if isinstance(now, datetime) else now
        return self._call(lib.strata_engine_metabolize, request, verb="metabolize")

    def reembed(self, target: Engine, *, batch_size: int = 64) -> dict[str, Any]:
        """Moves this engine's memories into ``target``, re-embedded by its embedder (see ``strata_engine_reembed``).

        Every store records the embedding space of its vectors, and an engine refuses a store
        made by another embedder (:class:`InvalidConfig` naming both): to change embedder, open
        ``target`` on a new file with the new one, call this, close both and point the
        configuration at the new file (``strata reembed`` does all of it for a store folder).
        This engine answers recall from the old space until then. Batches are committed one at
        a time, so after a crash calling it again with a target on the same file resumes.

        Returns:
            ``{"from", "to", "memories", "embedded", "kept", "removed", "batches"}``; ``from`` and
            ``to`` are spaces: ``{"embedder", "model_id", "dimension", "normalized"}``.
        Raises:
            InvalidArgument: ``target`` is this engine, or a bad batch size.
        """
        if target is self:
            raise InvalidArgument("reembed needs another engine as its target, on another store")
        out = ffi.new("char **")
        with self._using() as handle, target._using() as other:
            status = lib.strata_engine_reembed(handle, other, _json_bytes({"batch_size": int(batch_size)}), out)
            if status != STRATA_OK:
                raise self._error(status)
        try:
            return json.loads(ffi.string(out[0]))
        finally:
            lib.strata_string_free(out[0])

    # ---- snapshots (ABI 1.2) ---------------------------------------------------------------------

    def snapshot(self, name: str) -> Snapshot:
        """Saves every memory (content, metadata, vector, access count; not history) as snapshot ``name``.

        ``name`` is 1 to 64 of ``A-Z a-z 0-9 . _ -``. The in-memory store keeps it in
        RAM for the engine's life; the SQLite and file stores keep it in a file beside
        theirs (``<db>.snapshots/NAME.sqlite``, ``<log>.snapshots/NAME.snapshot``).

        Raises:
            InvalidArgument: a bad name (the message names it).
            Conflict: a snapshot of that name exists.
            Unsupported: the store keeps no snapshots.
        """
        return Snapshot.from_json(self._call(self._snapshot_function("strata_engine_snapshot"), {"name": name}, verb="snapshot"))

    def snapshots(self) -> list[Snapshot]:
        """Every snapshot of the store, oldest first."""
        answer = self._call(self._snapshot_function("strata_engine_snapshots"), {}, verb="snapshots")
        return [Snapshot.from_json(s) for s in answer["snapshots"]]

    def rollback(self, name: str) -> Rollback:
        """Makes the memories exactly those of snapshot ``name`` again; memories stored since are removed.

        History is not rolled back: each memory the rollback changes gets one more
        history row (ADD, DELETE or UPDATE, reason ``"rollback to snapshot NAME"``).
        Every engine on the same SQLite file sees the rollback at its next call.

        Raises:
            NotFound: no snapshot ``name`` (the message lists those there are).
            CorruptStore: the snapshot file is damaged or not one of this store
                (the message names the file); nothing was changed.
            InvalidArgument, Unsupported: as for :meth:`snapshot`.
        """
        answer = self._call(self._snapshot_function("strata_engine_rollback"), {"name": name}, verb="rollback")
        return Rollback.from_json(answer)

    def delete_snapshot(self, name: str) -> None:
        """Deletes snapshot ``name``; raises :class:`strata.NotFound` when there is none."""
        self._call(self._snapshot_function("strata_engine_delete_snapshot"), {"name": name}, verb="delete_snapshot")

    @staticmethod
    def _snapshot_function(symbol: str) -> Any:
        try:
            return getattr(lib, symbol)
        except AttributeError:
            raise Unsupported(f"the loaded libstrata has no {symbol} (it needs ABI 1.2): rebuild or update libstrata") from None

    def anomalies(
        self,
        threshold: float | None = None,
        limit: int | None = None,
        filter: Mapping[str, Any] | None = None,
        scope: str | None = None,
        *,
        tiers: Sequence[str] | str | None = None,
        category: str | None = None,
    ) -> list[Anomaly]:
        """The memories that stand out from the rest, highest anomaly score first.

        An isolation forest scores every unexpired memory in view (features and forest from
        the configuration's ``anomalies`` object: the projected vector, ``numeric_fields``
        of metadata, ``memory_fields``); the answer holds those scoring at or above
        ``threshold``. Each one is also published as an ``anomaly.detected`` event with its
        ``score`` (see :meth:`subscribe`). Fewer than 2 memories in view answer [].

        Args:
            threshold: the minimum score, 0..1 (default: the configured one, 0.6); 0 ranks every memory.
            limit: at most this many, the highest (the threshold still applies).
            filter, scope: as for :meth:`recall`. tiers: exactly these tiers. category: only this one.

        Raises:
            InvalidArgument: threshold outside 0..1 or limit below 1.
            InvalidFilter: a malformed filter.
            Unsupported: the loaded library predates ``strata_engine_anomalies`` (ABI 1.2).
        """
        request = self._recall_request(None, None, filter, scope, tiers, category)
        request.update(_drop_none(threshold=threshold, limit=limit))
        try:
            function = lib.strata_engine_anomalies
        except AttributeError:
            abi = int(lib.strata_abi_version())
            raise Unsupported(
                f"Engine.anomalies needs libstrata ABI 1.2 or later (strata_engine_anomalies); "
                f"the loaded library has ABI {abi >> 16}.{abi & 0xFFFF}"
            ) from None
        answer = self._call(function, request, verb="anomalies")
        return [Anomaly.from_json(a) for a in answer["anomalies"]]

    @property
    def dimension(self) -> int:
        """The engine's vector dimension (``strata_engine_dimension``; :meth:`stats` before ABI 1.6)."""
        try:
            function = lib.strata_engine_dimension
        except AttributeError:
            return int(self.stats()["dimension"])
        with self._using() as handle:
            return int(function(handle))

    # ---- events ---------------------------------------------------------------------------------

    def subscribe(self, callback: EventCallback) -> int:
        """Calls ``callback(event)`` for every event of the engine; returns a token for :meth:`unsubscribe`.

        ``event`` is a :class:`strata.Event` (a frozen dataclass: ``type``, ``memory_id``,
        ``at`` a UTC datetime, ``memory`` a :class:`strata.Memory` or None, ``score``); its
        docstring lists the types.

        The callback runs after the change is committed and the engine's locks
        are released, on the thread that made the change (or one still
        delivering earlier events). It may call every verb of the same engine;
        events those calls cause are delivered after it returns. Only
        :meth:`close` is refused there (:class:`strata.Conflict`): it would wait
        for the very call the callback runs in. Exceptions raised by the
        callback are reported through ``sys.unraisablehook`` and otherwise ignored.
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        c_callback = ffi.callback("void(void *, const char *)", _Subscriber(callback, self._local))
        token = ffi.new("uint64_t *")
        with self._using() as handle:
            status = lib.strata_engine_subscribe(handle, c_callback, ffi.NULL, token)
            if status != STRATA_OK:
                raise self._error(status)
            # Kept alive until unsubscribe/close: the library holds a pointer to it.
            self._subscriptions[int(token[0])] = c_callback
        return int(token[0])

    def unsubscribe(self, token: int) -> None:
        """Removes a subscription. Afterwards its callback is not running and is never called again.

        Raises :class:`strata.NotFound` for an unknown token.
        """
        with self._using() as handle:
            status = lib.strata_engine_unsubscribe(handle, token)
            if status != STRATA_OK:
                raise self._error(status)
            self._subscriptions.pop(int(token), None)

    # ---- plumbing -------------------------------------------------------------------------------

    @staticmethod
    def _mem0(
        metadata: Mapping[str, Any] | None, scope: str | None, **ids: str | None
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The metadata and scope of a memory stored with Mem0's ids (see :meth:`store`)."""
        given = {k: v for k, v in ids.items() if v is not None}
        out = dict(metadata) if metadata is not None else None
        if not given:
            return out, scope
        path = scope_for(**given)
        out = out or {}
        for key, value in given.items():
            if key in out and out[key] != value:
                raise ValueError(f"metadata[{key!r}] is {out[key]!r} but {key}={value!r}: give one of them")
            out[key] = value
        return out, scope if scope is not None else path

    @staticmethod
    def _recall_request(
        query: str | None,
        k: int | None,
        filter: Mapping[str, Any] | None,
        scope: str | None,
        tiers: Sequence[str] | str | None,
        category: str | None,
    ) -> dict[str, Any]:
        if isinstance(tiers, str):
            tiers = [tiers]
        return _drop_none(
            query=query,
            k=k,
            filter=dict(filter) if filter is not None else None,
            scope=scope,
            tiers=list(tiers) if tiers is not None else None,
            category=category,
        )

    @staticmethod
    def _error(status: int) -> StrataError:
        # Read the thread's message first: the next Strata call replaces it.
        message = ffi.string(lib.strata_error_last()).decode("utf-8", "replace")
        name = ffi.string(lib.strata_status_name(status)).decode("ascii", "replace")
        return error_for(int(status), message, name)

    def _check_open(self) -> None:
        if self._handle is None:
            raise EngineClosed("this strata.Engine is closed")

    def _refuse_in_callback(self, verb: str) -> None:
        if getattr(self._local, "in_callback", 0):
            raise Conflict(
                f"Engine.{verb}() called from inside an event callback of the same engine: closing waits "
                f"for the call the callback runs in; close after the callback returns"
            )

    def _using(self) -> "_InUse":
        return _InUse(self)

    def _call(self, function: Any, request: Any, *, verb: str) -> Any:
        return self._call_raw(function, _json_bytes(request), verb=verb)

    def _call_raw(self, function: Any, *args: Any, verb: str) -> Any:
        """Calls ``function(handle, *args, &out)``, raises on failure, returns the parsed answer.

        """
        out = ffi.new("char **")
        with self._using() as handle:
            status = function(handle, *args, out)
            if status != STRATA_OK:
                error = self._error(status)
                if out[0] != ffi.NULL:  # the header promises NULL on failure; be safe anyway
                    lib.strata_string_free(out[0])
                raise error
        try:
            text = ffi.string(out[0])
        finally:
            lib.strata_string_free(out[0])
        return json.loads(text)


class _InUse:
    """Marks a call in flight so :meth:`Engine.close` waits for it; yields the handle."""

    __slots__ = ("engine",)

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Any:
        engine = self.engine
        with engine._cond:
            if engine._handle is None:
                raise EngineClosed("this strata.Engine is closed")
            engine._active += 1
            return engine._handle

    def __exit__(self, *exc_info: Any) -> None:
        engine = self.engine
        with engine._cond:
            engine._active -= 1
            if engine._active == 0:
                engine._cond.notify_all()
