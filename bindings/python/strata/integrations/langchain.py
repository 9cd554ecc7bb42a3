"""LangChain on Strata: a ``VectorStore`` and a chat message history kept as Strata memories.

Needs ``langchain-core`` (``pip install langchain-core``); ``import strata`` does not.

:class:`StrataVectorStore` keeps each LangChain ``Document`` as one memory: ``page_content`` is
the memory's content, ``metadata`` its metadata (searchable with filters), ``id`` its id. Strata
embeds the texts with the engine's own embedder, or a LangChain ``Embeddings`` computes the
vectors and Strata stores and searches those::

    from strata.integrations.langchain import StrataVectorStore

    store = StrataVectorStore(strata.Engine({"embedder": {"backend": "minilm", "plugin": "minilm"}}))
    store.add_texts(["Alice prefers green tea", "Bob takes the night train"], [{"user": "alice"}, {"user": "bob"}])
    store.similarity_search("what does alice drink?", k=1, filter={"user": "alice"})

:class:`StrataChatMessageHistory` keeps a conversation as memories in one scope of the agent tree
(``chat:<session_id>`` by default), in order::

    history = StrataChatMessageHistory("session-42", engine)
    history.add_messages([HumanMessage("hi"), AIMessage("hello")])
    history.messages            # [HumanMessage("hi"), AIMessage("hello")]
"""

from __future__ import annotations

import copy
import os
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar, Union

import numpy as np

try:
    from langchain_core.chat_history import BaseChatMessageHistory
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict
    from langchain_core.vectorstores import VectorStore
except ImportError as _error:  # pragma: no cover - exercised by a test in a subprocess
    raise ImportError(
        "strata.integrations.langchain needs langchain-core, which is not installed: "
        "pip install langchain-core"
    ) from _error

from ..client import Client
from ..engine import DEFAULT_STORE, STORE_FILE, Engine
from ..errors import NotFound
from ..models import Hit, Memory

__all__ = [
    "StrataVectorStore",
    "StrataChatMessageHistory",
    "translate_filter",
    "session_scope",
    "SUPPORTED_FILTER_OPERATORS",
]

#: What a :class:`StrataVectorStore` or :class:`StrataChatMessageHistory` is backed by: an
#: engine in this process, or a ``strata serve`` server through :class:`strata.Client`.
Backend = Union[Engine, Client]

VST = TypeVar("VST", bound="StrataVectorStore")

#: The operators a LangChain filter may use: Strata's own (README, "Metadata filters"), plus
#: ``$between`` (PGVector's), which is translated into ``$gte`` and ``$lte``.
SUPPORTED_FILTER_OPERATORS: tuple[str, ...] = (
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$contains", "$between",
    "$and", "$or", "$not",
)
_FIELD_OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$contains"})

# The engine a StrataVectorStore makes for itself ranks by vector similarity alone, as
# LangChain's similarity search means it: no recency, importance or access weight, the keyword
# list weighted 0, and searches that do not count as accesses. De-duplication is off: LangChain
# expects one document per text added (ids given by the caller are never de-duplicated anyway).
_SIMILARITY_RECALL: dict[str, Any] = {
    "track_access": False,
    "weights": {"relevance": 1, "recency": 0, "importance": 0, "access": 0},
    "fusion": {
        name: {"method": "scores", "keyword_weight": 0, "keyword_saturation": 1}
        for name in ("hashing", "minilm", "default")
    },
}
# The hashing embedder's smallest dimension (HashingEmbedder.swift: 8...65536). An engine made for
# a LangChain Embeddings takes the embedder only for its dimension; shorter vectors are padded.
_MIN_DIMENSION = 8
# The fields of a Strata store request add_texts passes on to every memory it stores.
_STORE_FIELDS = ("visibility", "category", "importance", "pinned", "tier", "ttl_seconds", "at")


