"""The value types answered by the engine: :class:`Memory`, :class:`Hit`, :class:`HistoryEntry`,
:class:`Snapshot`, :class:`Rollback`, :class:`Anomaly`, :class:`Event`, :class:`StoredId`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

__all__ = ["Memory", "Hit", "HistoryEntry", "Snapshot", "Rollback", "Anomaly", "Event", "StoredId", "format_time", "parse_time"]


def parse_time(value: str | None) -> datetime | None:
    """An ISO-8601 time from the library ("2026-11-22T03:59:00.000Z") as an aware UTC datetime."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_time(value: datetime | str) -> str:
    """A time for a request: a datetime (naive means UTC) as ISO-8601 UTC with milliseconds and 'Z'.

    A str is passed through unchanged: the engine validates it.
    """
    if isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        raise TypeError(f"a time must be a datetime or an ISO-8601 str, not {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Memory:
    """One stored memory, as answered by :meth:`strata.Engine.get`, ``update`` and ``history``.

    Times are timezone-aware UTC datetimes; ``expires_at`` is None when the memory never expires.
    """

    id: str
    content: str
    metadata: dict[str, Any] = field(hash=False)
    scope: str
    visibility: str
    tier: str
    category: str
    importance: float
    pinned: bool
    created_at: datetime
    updated_at: datetime
    accessed_at: datetime
    access_count: int
    model: str
    expires_at: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Memory":
        """Builds a Memory from the library's memory object (unknown keys are ignored)."""
        return cls(
            id=data["id"],
            content=data["content"],
            metadata=dict(data.get("metadata") or {}),
            scope=data.get("scope", ""),
            visibility=data.get("visibility", "local"),
            tier=data.get("tier", ""),
            category=data.get("category", ""),
            importance=float(data.get("importance", 0.0)),
            pinned=bool(data.get("pinned", False)),
            created_at=parse_time(data["created_at"]),  # type: ignore[arg-type]
            updated_at=parse_time(data["updated_at"]),  # type: ignore[arg-type]
            accessed_at=parse_time(data["accessed_at"]),  # type: ignore[arg-type]
            access_count=int(data.get("access_count", 0)),
            model=data.get("model", ""),
            expires_at=parse_time(data.get("expires_at")),
        )


@dataclass(frozen=True)
class Hit:
    """One recall result, best first.

    ``scores`` holds each part of the score: ``vector`` and ``keyword`` (None when
    that search did not find the memory), ``fused`` (the two lists fused, ``recall.fusion``),
    ``recency``, ``importance`` and ``access``; ``score`` is the weighted total.
    """

    id: str
    content: str
    metadata: dict[str, Any] = field(hash=False)
    scope: str
    tier: str
    category: str
    score: float
    scores: dict[str, float | None] = field(hash=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Hit":
        raw = data.get("scores") or {}
        scores: dict[str, float | None] = {
            key: (None if raw.get(key) is None else float(raw[key]))
            for key in ("vector", "keyword", "fused", "recency", "importance", "access")
        }
        for key, value in raw.items():  # parts a newer library may add
            scores.setdefault(key, value)
        return cls(
            id=data["id"],
            content=data["content"],
            metadata=dict(data.get("metadata") or {}),
            scope=data.get("scope", ""),
            tier=data.get("tier", ""),
            category=data.get("category", ""),
            score=float(data["score"]),
            scores=scores,
        )


@dataclass(frozen=True)
class HistoryEntry:
    """One change to a memory: ``event`` is "ADD", "UPDATE" or "DELETE"; ``old``/``new`` may be None."""

    event: str
    memory_id: str
    at: datetime
    old: Memory | None
    new: Memory | None
    reason: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "HistoryEntry":
        old, new = data.get("old"), data.get("new")
        return cls(
            event=data["event"],
            memory_id=data["memory_id"],
            at=parse_time(data["at"]),  # type: ignore[arg-type]
            old=Memory.from_json(old) if old is not None else None,
            new=Memory.from_json(new) if new is not None else None,
            reason=data.get("reason", ""),
        )


@dataclass(frozen=True)
class Snapshot:
    """A named snapshot of every memory, as :meth:`strata.Engine.snapshot` and ``snapshots`` answer it.

    ``memories`` is how many it holds; ``bytes`` its size on disk, None when the
    store keeps it in memory (the in-memory store).
    """

    name: str
    created_at: datetime
    memories: int
    bytes: int | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Snapshot":
        size = data.get("bytes")
        return cls(
            name=data["name"],
            created_at=parse_time(data["created_at"]),  # type: ignore[arg-type]
            memories=int(data.get("memories", 0)),
            bytes=None if size is None else int(size),
        )


@dataclass(frozen=True)
class Rollback:
    """What :meth:`strata.Engine.rollback` changed: the ids it brought back (``added``),
    took away (``removed``) and changed back (``changed``). Each got one history row."""

    snapshot: str
    added: list[str] = field(hash=False)
    removed: list[str] = field(hash=False)
    changed: list[str] = field(hash=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Rollback":
        return cls(
            snapshot=data["snapshot"],
            added=list(data.get("added", [])),
            removed=list(data.get("removed", [])),
            changed=list(data.get("changed", [])),
        )


@dataclass(frozen=True)
class Anomaly:
    """One memory that stands out, as answered by :meth:`strata.Engine.anomalies`, highest score first.

    ``score`` is the isolation-forest anomaly score in (0, 1]: near 1 stands out, about 0.5 or
    below is ordinary.
    """

    id: str
    content: str
    metadata: dict[str, Any] = field(hash=False)
    scope: str
    tier: str
    category: str
    score: float

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Anomaly":
        return cls(
            id=data["id"],
            content=data["content"],
            metadata=dict(data.get("metadata") or {}),
            scope=data.get("scope", ""),
            tier=data.get("tier", ""),
            category=data.get("category", ""),
            score=float(data["score"]),
        )


@dataclass(frozen=True)
class Event:
    """One event of an engine, as :meth:`strata.Engine.subscribe` delivers it.

    ``type`` is one of ``"memory.stored"``, ``"memory.updated"`` (by :meth:`~strata.Engine.update`
    or an upsert), ``"memory.deduplicated"`` (a store merged into a near-identical memory),
    ``"memory.forgotten"``, ``"memory.migrated"`` and ``"memory.pruned"`` (a metabolize cycle
    moved or removed it), ``"lifecycle.metabolized"`` (a cycle was committed: ``memory_id`` is
    ``"strata:lifecycle"``, ``memory`` None), ``"memory.rolled_back"`` (``memory`` None when the
    rollback removed it) and ``"anomaly.detected"`` (with ``score`` in (0, 1]).

    ``at`` is an aware UTC datetime; ``memory`` the memory as the change left it; ``score``
    None but for ``anomaly.detected``. ``seq`` is the server's number for the event (from 1, in
    the order the engine published them) when it came through :meth:`strata.Client.events` or
    :meth:`strata.Client.subscribe`; None from :meth:`strata.Engine.subscribe`.
    """

    type: str
    memory_id: str
    at: datetime
    memory: Memory | None
    score: float | None = None
    seq: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Event":
        memory = data.get("memory")
        score = data.get("score")
        return cls(
            type=data["type"],
            memory_id=data["memory_id"],
            at=parse_time(data["at"]),  # type: ignore[arg-type]
            memory=Memory.from_json(memory) if memory is not None else None,
            score=None if score is None else float(score),
            seq=int(data["seq"]) if data.get("seq") is not None else None,
        )


class StoredId(str):
    """The id :meth:`strata.Engine.store` answers: a ``str`` that also says what the store did.

    ``deduplicated`` is True when the text was near-identical to a memory already in the same
    scope, which was updated (content replaced, metadata merged) instead of adding a copy: the id
    is that memory's. It compares, hashes, prints and serializes as the plain id.
    """

    __slots__ = ("deduplicated",)
    deduplicated: bool

    def __new__(cls, id: str, deduplicated: bool = False) -> "StoredId":
        self = super().__new__(cls, id)
        self.deduplicated = deduplicated
        return self
