"""The :class:`Client`: the memory verbs of :class:`strata.Engine`, answered by ``strata serve``.

An agent switches between an embedded engine and a remote one by one line::

    memory = strata.Engine(path="memories")                                  # in this process
    memory = strata.Client("http://127.0.0.1:7700", token=os.environ["STRATA_TOKEN"])  # over HTTP

Both take the same arguments, return the same types and raise the same exceptions, because
both run the same code: the argument checks and request building of ``engine.py``, and the
``from_json`` of ``models.py`` over the same JSON (the server answers StrataWire's JSON, the
bytes the C ABI returns). Only the transport differs: the standard library's
``http.client`` on one kept-alive connection instead of cffi.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import socket
import sys
import threading
import urllib.parse
from datetime import datetime
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from . import _websocket

import numpy as np

from .engine import (
    Engine,
    EventCallback,
    _as_query,
    _as_rows,
    _check_fields,
    _check_type,
    _drop_none,
    _embed_texts,
    _memory_item,
    _stored_ids,
    _Time,
    _with_ids,
)
from .errors import (
    HTTP_ERROR_CLASSES,
    Forbidden,
    InvalidArgument,
    InvalidUTF8,
    NotFound,
    ServerError,
    ServerUnavailable,
    ServerUnreachable,
    Unauthorized,
    error_for,
)
from .models import Anomaly, Event, HistoryEntry, Hit, Memory, Rollback, Snapshot, StoredId, format_time

__all__ = ["Client", "EventStream"]

#: ``strata serve``'s WebSocket close codes (Sources/StrataServer/ServerOptions.swift, WebSocketClose).
_CLOSE_TOO_SLOW = 4008
_CLOSE_GONE = 4010

#: The most memories one ``POST /v1/list`` answers (``strata serve``'s ``ServerOptions.maxListPage``):
#: :meth:`Client.get_all` reads a larger listing page after page.
_LIST_PAGE = 10_000
#: The most texts one ``POST /v1/embed`` takes (``ServerOptions.maxEmbedTexts``), and the UTF-8 bytes
#: of text the client puts in one request: JSON escapes a control character in six bytes, so
#: 2 MiB of text stays under the server's default ``--max-body`` (16 MiB) whatever it holds.
_EMBED_BATCH = 512
_EMBED_BATCH_BYTES = 2 << 20
#: What the server's decoder takes for ``limit`` and ``offset`` (a C int); beyond, its error is Engine's.
_INT32_MAX = 2**31 - 1

# The verbs whose arguments and docstrings are Engine's: each Client method below builds the
# request the Engine method builds and sends it to the route that runs the same engine verb.
_recall_request = Engine._recall_request
_mem0 = Engine._mem0


def _vector_text(row: np.ndarray) -> str:
    """A vector in the server's base64 form: little-endian float32s, exact, a quarter of the JSON
    text the numbers would be (docs/openapi.json, ``vector``)."""
    return base64.b64encode(np.ascontiguousarray(row, dtype="<f4").tobytes()).decode("ascii")


class Client:
    """A ``strata serve`` server, spoken to with the methods of :class:`strata.Engine`.

    Args:
        url: the server, e.g. ``"http://127.0.0.1:7700"`` (a path prefix is kept, for a server
            behind a reverse proxy; ``https://`` is accepted).
        token: the secret of ``strata token create`` (sent as ``Authorization: Bearer``); None
            for a server without a token file.
        timeout: seconds to wait for the connection and for each answer.

    Offers what the server offers: :meth:`store`, :meth:`upsert`, :meth:`store_many`,
    :meth:`store_vectors`, :meth:`recall`, :meth:`recall_vector`, :meth:`get`, :meth:`get_many`,
    :meth:`update`, :meth:`forget`, :meth:`reset`, :meth:`history`, :meth:`stats`,
    :meth:`metabolize`, :meth:`snapshot`, :meth:`snapshots`, :meth:`rollback`,
    :meth:`delete_snapshot`, :meth:`anomalies`, :meth:`get_all`, :meth:`count`, :meth:`embed`,
    :meth:`subscribe` / :meth:`unsubscribe`; each takes :class:`Engine`'s arguments and answers
    its types. :meth:`events` iterates the events. Not offered: ``reembed``, which copies one
    engine's memories into another engine of this process; a server serves one store (re-embed
    the server's store with ``strata reembed``).

    Raises, besides what the Engine method raises (the server sends the library's status, which
    becomes the same class): :class:`strata.Unauthorized` (no token, or an unknown one),
    :class:`strata.Forbidden` (the token's role or scope does not allow it),
    :class:`strata.ServerUnavailable`, :class:`strata.RequestTooLarge`, and
    :class:`strata.ServerUnreachable` (naming the URL) when the server cannot be reached.

    One connection is kept alive and shared; calls from several threads take turns on it.
    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0) -> None:
        _check_type(url, str, "url", optional=False)
        _check_type(token, str, "token")
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be http://HOST[:PORT] or https://HOST[:PORT], got {url!r}")
        self.url = url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._headers = {"Accept": "application/json"}
        if token is not None:
            self._headers["Authorization"] = f"Bearer {token}"
        self._lock = threading.Lock()
        self._connection: http.client.HTTPConnection | None = None
        self._closed = False
        self._subscriptions: dict[int, tuple[EventStream, threading.Thread]] = {}
        self._tokens = itertools.count(1)

    # ---- lifetime -------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Closes the connection and ends every subscription. Calling it again does nothing; the
        server and its store stay as they are."""
        with self._lock:
            self._closed = True
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            subscriptions = list(self._subscriptions)
        for token in subscriptions:
            try:
                self.unsubscribe(token)
            except NotFound:  # ended by another thread meanwhile
                pass

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<strata.Client {self.url}{' closed' if self._closed else ''}>"

    # ---- the memory verbs (arguments, checks and answers as Engine's) ---------------------------

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
        """:meth:`strata.Engine.store`, by ``POST /v1/memories``."""
        _check_fields(content=content, metadata=metadata, scope=scope, visibility=visibility, category=category,
                      importance=importance, pinned=pinned, tier=tier, at=at, ttl_seconds=ttl_seconds, id=id,
                      user_id=user_id, agent_id=agent_id, run_id=run_id)
        _check_type(content, str, "content", optional=False)
        metadata, scope = _mem0(metadata, scope, user_id=user_id, agent_id=agent_id, run_id=run_id)
        item = _drop_none(
            id=id, content=content, metadata=metadata, scope=scope, visibility=visibility, category=category,
            importance=importance, pinned=pinned, tier=tier, at=format_time(at) if at is not None else None,
            ttl_seconds=ttl_seconds,
        )
        answer = self._request("POST", "/v1/memories", item)
        return StoredId(answer["id"], answer["id"] in answer.get("deduplicated", []))

    def upsert(
        self, id: str, content: str, metadata: Mapping[str, Any] | None = None, scope: str | None = None, **fields: Any
    ) -> StoredId:
        """:meth:`strata.Engine.upsert`: ``store(content, id=id)``."""
        _check_type(id, str, "id", optional=False)
        return self.store(content, metadata, scope, id=id, **fields)

    def store_many(self, items: Iterable[Mapping[str, Any] | str], *, dedupe: bool | None = None) -> list[StoredId]:
        """:meth:`strata.Engine.store_many`, by ``POST /v1/memories`` with ``{"items"}`` (one atomic batch)."""
        if isinstance(items, (str, bytes)):
            raise TypeError("items must be an iterable of str or dict, not one str: store_many([text]) stores one text")
        _check_type(dedupe, bool, "dedupe")
        request = [_memory_item(item) for item in items]
        if not request:
            return []
        body: dict[str, Any] = {"items": request}
        if dedupe is not None:
            body["dedupe"] = dedupe
        answer = self._request("POST", "/v1/memories", body)
        return _stored_ids(answer["ids"], answer.get("deduplicated", []))

    def store_vectors(self, vectors: Any, items: Sequence[Mapping[str, Any] | str] | None = None) -> list[str]:
        """:meth:`strata.Engine.store_vectors`: each item is sent with its ``"vector"`` as base64 float32 (exact)."""
        arr, count, _ = _as_rows(vectors)
        rows = [_vector_text(row) for row in arr.reshape(count, -1)]
        given = [_memory_item(i) for i in items] if items is not None else [{"content": ""} for _ in range(count)]
        if len(given) != count:
            raise InvalidArgument(f"store request has {len(given)} items but count is {count}")
        if count == 0:
            return []
        body = {"items": [{**item, "vector": row} for item, row in zip(given, rows)], "dedupe": False}
        return list(self._request("POST", "/v1/memories", body)["ids"])

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
        """:meth:`strata.Engine.recall`, by ``POST /v1/recall``."""
        _check_fields(query=query, k=k, filter=filter, scope=scope, category=category, track_access=track_access)
        _check_type(query, str, "query", optional=False)
        filter = _with_ids(filter, {"user_id": user_id, "agent_id": agent_id, "run_id": run_id})
        request = _recall_request(query, k, filter, scope, tiers, category)
        if track_access is not None:
            request["track_access"] = track_access
        answer = self._request("POST", "/v1/recall", request)
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
        """:meth:`strata.Engine.recall_vector`, by ``POST /v1/recall`` with ``"vector"`` (a numpy array is accepted)."""
        _check_fields(query=query, k=k, filter=filter, scope=scope, category=category, track_access=track_access)
        arr, _ = _as_query(vector)
        request = _recall_request(query, k, filter, scope, tiers, category)
        if track_access is not None:
            request["track_access"] = track_access
        request["vector"] = _vector_text(arr)
        answer = self._request("POST", "/v1/recall", request)
        return [Hit.from_json(h) for h in answer["hits"]]

    def get(self, id: str) -> Memory:
        """:meth:`strata.Engine.get`, by ``GET /v1/memories/{id}``; :class:`strata.NotFound` when there is none."""
        _check_type(id, str, "id", optional=False)
        return Memory.from_json(self._request("GET", f"/v1/memories/{self._segment(id)}"))

    def get_many(self, ids: Iterable[str]) -> list[Memory]:
        """:meth:`strata.Engine.get_many`, by ``POST /v1/list`` with ``ids`` (one request per 10,000 distinct ids).

        As Engine's: the memories in the order given, each once; ids with no memory, one the
        token may not see, or an expired one are left out. Nothing is counted as an access.
        """
        if isinstance(ids, (str, bytes)):
            raise TypeError("ids must be an iterable of str, not one str: get_many([id]) reads one memory")
        wanted = list(ids)
        for i, one in enumerate(wanted):
            _check_type(one, str, f"ids[{i}]", optional=False)
        distinct = list(dict.fromkeys(wanted))
        found: dict[str, Memory] = {}
        for start in range(0, len(distinct), _LIST_PAGE):
            found.update((m.id, m) for m in self._list({"ids": distinct[start:start + _LIST_PAGE]})[0])
        return [found[i] for i in distinct if i in found]

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
        """:meth:`strata.Engine.get_all`, by ``POST /v1/list``: what the token sees, oldest first.

        The server answers at most 10,000 memories a request, so a larger ``limit`` (or none)
        reads page after page (``offset``); a memory stored or forgotten meanwhile can shift
        the pages by one, as paging by offset does on any store.
        """
        _check_fields(filter=filter, scope=scope, limit=limit, offset=offset, category=category)
        filter = _with_ids(filter, {"user_id": user_id, "agent_id": agent_id, "run_id": run_id})
        request = _recall_request(None, None, filter, scope, tiers, category)
        if not (0 <= offset <= _INT32_MAX and (limit is None or 0 <= limit <= _INT32_MAX)):
            # Refused by the server's decoder exactly as Engine's refuses it: one request says why.
            request.update(_drop_none(limit=limit, offset=offset or None))
            return self._list(request)[0]
        memories: list[Memory] = []
        while True:
            want = _LIST_PAGE if limit is None else min(_LIST_PAGE, limit - len(memories))
            page = {**request, **_drop_none(limit=want, offset=(offset + len(memories)) or None)}
            got, total = self._list(page)
            memories.extend(got)
            done = len(got) < want or offset + len(memories) >= total
            if done or (limit is not None and len(memories) >= limit):
                return memories

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
        """:meth:`strata.Engine.count`, by ``POST /v1/count``: how many memories :meth:`get_all` answers."""
        _check_fields(filter=filter, scope=scope, category=category)
        filter = _with_ids(filter, {"user_id": user_id, "agent_id": agent_id, "run_id": run_id})
        request = _recall_request(None, None, filter, scope, tiers, category)
        return int(self._request("POST", "/v1/count", request)["total"])

    def embed(self, texts: Iterable[str | bytes]) -> np.ndarray:
        """:meth:`strata.Engine.embed`, by ``POST /v1/embed``: a float32 array of shape ``(len(texts), dimension)``.

        The texts are checked here as Engine checks them (the same exceptions, before anything
        is sent), then sent 512 at a time (the server's most a request) or fewer when they are
        long; each request is one embedder call on the server. The numbers travel as the exact
        values of the server's float32s, so the rows are the ones Engine answers on that store.
        """
        strings = []
        for i, data in enumerate(_embed_texts(texts, "Client")):
            try:
                strings.append(data.decode("utf-8"))
            except UnicodeDecodeError as bad:
                # The message of the library's check of a C string (Engine's), byte offset included.
                raise InvalidUTF8(f"text {i} is not valid UTF-8 (first bad byte at offset {bad.start})") from None
        rows: list[list[float]] = []
        dimension = 0
        for batch in _embed_batches(strings):
            answer = self._request("POST", "/v1/embed", {"texts": batch})
            dimension = int(answer["dimension"])
            rows.extend(answer["vectors"])
        return np.array(rows, dtype=np.float32).reshape(len(strings), dimension)

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
        """:meth:`strata.Engine.update`, by ``PATCH /memory/update`` (``PATCH /v1/memories/{id}``'s handler)."""
        _check_type(id, str, "id", optional=False)
        _check_fields(content=content, metadata=metadata, category=category, importance=importance, pinned=pinned,
                      visibility=visibility)
        request = _drop_none(
            id=id, content=content, metadata=dict(metadata) if metadata is not None else None, category=category,
            importance=importance, pinned=pinned, visibility=visibility,
        )
        # The id goes in the body (the handler of PATCH /v1/memories/{id}, at the path that takes
        # it there), so an id needing percent-encoding in a path reaches the server unchanged.
        return Memory.from_json(self._request("PATCH", "/memory/update", request))

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
        """:meth:`strata.Engine.forget`, by ``POST /v1/forget`` (the request Engine sends)."""
        _check_fields(id=id, filter=filter, scope=scope)
        _check_type(all, bool, "all", optional=False)
        if id is None:
            filter = _with_ids(filter, {"user_id": user_id, "agent_id": agent_id, "run_id": run_id})
        elif (user_id, agent_id, run_id) != (None, None, None):
            raise TypeError("forget takes an id or user_id / agent_id / run_id (with a filter), not both")
        if all and id is None and filter is None:
            filter = {}
        request = _drop_none(id=id, filter=dict(filter) if filter is not None else None, scope=scope, all=all or None)
        return list(self._request("POST", "/v1/forget", request)["forgotten"])

    def reset(self) -> int:
        """:meth:`strata.Engine.reset`: forgets every memory the token owns; returns how many."""
        return len(self.forget(all=True))

    def history(self, id: str) -> list[HistoryEntry]:
        """:meth:`strata.Engine.history`, by ``GET /v1/memories/{id}/history``."""
        _check_type(id, str, "id", optional=False)
        answer = self._request("GET", f"/v1/memories/{self._segment(id)}/history")
        return [HistoryEntry.from_json(e) for e in answer["history"]]

    def stats(self) -> dict[str, Any]:
        """:meth:`strata.Engine.stats`, by ``GET /v1/stats`` (a token of the root scope)."""
        return self._request("GET", "/v1/stats")  # type: ignore[no-any-return]

    def metabolize(self, *, now: _Time | None = None, dry_run: bool = False, moves: bool = True) -> dict[str, Any]:
        """:meth:`strata.Engine.metabolize`, by ``POST /v1/metabolize`` (an admin token of the root scope)."""
        request: dict[str, Any] = {"dry_run": bool(dry_run), "moves": bool(moves)}
        if now is not None:
            request["now"] = format_time(now) if isinstance(now, datetime) else now
        return self._request("POST", "/v1/metabolize", request)  # type: ignore[no-any-return]

    def snapshot(self, name: str) -> Snapshot:
        """:meth:`strata.Engine.snapshot`, by ``POST /v1/snapshots`` (an admin token of the root scope)."""
        return Snapshot.from_json(self._request("POST", "/v1/snapshots", {"name": name}))

    def snapshots(self) -> list[Snapshot]:
        """:meth:`strata.Engine.snapshots`, by ``GET /v1/snapshots``."""
        return [Snapshot.from_json(s) for s in self._request("GET", "/v1/snapshots")["snapshots"]]

    def rollback(self, name: str) -> Rollback:
        """:meth:`strata.Engine.rollback`, by ``POST /v1/snapshots/{name}/rollback``."""
        _check_type(name, str, "name", optional=False)
        return Rollback.from_json(self._request("POST", f"/v1/snapshots/{self._segment(name)}/rollback"))

    def delete_snapshot(self, name: str) -> None:
        """:meth:`strata.Engine.delete_snapshot`, by ``DELETE /v1/snapshots/{name}``."""
        _check_type(name, str, "name", optional=False)
        self._request("DELETE", f"/v1/snapshots/{self._segment(name)}")

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
        """:meth:`strata.Engine.anomalies`, by ``POST /v1/anomalies``."""
        request = _recall_request(None, None, filter, scope, tiers, category)
        request.update(_drop_none(threshold=threshold, limit=limit))
        return [Anomaly.from_json(a) for a in self._request("POST", "/v1/anomalies", request)["anomalies"]]

    @property
    def dimension(self) -> int:
        """:attr:`strata.Engine.dimension`, read from :meth:`stats`."""
        return int(self.stats()["dimension"])

    # ---- events (WebSocket /v1/events) ----------------------------------------------------------

    def events(self, *, since: int | None = None) -> "EventStream":
        """The server's events as they happen, over the WebSocket ``/v1/events``: iterate it for
        :class:`strata.Event` (each with its ``seq``); close it (or use it as a context manager)
        when done.

        Every event the token may see that the engine publishes after this call begins is
        delivered, in order: the stream starts after the server's newest event at that moment
        (``/v1/health``'s ``events``), or after ``since`` when given, from the events the server
        still keeps (``--event-ring``). A stream the server drops for falling behind (close
        4008) reconnects on its own from the last ``seq`` it delivered (``resumed`` counts it).
        Iteration ends when the server stops (it closes with 1000 or 1001).

        Raises:
            Unauthorized, Forbidden: the token may not read (at once, before any event).
            ServerError: with ``status`` ``"GONE"`` and ``code`` 4010, on iteration, when the
                events after ``since`` are no longer kept.
            ServerUnreachable: the server cannot be reached, or the connection broke.
        """
        _check_type(since, int, "since")
        if since is not None and since < 0:
            raise InvalidArgument(f"since must be an event sequence number (0 or more), got {since}")
        try:
            self._request("GET", "/v1/events")
        except ServerError as refusal:
            # The route answers 426 to a plain GET once the token may read: the check of a
            # refusal comes here, as an exception, rather than as a close code on first read.
            if refusal.status != "UPGRADE_REQUIRED":
                raise
        if since is None:
            since = int(self._request("GET", "/v1/health")["events"])
        return EventStream(self, since)

    def subscribe(self, callback: EventCallback, *, since: int | None = None) -> int:
        """:meth:`strata.Engine.subscribe`: calls ``callback(event)`` for every event the token may see,
        on a thread of its own; returns a token for :meth:`unsubscribe`.

        The events of :meth:`events` (``since`` as there). Exceptions raised by the callback
        are reported through ``sys.unraisablehook`` and otherwise ignored, as Engine's are; so is
        the error that ends a subscription (the server unreachable, events no longer kept).
        The subscription ends when the server stops, or at :meth:`unsubscribe` or :meth:`close`.
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        stream = self.events(since=since)
        token = next(self._tokens)

        def deliver() -> None:
            try:
                for event in stream:
                    try:
                        callback(event)
                    except Exception as error:  # noqa: BLE001  (reported, as Engine's callbacks are)
                        sys.unraisablehook(_Unraisable(error, f"Exception ignored in strata.Client event callback {callback!r}"))
            except Exception as error:  # noqa: BLE001
                if not stream.closed:
                    sys.unraisablehook(_Unraisable(error, f"strata.Client subscription {token} of {self.url} ended"))
            finally:
                with self._lock:
                    self._subscriptions.pop(token, None)

        thread = threading.Thread(target=deliver, name=f"strata.Client events {token}", daemon=True)
        with self._lock:
            self._subscriptions[token] = (stream, thread)
        thread.start()
        return token

    def unsubscribe(self, token: int) -> None:
        """:meth:`strata.Engine.unsubscribe`: ends a subscription; afterwards its callback is not running
        (unless this is called from that callback) and is never called again.

        Raises :class:`strata.NotFound` for an unknown token (or one whose subscription ended).
        """
        with self._lock:
            found = self._subscriptions.pop(token, None)
        if found is None:
            raise NotFound(f"no subscription with token {token}")
        stream, thread = found
        stream.close()
        if thread is not threading.current_thread():
            thread.join()

    # ---- plumbing -------------------------------------------------------------------------------

    def _list(self, request: dict[str, Any]) -> tuple[list[Memory], int]:
        """``POST /v1/list``: a page of memories and the total, as Engine's ``_list``."""
        answer = self._request("POST", "/v1/list", request)
        return [Memory.from_json(m) for m in answer["memories"]], int(answer["total"])

    @staticmethod
    def _segment(text: str) -> str:
        """``text`` as one path segment: what RFC 3986 allows in one (``pchar``) as is, the rest
        (``/``, ``?``, ``#``, space, ``%``, non-ASCII) percent-encoded."""
        return urllib.parse.quote(text, safe="!$&'()*+,;=:@-._~")

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=self._timeout)

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        """Sends one request and returns the parsed answer; raises the error the answer holds."""
        data = None
        headers = dict(self._headers)
        if body is not None:
            # As Engine's _json_bytes: lone surrogates reach the server, which names them.
            data = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
            headers["Content-Type"] = "application/json"
        target = self._prefix + path
        with self._lock:
            if self._closed:
                raise ServerUnreachable(f"this strata.Client of {self.url} is closed")
            status, payload = self._exchange(method, target, data, headers)
        return self._answer(method, path, status, payload)

    def _exchange(self, method: str, target: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        # A kept-alive connection the server closed while idle fails as soon as it is written to,
        # before the server reads a byte of the request: that one failure is retried once on a
        # new connection. A failure on a new connection is the server's.
        for attempt in (0, 1):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = self._connect()
            try:
                self._connection.request(method, target, body=data, headers=headers)
                response = self._connection.getresponse()
                payload = response.read()
                if response.will_close:
                    self._connection.close()
                    self._connection = None
                return response.status, payload
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self._connection.close()
                self._connection = None
                if reused and attempt == 0:
                    continue
                raise ServerUnreachable(f"{method} {self.url}{target}: the connection broke before an answer: {error}") from error
            except (OSError, http.client.HTTPException) as error:
                self._connection.close()
                self._connection = None
                if isinstance(error, (socket.timeout, TimeoutError)):
                    raise ServerUnreachable(
                        f"{method} {self.url}{target}: no answer within {self._timeout} s (Client(timeout=...))"
                    ) from error
                raise ServerUnreachable(f"cannot reach the Strata server at {self.url}: {error}") from error
        raise AssertionError("unreachable")

    def _answer(self, method: str, path: str, status: int, payload: bytes) -> Any:
        try:
            answer = json.loads(payload) if payload else None
        except ValueError:
            answer = None
        if 200 <= status < 300:
            if answer is None and payload:
                raise ServerError(f"{method} {path}: the server answered {status} with no JSON", code=status, status=f"HTTP_{status}")
            return answer
        error = answer.get("error") if isinstance(answer, dict) else None
        if not isinstance(error, dict) or not isinstance(error.get("code"), int):
            text = payload[:200].decode("utf-8", "replace")
            raise ServerError(f"{method} {path}: HTTP {status} from {self.url}: {text}", code=status, status=f"HTTP_{status}")
        code, name, message = error["code"], str(error.get("status", "")), str(error.get("message", ""))
        if code < 0:  # an engine error: the library's status, so Engine's class
            raise error_for(code, message, name)
        raise HTTP_ERROR_CLASSES.get(name, ServerError)(message, code, name)



def _embed_batches(texts: list[str]) -> Iterator[list[str]]:
    """``texts`` in runs of at most ``_EMBED_BATCH`` texts and ``_EMBED_BATCH_BYTES`` bytes of
    UTF-8 (a longer text alone), in order; one empty run for no texts, whose answer still gives
    the dimension."""
    batch: list[str] = []
    size = 0
    for text in texts:
        length = len(text.encode("utf-8"))
        if batch and (len(batch) == _EMBED_BATCH or size + length > _EMBED_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(text)
        size += length
    yield batch


class EventStream:
    """The events of a ``strata serve`` server, as :meth:`Client.events` opens them: an iterator of
    :class:`strata.Event`, each with its ``seq``.

    ``last_seq`` is the sequence number of the last event delivered (the ``since`` it started
    from before the first); ``resumed`` how many times it reconnected after the server dropped
    it for falling behind. One thread iterates; :meth:`close` may be called from any thread, and
    wakes an iteration waiting for the next event (which then ends).
    """

    def __init__(self, client: Client, since: int) -> None:
        self._client = client
        self.last_seq = since
        self.resumed = 0
        self._closed = False
        self._lock = threading.Lock()
        self._socket: _websocket.WebSocket | None = None
        self._connect()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called or the server ended the stream."""
        return self._closed

    def _connect(self) -> None:
        c = self._client
        headers = {k: v for k, v in c._headers.items() if k == "Authorization"}
        target = f"{c._prefix}/v1/events?since={self.last_seq}"
        try:
            ws = _websocket.WebSocket(c._host, c._port or (443 if c._https else 80), target, headers,
                                      tls=c._https, timeout=c._timeout)
        except _websocket.HandshakeRefused as refused:
            c._answer("GET", "/v1/events", refused.status, refused.body)  # raises the error the answer holds
            raise ServerError(f"GET {c.url}/v1/events: the server refused the WebSocket upgrade (HTTP {refused.status})",
                              code=refused.status, status=f"HTTP_{refused.status}") from None
        except OSError as error:
            raise ServerUnreachable(f"cannot reach the Strata server at {c.url}: {error}") from error
        with self._lock:
            if self._closed:
                ws.close()
                return
            self._socket = ws

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        while True:
            ws = self._socket
            if self._closed or ws is None:
                raise StopIteration
            try:
                text = ws.receive()
            except _websocket.Closed as closed:
                if self._closed:
                    raise StopIteration from None
                if closed.code == _CLOSE_TOO_SLOW:
                    self.resumed += 1
                    self._connect()
                    continue
                self._closed = True
                if closed.code in (1000, 1001):  # the server is stopping
                    raise StopIteration from None
                raise self._error(closed) from None
            event = Event.from_json(json.loads(text))
            if event.seq is not None:
                self.last_seq = event.seq
            return event

    def _error(self, closed: _websocket.Closed) -> Exception:
        url = self._client.url
        if closed.code == _CLOSE_GONE:
            return ServerError(f"{url}/v1/events: {closed.reason}", code=closed.code, status="GONE")
        if 4000 <= closed.code < 5000:  # a refusal: 4000 + the HTTP status a request would get
            status = closed.code - 4000
            cls = {401: Unauthorized, 403: Forbidden, 422: InvalidArgument, 503: ServerUnavailable}.get(status)
            if cls is InvalidArgument:
                return InvalidArgument(closed.reason)
            if cls is not None:
                return cls(closed.reason, status, {401: "UNAUTHORIZED", 403: "FORBIDDEN", 503: "UNAVAILABLE"}[status])
            return ServerError(f"{url}/v1/events: {closed.reason}", code=status, status=f"HTTP_{status}")
        if closed.code == _websocket.ABNORMAL:
            return ServerUnreachable(f"{url}/v1/events: the connection broke: {closed.reason}")
        return ServerError(f"{url}/v1/events: closed with {closed.code}: {closed.reason}", code=closed.code,
                           status="WEBSOCKET_CLOSED")

    def close(self) -> None:
        """Ends the stream (a close frame to the server). Calling it again does nothing."""
        with self._lock:
            self._closed = True
            ws, self._socket = self._socket, None
        if ws is not None:
            ws.close()

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<strata.EventStream {self._client.url} after {self.last_seq}{' closed' if self._closed else ''}>"


class _Unraisable:
    """What ``sys.unraisablehook`` takes (the shape of ``sys.UnraisableHookArgs``)."""

    def __init__(self, error: BaseException, message: str) -> None:
        self.exc_type = type(error)
        self.exc_value = error
        self.exc_traceback = error.__traceback__
        self.err_msg = message
        self.object = None