def translate_filter(filter: Mapping[str, Any]) -> dict[str, Any]:
    """A LangChain metadata filter as Strata's filter JSON, checked operator by operator.

    LangChain has no single filter language; the dict filters of its common stores (Chroma,
    PGVector, Pinecone, MongoDB) share one shape, which is Strata's: ``{"key": value}`` for
    equality, ``{"key": {"$op": value}}``, ``{"$and": [...]}``, ``{"$or": [...]}``,
    ``{"$not": {...}}``. Supported operators: :data:`SUPPORTED_FILTER_OPERATORS`.
    ``{"key": {"$between": [low, high]}}`` becomes ``{"$gte": low, "$lte": high}``.
    ``$contains`` is Strata's: an element of an array, or a substring of a string.
    A key is a dotted path into nested metadata (``"profile.city"``), as in Strata.

    Raises:
        TypeError: the filter is not a dict (a callable filter, as ``InMemoryVectorStore``
            takes, cannot run inside the engine), or an operator's operand has the wrong shape.
        ValueError: an operator Strata does not have (``$like``, ``$ilike``, ``$regex``,
            ``$text``, ...), named with its path and the supported list.
    """
    if not isinstance(filter, Mapping):
        raise TypeError(
            f"a Strata filter must be a dict such as {{'user': 'alice'}} or {{'n': {{'$gte': 3}}}}, "
            f"not {type(filter).__name__}: the engine evaluates filters itself, so a Python callable cannot be one"
        )
    return _translate_condition(filter, "filter")


def _unsupported(operator: str, where: str) -> ValueError:
    return ValueError(
        f"{where} uses {operator}, which Strata's filters do not support; "
        f"supported: {', '.join(SUPPORTED_FILTER_OPERATORS)}"
    )


