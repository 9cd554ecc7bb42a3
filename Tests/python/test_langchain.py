"""strata.integrations.langchain against the real langchain-core, and langchain-tests' standard suite.

langchain-tests (PyPI) has standard integration tests for vector stores
(VectorStoreIntegrationTests), run below on four stores: LangChain's fake embedding in memory,
Strata's own embedder, the fake embedding on a SQLite store folder, and strata.Client over a real
``strata serve`` (the CLI built beside the library, skipped where there is none). It has none for chat
message histories (langchain-tests 1.1.9 ships base_store, cache, chat_models, embeddings,
indexer, retrievers, sandboxes, tools and vectorstores), so StrataChatMessageHistory is tested
by the tests of this file alone. Every standard test applies and runs: none is skipped.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

import strata

langchain_core = pytest.importorskip("langchain_core", reason="langchain-core is not installed (scripts/setup --python installs it)")

from langchain_core.documents import Document  # noqa: E402
from langchain_core.embeddings import DeterministicFakeEmbedding  # noqa: E402
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage  # noqa: E402
from langchain_core.vectorstores import VectorStore  # noqa: E402

from strata.integrations.langchain import (  # noqa: E402
    StrataChatMessageHistory,
    StrataVectorStore,
    session_scope,
    translate_filter,
)

try:
    from langchain_tests.integration_tests import VectorStoreIntegrationTests
except ImportError:  # the standard suite is optional; the tests of this file still run
    VectorStoreIntegrationTests = None  # type: ignore[assignment,misc]

REPO = Path(__file__).resolve().parents[2]
BINDINGS = REPO / "bindings" / "python"


def cosine(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture
def fake() -> DeterministicFakeEmbedding:
    return DeterministicFakeEmbedding(size=6)


@pytest.fixture
def store(fake) -> Iterator[StrataVectorStore]:
    with StrataVectorStore(embedding=fake) as s:
        yield s


# ---- the standard suite ---------------------------------------------------------------------------

if VectorStoreIntegrationTests is not None:

    # The suite's async tests are coroutines written for pytest-asyncio's auto mode (it comes
    # with langchain-tests); this repository has no pytest configuration, so each class carries
    # the mark. pytest-asyncio warns that the mark reaches the sync tests too: it ignores it there.
    def standard(cls: type) -> type:
        cls = pytest.mark.filterwarnings("ignore:The test <Function .*> is marked with '@pytest.mark.asyncio'")(cls)
        return pytest.mark.asyncio(cls)

    @standard
    class TestStandardWithLangChainEmbeddings(VectorStoreIntegrationTests):
        """The fake 6-dimension embedding of the suite; an in-memory engine made for it (8 dimensions, padded)."""

        @pytest.fixture
        def vectorstore(self) -> Iterator[VectorStore]:
            with StrataVectorStore(embedding=self.get_embeddings()) as s:
                yield s

    @standard
    class TestStandardWithStrataEmbedder(VectorStoreIntegrationTests):
        """No LangChain embedding: Strata embeds with the engine's own embedder (hashing), on an engine passed in."""

        @pytest.fixture
        def vectorstore(self) -> Iterator[VectorStore]:
            with strata.Engine() as engine:
                yield StrataVectorStore(engine)

    @standard
    class TestStandardOnSQLiteStoreFolder(VectorStoreIntegrationTests):
        """The fake embedding on a persistent store folder (SQLite), as ``strata.open`` makes it."""

        @pytest.fixture
        def vectorstore(self, tmp_path) -> Iterator[VectorStore]:
            with StrataVectorStore(embedding=self.get_embeddings(), path=tmp_path / "memories") as s:
                yield s


    @standard
    class TestStandardOverClient(VectorStoreIntegrationTests):
        """A strata.Client of a real ``strata serve`` (hashing embedder): Strata embeds, over HTTP."""

        @pytest.fixture
        def vectorstore(self, served) -> Iterator[VectorStore]:
            with strata.Client(served) as client:
                client.reset()  # one server for the class: each test starts from an empty store
                yield StrataVectorStore(client)


