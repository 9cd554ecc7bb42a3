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

import http.client
import json
import socket
import threading
import urllib.parse
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from .engine import (
    Engine,
    _as_query,
    _as_rows,
    _check_fields,
    _check_type,
    _drop_none,
    _memory_item,
    _stored_ids,
    _Time,
    _with_ids,
)
from .errors import HTTP_ERROR_CLASSES, InvalidArgument, ServerError, ServerUnreachable, error_for
from .models import Anomaly, HistoryEntry, Hit, Memory, Rollback, Snapshot, StoredId, format_time

__all__ = ["Client"]

# The verbs whose arguments and docstrings are Engine's: each Client method below builds the
# request the Engine method builds and sends it to the route that runs the same engine verb.
_recall_request = Engine._recall_request
_mem0 = Engine._mem0


class Client:
    """A ``strata serve`` server, spoken to with the methods of :class:`strata.Engine`.

    Args:
        url: the server, e.g. ``"http://127.0.0.1:7700"`` (a path prefix is kept, for a server
            behind a reverse proxy; ``https://`` is accepted).
        token: the secret of ``strata token create`` (sent as ``Authorization: Bearer``); None
            for a server without a token file.
        timeout: seconds to wait for the connection and for each answer.

    Offers what the server offers: :meth:`store`, :meth:`upsert`, :meth:`store_many`,
    :meth:`store_vectors`, :meth:`recall`, :meth:`recall_vector`, :meth:`get`, :meth:`update`,
    :meth:`forget`, :meth:`reset`, :meth:`history`, :meth:`stats`, :meth:`metabolize`,
    :meth:`snapshot`, :meth:`snapshots`, :meth:`rollback`, :meth:`delete_snapshot`,
    :meth:`anomalies`; each takes :class:`Engine`'s arguments and answers its types.

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

    # ---- lifetime -------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Closes the connection. Calling it again does nothing; the server and its store stay as they are."""
        with self._lock:
            self._closed = True
            if self._connection is not None:
                self._connection.close()
                self._connection = None

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
        """:meth:`strata.Engine.store_vectors`: each item is sent with its ``"vector"`` (float32 values, exact in JSON)."""
        arr, count, _ = _as_rows(vectors)
        rows = arr.reshape(count, -1).tolist()
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
        # float32 -> Python float is exact, and json writes a float so it reads back the same.
        request["vector"] = arr.tolist()
        answer = self._request("POST", "/v1/recall", request)
        return [Hit.from_json(h) for h in answer["hits"]]

    def get(self, id: str) -> Memory:
        """:meth:`strata.Engine.get`, by ``GET /v1/memories/{id}``; :class:`strata.NotFound` when there is none."""
        _check_type(id, str, "id", optional=False)
        return Memory.from_json(self._request("GET", f"/v1/memories/{self._segment(id)}"))

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

    # ---- plumbing -------------------------------------------------------------------------------

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