def _translate_condition(condition: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in condition.items():
        if not isinstance(key, str):
            raise TypeError(f"{where} has a key of type {type(key).__name__}; filter keys are str")
        path = f"{where}[{key!r}]"
        if key in ("$and", "$or"):
            if not isinstance(value, (list, tuple)) or not all(isinstance(c, Mapping) for c in value):
                raise TypeError(f"{path} must be a list of conditions (dicts)")
            out[key] = [_translate_condition(c, f"{path}[{i}]") for i, c in enumerate(value)]
        elif key == "$not":
            if not isinstance(value, Mapping):
                raise TypeError(f"{path} must be a condition (a dict)")
            out[key] = _translate_condition(value, path)
        elif key.startswith("$"):
            raise _unsupported(key, where)
        elif isinstance(value, Mapping) and any(isinstance(k, str) and k.startswith("$") for k in value):
            out[key] = _translate_operators(value, path)
        else:
            out[key] = value
    return out


def _translate_operators(operators: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for operator, operand in operators.items():
        if operator == "$between":
            if not isinstance(operand, (list, tuple)) or len(operand) != 2:
                raise TypeError(f"{where}['$between'] must be [low, high], got {operand!r}")
            out["$gte"], out["$lte"] = operand[0], operand[1]
        elif operator in _FIELD_OPERATORS:
            if operator in ("$in", "$nin"):
                if not isinstance(operand, (list, tuple)):
                    raise TypeError(f"{where}[{operator!r}] must be a list of values, got {operand!r}")
                operand = list(operand)
            out[operator] = operand
        elif not isinstance(operator, str) or not operator.startswith("$"):
            raise TypeError(f"{where} mixes operators and the plain key {operator!r}; give one or the other")
        else:
            raise _unsupported(operator, where)
    return out


def _cosine_relevance(similarity: float) -> float:
    """A cosine similarity in [-1, 1] as a relevance in [0, 1] (1 identical, 0 opposite)."""
    return min(1.0, max(0.0, (1.0 + similarity) / 2.0))


def _open_backend(engine: Backend | None, path: str | os.PathLike[str] | None, config: dict[str, Any] | None) -> tuple[Backend, bool]:
    """The engine to use and whether it is ours to close."""
    if engine is not None:
        if path is not None:
            raise TypeError("give an engine or a path, not both")
        if not isinstance(engine, (Engine, Client)):
            raise TypeError(f"engine must be a strata.Engine or strata.Client, not {type(engine).__name__}")
        return engine, False
    return Engine(config, path=path), True


class StrataVectorStore(VectorStore):
    """A LangChain ``VectorStore`` whose documents are the memories of a Strata engine.

    Each document is one memory: ``page_content`` its content, ``metadata`` its metadata,
    ``id`` its id (yours, or a new UUID). Adding a document with an id that is already there
    replaces that memory (Strata's upsert: its history gains an UPDATE).

    Two ways to embed:

    - ``embedding=None``: Strata embeds with the engine's configured embedder (hashing by
      default, ``{"embedder": {"backend": "minilm", "plugin": "minilm"}}`` for sentence
      embeddings); queries are embedded the same way.
    - a LangChain ``Embeddings``: it embeds documents and queries, and Strata stores and
      searches those vectors (``Engine.store_vectors`` and ``recall_vector``; no Strata
      embedder runs). The engine's dimension must be the embeddings' dimension. Without an
      engine, one is made in memory for that dimension (one ``embed_query`` call finds it);
      vectors shorter than 8 floats (the engine's least dimension) are padded with zeros, which
      changes no cosine, dot product or distance.

    Searches are by vector: the query's vector against the stored ones, ``k`` nearest, with an
    optional metadata filter (:func:`translate_filter`). A :class:`strata.Client` without an
    ``Embeddings`` cannot embed a query alone, so it asks the server's hybrid recall (vector and
    BM25) with the query text; a hit found by keywords alone then scores 0.0.
    Results come in the engine's recall order: an engine this class makes ranks by vector
    similarity alone; an engine you pass ranks as its ``recall`` configuration says (by default
    also a little by recency, importance and access count). Searches do not count as accesses
    unless ``track_access=True``.

    Scores (``similarity_search_with_score``) are the vector part of each hit, Strata's
    ``hit.scores["vector"]``: the cosine similarity for the default cosine metric (higher is
    closer). ``similarity_search_with_relevance_scores`` maps it to [0, 1] as ``(1 + s) / 2``;
    for another metric give ``relevance_score_fn``.

    Not supported: maximal marginal relevance search (hits do not carry their vectors), callable
    filters, and the filter operators :func:`translate_filter` refuses.

    Args:
        engine: a :class:`strata.Engine` or :class:`strata.Client`. None: a new engine, from
            ``path`` (a store folder, as :func:`strata.open`) or in memory, closed by
            :meth:`close`.
        embedding: a LangChain ``Embeddings``, or None to let Strata embed.
        path: a store folder for the engine this class makes (``strata.open(path, config)``): a
            new folder gets ``config``; a folder that exists opens as its ``strata.json`` says.
        config: the configuration of the engine this class makes (default: the embedded
            default, ranking by similarity alone; with ``embedding``, an engine of its
            dimension; with ``path``, SQLite in the folder).
        scope: the agent-tree node the documents are stored at and searched as (default: the
            root, every memory in view).
        track_access: whether searches count as accesses of their hits (Strata's
            ``track_access``), which raises their later scores where recall weighs access.
        relevance_score_fn: maps a score to a relevance in [0, 1].

    The methods are thread-safe (the engine is); the async ones run the sync ones in the
    default executor (LangChain's ``run_in_executor``).
    """

    def __init__(
        self,
        engine: Backend | None = None,
        embedding: Embeddings | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        config: Mapping[str, Any] | None = None,
        scope: str | None = None,
        track_access: bool = False,
        relevance_score_fn: Callable[[float], float] | None = None,
    ) -> None:
        if embedding is not None and not isinstance(embedding, Embeddings):
            raise TypeError(f"embedding must be a LangChain Embeddings or None, not {type(embedding).__name__}")
        if scope is not None and not isinstance(scope, str):
            raise TypeError(f"scope must be str or None, not {type(scope).__name__}")
        self._embedding = embedding
        self._scope = scope
        self._track_access = bool(track_access)
        self._relevance_score_fn = relevance_score_fn
        self._pad_to: int | None = None
        dimension: int | None = None
        if engine is None and embedding is not None:
            dimension = len(embedding.embed_query("Strata: the dimension of this embedding"))
        # A store folder that exists already says what it is (strata.json): it opens by its path alone.
        existing = path is not None and (Path(os.fspath(path)) / STORE_FILE).exists()
        if engine is None and config is None and not existing:
            config = {"dedupe": {"enabled": False}, "recall": _SIMILARITY_RECALL}
            if path is not None:  # a store folder persists: strata.open's SQLite store
                config["store"] = copy.deepcopy(DEFAULT_STORE["store"])
            if dimension is not None:
                config["embedder"] = {"backend": "hashing", "options": {"dimension": max(dimension, _MIN_DIMENSION)}}
        self._engine, self._owned = _open_backend(engine, path, dict(config) if config is not None else None)
        if dimension is not None and dimension < _MIN_DIMENSION:
            # Zero-padding an embedding too short for the engine changes no cosine, dot product or
            # distance; any other difference of dimension is the engine's DimensionMismatch.
            self._pad_to = self._engine.dimension

    # ---- lifetime -------------------------------------------------------------------------------

    @property
    def engine(self) -> Backend:
        """The :class:`strata.Engine` (or :class:`strata.Client`) holding the documents."""
        return self._engine

    @property
    def embeddings(self) -> Embeddings | None:
        """The LangChain ``Embeddings`` given, or None when Strata embeds."""
        return self._embedding

    def close(self) -> None:
        """Closes the engine if this store made it (an engine passed in is the caller's to close)."""
        if self._owned:
            self._engine.close()

    def __enter__(self) -> "StrataVectorStore":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # ---- adding ---------------------------------------------------------------------------------

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Stores each text as one memory (atomically: all or none) and returns their ids in order.

        Args:
            texts: the documents' contents (non-empty: Strata keeps no memory without text).
            metadatas: one JSON-serializable dict per text, or None.
            ids: one id per text; None (or a None in the list) is a new UUID. An id already
                stored is replaced, so adding the same ids twice keeps one copy of each.
            **kwargs: Strata fields given to every memory: ``visibility``, ``category``,
                ``importance``, ``pinned``, ``tier``, ``ttl_seconds``, ``at`` (see
                :meth:`strata.Engine.store`).

        Raises:
            ValueError: ``metadatas`` or ``ids`` of another length than ``texts``.
            TypeError: an unknown keyword.
            strata.StrataError: as :meth:`strata.Engine.store_many` raises (e.g.
                :class:`strata.InvalidJSON` for an empty text, :class:`strata.DimensionMismatch`).
        """
        texts = list(texts)
        unknown = sorted(set(kwargs) - set(_STORE_FIELDS))
        if unknown:
            raise TypeError(f"add_texts got unknown keywords {unknown}; Strata's fields are {list(_STORE_FIELDS)}")
        if metadatas is not None and len(metadatas) != len(texts):
            raise ValueError(f"got {len(metadatas)} metadatas for {len(texts)} texts")
        if ids is not None and len(ids) != len(texts):
            raise ValueError(f"got {len(ids)} ids for {len(texts)} texts")
        if not texts:
            return []
        chosen = [i if i else str(uuid.uuid4()) for i in (ids if ids is not None else [None] * len(texts))]
        fields = {key: value for key, value in kwargs.items() if value is not None}
        items: list[dict[str, Any]] = []
        for n, text in enumerate(texts):
            item: dict[str, Any] = {"id": chosen[n], "content": text, "metadata": dict(metadatas[n] or {}) if metadatas else {}}
            if self._scope is not None:
                item["scope"] = self._scope
            item.update(fields)
            items.append(item)
        if self._embedding is not None:
            vectors = self._rows(self._embedding.embed_documents(texts))
            return [str(i) for i in self._engine.store_vectors(vectors, items)]
        # Every item has an id, so none is de-duplicated: one memory per text, as LangChain expects.
        return [str(i) for i in self._engine.store_many(items)]

    @classmethod
    def from_texts(
        cls: type[VST],
        texts: list[str],
        embedding: Embeddings | None = None,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> VST:
        """A new store holding ``texts``: ``StrataVectorStore(embedding=embedding, **kwargs)``, then :meth:`add_texts`.

        ``embedding`` None lets Strata embed; ``kwargs`` are the constructor's (``engine``,
        ``path``, ``config``, ``scope``, ...).
        """
        store = cls(embedding=embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    # ---- reading and deleting -------------------------------------------------------------------

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents with these ids, in the order given; ids not stored are left out."""
        return [self._document(m) for m in self._engine.get_many(list(ids))]

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Deletes the documents with these ids (ids not stored are ignored), or those matching ``filter=``.

        ``delete(filter={...})`` deletes every document that matches the filter (within this
        store's ``scope``, when it has one). With neither ids nor a filter nothing is deleted
        and :class:`ValueError` is raised: it would otherwise be easy to empty a store by
        mistake; ``delete(filter={}, all=True)`` deletes every document.

        Returns True. History keeps each deleted memory (Strata's DELETE rows).
        """
        filter = kwargs.pop("filter", None)
        everything = bool(kwargs.pop("all", False))
        if kwargs:
            raise TypeError(f"delete got unknown keywords {sorted(kwargs)}; it takes ids, filter and all")
        if ids is not None:
            if isinstance(ids, str):
                raise TypeError("ids must be a list of str, not one str: delete([id]) deletes one document")
            for one in ids:
                try:
                    self._engine.forget(one)
                except NotFound:
                    pass
            return True
        if filter is None:
            raise ValueError("delete needs ids or filter=...; delete(filter={}, all=True) deletes every document")
        self._engine.forget(filter=translate_filter(filter), scope=self._scope, all=everything)
        return True

    # ---- searching ------------------------------------------------------------------------------

    def similarity_search(
        self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        """The ``k`` documents nearest to ``query``, nearest first, optionally filtered by metadata."""
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """As :meth:`similarity_search`, each document with its vector similarity (higher is closer)."""
        self._no_kwargs(kwargs, "similarity_search")
        if self._embedding is not None:
            return self._scored(self._by_vector(self._embedding.embed_query(query), k, filter))
        if isinstance(self._engine, Engine):
            return self._scored(self._by_vector(self._engine.embed([query])[0], k, filter))
        hits = self._engine.recall(query, k=k, filter=self._filter(filter), scope=self._scope, track_access=self._track_access)
        return self._scored(hits)

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        """The ``k`` documents nearest to a query vector (of the store's embedding), nearest first."""
        return [doc for doc, _ in self.similarity_search_by_vector_with_score(embedding, k, filter, **kwargs)]

    def similarity_search_by_vector_with_score(
        self, embedding: list[float], k: int = 4, filter: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """As :meth:`similarity_search_by_vector`, each document with its vector similarity."""
        self._no_kwargs(kwargs, "similarity_search_by_vector")
        return self._scored(self._by_vector(embedding, k, filter))

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return self._relevance_score_fn or _cosine_relevance

    # ---- plumbing -------------------------------------------------------------------------------

    def _by_vector(self, vector: Any, k: int, filter: Mapping[str, Any] | None) -> list[Hit]:
        return self._engine.recall_vector(
            self._rows(vector), k=k, filter=self._filter(filter), scope=self._scope, track_access=self._track_access
        )

    @staticmethod
    def _filter(filter: Mapping[str, Any] | None) -> dict[str, Any] | None:
        return None if filter is None else translate_filter(filter)

    def _rows(self, vectors: Any) -> np.ndarray:
        """Vectors as float32, zero-padded to the engine's dimension when this store made it wider."""
        array = np.asarray(vectors, dtype=np.float32)
        short = (self._pad_to or 0) - array.shape[-1]
        if short > 0:
            width = [(0, 0)] * (array.ndim - 1) + [(0, short)]
            array = np.pad(array, width)
        return np.ascontiguousarray(array)

    @staticmethod
    def _document(item: Memory | Hit) -> Document:
        return Document(id=item.id, page_content=item.content, metadata=dict(item.metadata))

    def _scored(self, hits: list[Hit]) -> list[tuple[Document, float]]:
        return [(self._document(h), float(h.scores.get("vector") or 0.0)) for h in hits]

    @staticmethod
    def _no_kwargs(kwargs: Mapping[str, Any], verb: str) -> None:
        if kwargs:
            raise TypeError(f"{verb} got unknown keywords {sorted(kwargs)}; it takes query, k and filter")


def session_scope(session_id: str) -> str:
    """The scope :class:`StrataChatMessageHistory` keeps session ``session_id`` at: ``"chat:<session_id>"``.

    ``/`` separates the nodes of a scope path, so a ``/`` in the id is written ``%2F`` (and
    ``%`` as ``%25``): every session id is one node, and two ids never share a scope.
    """
    if not isinstance(session_id, str) or not session_id:
        raise ValueError(f"session_id must be a non-empty str, got {session_id!r}")
    return "chat:" + session_id.replace("%", "%25").replace("/", "%2F")


class StrataChatMessageHistory(BaseChatMessageHistory):
    """A LangChain chat message history kept as Strata memories, one per message.

    The messages of session ``session_id`` are memories at scope ``scope`` (default
    :func:`session_scope`: ``"chat:<session_id>"``; give one such as
    ``"user:alice/agent:planner/chat:42"`` to hang the conversation under an agent), with the
    message's text as content (so ``engine.recall(...)`` finds them by meaning too) and in the
    metadata ``session_id``, ``index`` (its place in the conversation), ``type`` (``human``,
    ``ai``, ...) and ``message``, LangChain's own serialization, from which :attr:`messages`
    rebuilds each message exactly (tool calls, ids and additional kwargs included). A message
    without text (an AI message holding only tool calls) is stored with the content
    ``"(ai message without text)"``, since a memory needs text.

    :attr:`messages` answers them in the order they were added; :meth:`clear` forgets them
    (their history rows stay). Messages are never de-duplicated: "yes" said twice is kept twice.
    A lifecycle configured on the engine (tier retention, pruning, compression) applies to these
    memories as to any others.

    Args:
        session_id: the conversation.
        engine: a :class:`strata.Engine` or :class:`strata.Client`; None makes an engine from
            ``path`` (a store folder) or, with no path, in memory (lost when the process ends).
        path: a store folder for the engine this class makes (as :func:`strata.open`).
        scope: where the messages are kept (default ``session_scope(session_id)``).
    """

    def __init__(
        self,
        session_id: str,
        engine: Backend | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        scope: str | None = None,
    ) -> None:
        super().__init__()
        if scope is not None and (not isinstance(scope, str) or not scope):
            raise ValueError(f"scope must be a non-empty str, got {scope!r}")
        self.session_id = session_id
        self.scope = scope if scope is not None else session_scope(session_id)
        self._engine, self._owned = _open_backend(engine, path, None)

    @property
    def engine(self) -> Backend:
        """The engine (or client) holding the messages."""
        return self._engine

    def _memories(self) -> list[Memory]:
        # Recall as a node also sees SHARED and GLOBAL memories of others: keep this scope's own.
        found = self._engine.get_all(filter={"session_id": self.session_id}, scope=self.scope)
        mine = [m for m in found if m.scope == self.scope and isinstance(m.metadata.get("message"), Mapping)]
        # Two writers adding at once may give two messages one index: creation time, then id, decide.
        return sorted(mine, key=lambda m: (m.metadata.get("index", 0), m.created_at, m.id))

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """Every message of the session, in the order they were added."""
        return messages_from_dict([dict(m.metadata["message"]) for m in self._memories()])

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Appends messages to the session, in one atomic store."""
        messages = list(messages)
        for n, message in enumerate(messages):
            if not isinstance(message, BaseMessage):
                raise TypeError(f"messages[{n}] must be a LangChain BaseMessage, not {type(message).__name__}")
        if not messages:
            return
        start = self._engine.count(filter={"session_id": self.session_id}, scope=self.scope)
        items = []
        for n, message in enumerate(messages):
            items.append({
                "content": _message_text(message),
                "scope": self.scope,
                "metadata": {
                    "session_id": self.session_id,
                    "index": start + n,
                    "type": message.type,
                    "message": message_to_dict(message),
                },
            })
        self._engine.store_many(items, dedupe=False)

    def clear(self) -> None:
        """Forgets every message of the session."""
        self._engine.forget(filter={"session_id": self.session_id}, scope=self.scope)

    def close(self) -> None:
        """Closes the engine if this history made it."""
        if self._owned:
            self._engine.close()


def _message_text(message: BaseMessage) -> str:
    accessor: Any = message.text
    # Since langchain-core 1.0 a str (still callable, deprecated); before, a method.
    text = str(accessor if isinstance(accessor, str) else accessor())
    return text if text.strip() else f"({message.type} message without text)"