def _cli() -> Path:
    """The strata CLI built beside the library the tests load (as scripts/test builds it), or STRATA_CLI."""
    return Path(os.environ.get("STRATA_CLI", Path(strata.library_path).parent / "strata-cli"))


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[str]:
    """The URL of a ``strata serve`` on a new store folder (hashing embedder, no tokens: loopback only)."""
    binary = _cli()
    if not binary.exists():
        pytest.skip(f"no strata CLI at {binary} to serve a store (set STRATA_CLI)")
    folder = tmp_path_factory.mktemp("served") / "store"
    env = {k: v for k, v in os.environ.items() if k != "STRATA_DIR"}
    made = subprocess.run([str(binary), "init", "--dir", str(folder), "--embedder", "hashing"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    server = subprocess.Popen([str(binary), "serve", "--dir", str(folder), "--port", "0"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("strata serve: listening on http://127.0.0.1:"), line
        yield line.split(" on ", 1)[1].strip()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_client_store_searches_with_the_servers_recall(served):
    with strata.Client(served) as client:
        client.reset()
        store = StrataVectorStore(client)
        store.add_texts(["Alice prefers green tea", "Bob takes the night train"], [{"u": "a"}, {"u": "b"}], ids=["a", "b"])
        scored = store.similarity_search_with_score("green tea for Alice", k=2)
        assert [d.id for d, _ in scored] == ["a", "b"]
        assert scored[0][1] == pytest.approx(client.recall("green tea for Alice", k=1)[0].scores["vector"], abs=1e-6)
        assert [d.id for d in store.similarity_search("tea", k=2, filter={"u": "b"})] == ["b"]
        assert [d.id for d in store.get_by_ids(["b", "missing", "a"])] == ["b", "a"]
        store.delete(["a", "missing"])
        assert [d.id for d in store.get_by_ids(["a", "b"])] == ["b"]


# ---- importing -------------------------------------------------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(BINDINGS), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_importing_strata_does_not_import_langchain():
    done = _python("import sys, strata, strata.integrations; print('langchain_core' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_integration_without_langchain_core_says_what_to_install():
    # None in sys.modules makes every import of langchain_core fail, as when it is not installed.
    done = _python(
        "import sys\n"
        "sys.modules['langchain_core'] = None\n"
        "import strata\n"
        "try:\n"
        "    import strata.integrations.langchain\n"
        "except ImportError as error:\n"
        "    print('ImportError:', error)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "ImportError: strata.integrations.langchain needs langchain-core" in done.stdout
    assert "pip install langchain-core" in done.stdout


# ---- the vector store ------------------------------------------------------------------------------


def test_scores_are_the_cosine_of_the_langchain_vectors(store, fake):
    texts = ["alpha", "beta", "gamma", "delta"]
    ids = store.add_texts(texts, [{"n": i} for i in range(4)])
    scored = store.similarity_search_with_score("beta", k=4)
    assert [doc.page_content for doc, _ in scored][0] == "beta"
    query = fake.embed_query("beta")
    expected = {t: cosine(query, v) for t, v in zip(texts, fake.embed_documents(texts))}
    for doc, score in scored:
        assert score == pytest.approx(expected[doc.page_content], abs=1e-5)
        assert doc.id == ids[texts.index(doc.page_content)]
    # Ranked by similarity alone: the engine this store made has no recency or importance weight.
    assert [s for _, s in scored] == sorted((s for _, s in scored), reverse=True)
    relevance = dict((d.page_content, r) for d, r in store.similarity_search_with_relevance_scores("beta", k=4))
    for text, similarity in expected.items():
        assert relevance[text] == pytest.approx((1 + similarity) / 2, abs=1e-5)


def test_an_engine_made_for_a_short_embedding_is_padded_to_eight_dimensions(store, fake):
    assert store.engine.dimension == 8
    store.add_texts(["one", "two"])
    docs = store.similarity_search_by_vector(fake.embed_query("two"), k=1)
    assert [d.page_content for d in docs] == ["two"]
    with_scores = store.similarity_search_by_vector_with_score(fake.embed_query("two"), k=1)
    assert with_scores[0][1] == pytest.approx(1.0, abs=1e-5)


def test_strata_embeds_when_no_embedding_is_given():
    with strata.Engine() as engine:
        store = StrataVectorStore(engine)
        store.add_texts(["Alice prefers green tea", "Bob takes the night train to Vienna"], [{"user": "alice"}, {"user": "bob"}])
        scored = store.similarity_search_with_score("green tea for Alice", k=2)
        assert scored[0][0].page_content == "Alice prefers green tea"
        query, first = engine.embed(["green tea for Alice", "Alice prefers green tea"])
        assert scored[0][1] == pytest.approx(cosine(query, first), abs=1e-5)
        # The documents are ordinary memories: the engine's own verbs see them.
        assert engine.get(scored[0][0].id).metadata == {"user": "alice"}
        assert engine.count() == 2


def test_the_same_text_twice_is_two_documents_even_where_the_engine_deduplicates():
    with strata.Engine() as engine:  # the embedded default de-duplicates near-identical texts
        store = StrataVectorStore(engine)
        ids = store.add_texts(["the meeting is at noon", "the meeting is at noon"])
        assert len(set(ids)) == 2
        assert engine.count() == 2


def test_searches_do_not_count_as_accesses_unless_asked(fake):
    with StrataVectorStore(embedding=fake) as store:
        (mid,) = store.add_texts(["watched"])
        store.similarity_search("watched", k=1)
        assert store.engine.get(mid).access_count == 0
    with StrataVectorStore(embedding=fake, track_access=True) as store:
        (mid,) = store.add_texts(["watched"])
        store.similarity_search("watched", k=1)
        assert store.engine.get(mid).access_count == 1


def test_a_vector_of_another_dimension_than_the_engine_is_refused(fake):
    with strata.Engine() as engine:  # 256 dimensions
        store = StrataVectorStore(engine, fake)
        with pytest.raises(strata.DimensionMismatch):
            store.add_texts(["foo"])
        assert engine.count() == 0


def test_add_texts_passes_strata_fields_and_refuses_unknown_keywords(store):
    (mid,) = store.add_texts(["pinned fact"], importance=0.9, category="facts", pinned=True)
    memory = store.engine.get(mid)
    assert (memory.importance, memory.category, memory.pinned) == (0.9, "facts", True)
    with pytest.raises(TypeError, match="unknown keywords"):
        store.add_texts(["x"], colour="red")
    with pytest.raises(ValueError, match="2 metadatas for 1 texts"):
        store.add_texts(["x"], [{}, {}])
    with pytest.raises(ValueError, match="2 ids for 1 texts"):
        store.add_texts(["x"], ids=["a", "b"])
    assert store.add_texts([]) == []


def test_a_document_added_again_by_id_replaces_the_memory_and_keeps_its_history(store):
    store.add_documents([Document("first", metadata={"v": 1})], ids=["doc"])
    store.add_documents([Document("second", metadata={"v": 2})], ids=["doc"])
    assert store.get_by_ids(["doc"]) == [Document("second", metadata={"v": 2}, id="doc")]
    assert [h.event for h in store.engine.history("doc")] == ["ADD", "UPDATE"]


def test_get_by_ids_answers_in_the_order_given_and_leaves_out_missing_ids(store):
    store.add_texts(["a", "b", "c"], ids=["1", "2", "3"])
    assert [d.id for d in store.get_by_ids(["3", "missing", "1"])] == ["3", "1"]


@pytest.fixture
def catalogue(store) -> StrataVectorStore:
    store.add_texts(
        ["red apple", "green apple", "yellow banana", "orange", "kiwi"],
        [
            {"kind": "apple", "price": 3, "tags": ["fruit", "red"], "origin": {"country": "FR"}},
            {"kind": "apple", "price": 5, "tags": ["fruit", "green"], "origin": {"country": "IT"}},
            {"kind": "banana", "price": 2, "tags": ["fruit"], "origin": {"country": "EC"}},
            {"kind": "citrus", "price": 4, "origin": {"country": "ES"}},
            {"kind": "kiwi", "price": 7, "organic": True},
        ],
        ids=["r", "g", "y", "o", "k"],
    )
    return store


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"kind": "apple"}, {"r", "g"}),
        ({"kind": {"$eq": "banana"}}, {"y"}),
        ({"kind": {"$ne": "apple"}}, {"y", "o", "k"}),
        ({"price": {"$gt": 4}}, {"g", "k"}),
        ({"price": {"$gte": 3, "$lte": 4}}, {"r", "o"}),
        ({"price": {"$between": [3, 5]}}, {"r", "g", "o"}),
        ({"price": {"$lt": 3}}, {"y"}),
        ({"kind": {"$in": ["kiwi", "citrus"]}}, {"o", "k"}),
        ({"kind": {"$nin": ["apple", "banana"]}}, {"o", "k"}),
        ({"organic": {"$exists": True}}, {"k"}),
        ({"tags": {"$contains": "green"}}, {"g"}),
        ({"origin.country": "IT"}, {"g"}),
        ({"$or": [{"kind": "kiwi"}, {"price": 2}]}, {"y", "k"}),
        ({"$and": [{"kind": "apple"}, {"price": {"$gt": 3}}]}, {"g"}),
        ({"$not": {"kind": "apple"}}, {"y", "o", "k"}),
        ({"kind": "apple", "price": 3}, {"r"}),
    ],
)
def test_filters(catalogue, filter, expected):
    assert {d.id for d in catalogue.similarity_search("apple", k=10, filter=filter)} == expected


def test_unsupported_filters_are_refused_by_name(catalogue):
    with pytest.raises(ValueError, match=r"filter\['kind'\] uses \$like, which Strata's filters do not support; supported: \$eq"):
        catalogue.similarity_search("apple", filter={"kind": {"$like": "app%"}})
    with pytest.raises(ValueError, match=r"uses \$text"):
        catalogue.similarity_search("apple", filter={"$text": {"$search": "apple"}})
    with pytest.raises(ValueError, match=r"filter\['\$or'\]\[1\]\['kind'\] uses \$regex"):
        catalogue.similarity_search("apple", filter={"$or": [{"price": 1}, {"kind": {"$regex": "^a"}}]})
    with pytest.raises(TypeError, match="a Python callable cannot be one"):
        catalogue.similarity_search("apple", filter=lambda doc: True)
    with pytest.raises(TypeError, match=r"\$between'\] must be \[low, high\]"):
        catalogue.similarity_search("apple", filter={"price": {"$between": 3}})
    with pytest.raises(TypeError, match="mixes operators and the plain key"):
        translate_filter({"price": {"$gt": 1, "unit": "eur"}})


def test_translate_filter_output_is_strata_filter_json():
    assert translate_filter({"a": 1, "b": {"$between": (1, 2)}, "$or": [{"c": {"$in": ("x",)}}]}) == {
        "a": 1, "b": {"$gte": 1, "$lte": 2}, "$or": [{"c": {"$in": ["x"]}}],
    }
    # An object value without operators is equality on that object, passed as it is.
    assert translate_filter({"origin": {"country": "FR"}}) == {"origin": {"country": "FR"}}


def test_delete_by_ids_and_by_filter(catalogue):
    assert catalogue.delete(["r", "not-there"]) is True
    assert catalogue.get_by_ids(["r"]) == []
    assert catalogue.delete(filter={"kind": "apple"}) is True
    assert {d.id for d in catalogue.similarity_search("x", k=10)} == {"y", "o", "k"}
    with pytest.raises(ValueError, match="delete needs ids or filter"):
        catalogue.delete()
    with pytest.raises(strata.InvalidArgument):  # {} would forget everything: Strata wants all=True
        catalogue.delete(filter={})
    catalogue.delete(filter={}, all=True)
    assert catalogue.similarity_search("x", k=10) == []
    # History keeps what was deleted.
    assert catalogue.engine.history("r")[-1].event == "DELETE"


def test_a_scoped_store_keeps_its_documents_at_its_node():
    fake = DeterministicFakeEmbedding(size=8)  # an engine passed in must have the embedding's dimension
    with strata.Engine({"embedder": {"backend": "hashing", "options": {"dimension": 8}}}) as engine:
        a = StrataVectorStore(engine, fake, scope="org/a")
        b = StrataVectorStore(engine, fake, scope="org/b")
        (mid,) = a.add_texts(["only org/a sees this"])
        assert engine.get(mid).scope == "org/a"
        assert [d.id for d in a.similarity_search("only org/a sees this", k=5)] == [mid]
        assert b.similarity_search("only org/a sees this", k=5) == []
        b.delete(filter={}, all=True)  # forgets what org/b owns: nothing of org/a
        assert engine.count() == 1


def test_from_texts_from_documents_and_the_retriever(fake):
    store = StrataVectorStore.from_texts(["cats purr", "dogs bark"], fake, [{"a": 1}, {"a": 2}], ids=["c", "d"])
    assert store.get_by_ids(["c"]) == [Document("cats purr", metadata={"a": 1}, id="c")]
    retriever = store.as_retriever(search_kwargs={"k": 1})
    assert retriever.invoke("dogs bark") == [Document("dogs bark", metadata={"a": 2}, id="d")]
    assert asyncio.run(retriever.ainvoke("cats purr")) == [Document("cats purr", metadata={"a": 1}, id="c")]
    threshold = store.as_retriever(search_type="similarity_score_threshold", search_kwargs={"score_threshold": 0.999, "k": 2})
    assert [d.id for d in threshold.invoke("cats purr")] == ["c"]
    filtered = store.as_retriever(search_kwargs={"k": 2, "filter": {"a": 2}})
    assert [d.id for d in filtered.invoke("cats purr")] == ["d"]

    again = StrataVectorStore.from_documents([Document("x y z", id="xyz")], fake)
    assert again.get_by_ids(["xyz"])[0].page_content == "x y z"
    strata_embedded = StrataVectorStore.from_texts(["strata embeds this"], None)
    assert strata_embedded.embeddings is None
    assert strata_embedded.similarity_search("strata embeds this", k=1)[0].page_content == "strata embeds this"
    for s in (store, again, strata_embedded):
        s.close()


def test_async_methods(store):
    async def scenario() -> list[Document]:
        ids = await store.aadd_texts(["async one", "async two"], ids=["1", "2"])
        assert ids == ["1", "2"]
        found = await store.asimilarity_search("async two", k=1)
        scored = await store.asimilarity_search_with_score("async two", k=1)
        assert scored[0][1] == pytest.approx(1.0, abs=1e-5)
        await store.adelete(["1"])
        assert await store.aget_by_ids(["1", "2"]) == [Document("async two", id="2")]
        return found

    assert asyncio.run(scenario()) == [Document("async two", id="2")]


def test_a_store_folder_keeps_the_documents(tmp_path, fake):
    folder = tmp_path / "vectors"
    with StrataVectorStore(embedding=fake, path=folder) as store:
        store.add_texts(["kept on disk"], [{"k": 1}], ids=["disk"])
    assert (folder / "strata.json").exists() and (folder / "strata.db").exists()  # SQLite, as strata.open makes
    with StrataVectorStore(embedding=fake, path=folder) as store:
        assert store.similarity_search("kept on disk", k=1) == [Document("kept on disk", metadata={"k": 1}, id="disk")]
    # The folder is an ordinary store: strata.open reads it, and a store folder made by
    # strata.open (its default configuration, 256 dimensions) opens here by its path alone.
    with strata.open(folder) as engine:
        assert engine.get("disk").content == "kept on disk"
    strata.open(tmp_path / "made-by-strata").close()
    with StrataVectorStore(path=tmp_path / "made-by-strata") as store:
        store.add_texts(["strata embeds here"], ids=["s"])
        assert [d.id for d in store.similarity_search("strata embeds here", k=1)] == ["s"]
        assert store.engine.dimension == 256


def test_constructor_arguments_are_checked(fake):
    with pytest.raises(TypeError, match="engine must be a strata.Engine or strata.Client"):
        StrataVectorStore("not an engine")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="embedding must be a LangChain Embeddings"):
        StrataVectorStore(embedding="text-embedding-3")  # type: ignore[arg-type]
    with strata.Engine() as engine, pytest.raises(TypeError, match="an engine or a path, not both"):
        StrataVectorStore(engine, path="x")
    with StrataVectorStore(embedding=fake) as store, pytest.raises(TypeError, match="unknown keywords"):
        store.similarity_search("x", fetch_k=3)


def test_maximal_marginal_relevance_is_not_offered(store):
    store.add_texts(["a"])
    with pytest.raises(NotImplementedError):
        store.max_marginal_relevance_search("a", k=1)


# ---- the chat message history ----------------------------------------------------------------------


@pytest.fixture(params=["engine", "client"])
def engine_for_chat(request) -> Iterator[strata.Engine | strata.Client]:
    """An engine in memory, then a strata.Client of a real server: a history works on either."""
    if request.param == "engine":
        with strata.Engine() as engine:
            yield engine
        return
    with strata.Client(request.getfixturevalue("served")) as client:
        client.reset()  # one server for the module: each test starts from an empty store
        yield client


def test_messages_come_back_in_order_across_batches(engine_for_chat):
    history = StrataChatMessageHistory("s1", engine_for_chat)
    sent = []
    for turn in range(12):  # several in one millisecond: order must not hang on the clock
        batch = [HumanMessage(f"question {turn}"), AIMessage(f"answer {turn}")]
        history.add_messages(batch)
        sent.extend(batch)
    history.add_message(HumanMessage("last"))
    sent.append(HumanMessage("last"))
    assert history.messages == sent
    assert [m.metadata["index"] for m in engine_for_chat.get_all(scope=session_scope("s1"))] == list(range(25))


def test_messages_round_trip_exactly_and_repeats_are_kept(engine_for_chat):
    history = StrataChatMessageHistory("s1", engine_for_chat)
    messages = [
        SystemMessage("be brief"),
        HumanMessage("yes", id="h1", additional_kwargs={"lang": "en"}),
        AIMessage("", tool_calls=[{"name": "lookup", "args": {"q": "tea"}, "id": "call-1"}]),
        ToolMessage("green", tool_call_id="call-1"),
        HumanMessage("yes"),
        HumanMessage("yes"),
    ]
    history.add_messages(messages)
    assert history.messages == messages
    contents = [m.content for m in engine_for_chat.get_all(scope=history.scope)]
    assert "(ai message without text)" in contents
    assert contents.count("yes") == 3


def test_sessions_are_kept_apart_and_clear_forgets_one(engine_for_chat):
    one = StrataChatMessageHistory("one", engine_for_chat)
    two = StrataChatMessageHistory("two", engine_for_chat)
    one.add_messages([HumanMessage("for one")])
    two.add_messages([HumanMessage("for two")])
    # A GLOBAL memory elsewhere is in view of every scope; it is not a message of the session.
    engine_for_chat.store("visible everywhere", {"session_id": "one"}, "elsewhere", visibility="global")
    assert one.messages == [HumanMessage("for one")]
    one.clear()
    assert one.messages == []
    assert two.messages == [HumanMessage("for two")]
    assert engine_for_chat.count() == 2


def test_session_ids_become_one_scope_node():
    assert session_scope("abc") == "chat:abc"
    assert session_scope("a/b") == "chat:a%2Fb"
    assert session_scope("a%2Fb") == "chat:a%252Fb"  # not the scope of "a/b"
    with pytest.raises(ValueError):
        session_scope("")


def test_a_history_under_an_agent_scope_is_recalled_as_that_agent(engine_for_chat):
    history = StrataChatMessageHistory("42", engine_for_chat, scope="user:alice/agent:planner/chat:42")
    history.add_messages([HumanMessage("I am allergic to peanuts"), AIMessage("Noted.")])
    hits = engine_for_chat.recall("peanuts allergy", k=1, scope="user:alice/agent:planner/chat:42")
    assert hits[0].content == "I am allergic to peanuts"
    assert hits[0].metadata["type"] == "human"


def test_async_history(engine_for_chat):
    history = StrataChatMessageHistory("async", engine_for_chat)

    async def scenario() -> list:
        await history.aadd_messages([HumanMessage("a"), AIMessage("b")])
        got = await history.aget_messages()
        await history.aclear()
        return [got, await history.aget_messages()]

    assert asyncio.run(scenario()) == [[HumanMessage("a"), AIMessage("b")], []]


def test_a_history_in_a_store_folder_survives_reopening(tmp_path):
    history = StrataChatMessageHistory("s", path=tmp_path / "chat")
    history.add_messages([HumanMessage("remember me")])
    history.close()
    reopened = StrataChatMessageHistory("s", path=tmp_path / "chat")
    assert reopened.messages == [HumanMessage("remember me")]
    reopened.close()


def test_history_arguments_are_checked(engine_for_chat):
    with pytest.raises(TypeError, match="engine must be a strata.Engine or strata.Client"):
        StrataChatMessageHistory("s", object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"messages\[0\] must be a LangChain BaseMessage"):
        StrataChatMessageHistory("s", engine_for_chat).add_messages(["hello"])  # type: ignore[list-item]
