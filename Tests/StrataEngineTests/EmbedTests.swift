import StrataBackends
import StrataCore
import StrataEngine
import StrataTesting
import Synchronization
import Testing

/// `Engine.embed`, and the rule that every path embedding many texts calls the embedder once
/// per batch, not once per text.
@Suite struct EmbedTests {
    /// The hashing embedder, counting its calls and the texts of each.
    final class CountingEmbedder: Embedder, Sendable {
        let inner: HashingEmbedder
        let calls = Mutex<[Int]>([])
        init() throws { inner = try HashingEmbedder(dimension: 64) }
        var dimension: Int { inner.dimension }
        var modelID: String { inner.modelID }
        func embed(_ texts: [String]) throws(StrataError) -> [[Float]] {
            calls.withLock { $0.append(texts.count) }
            return try inner.embed(texts)
        }
    }

    /// Built-in backends, but the embedder is `embedder`.
    struct Backends: BackendProvider {
        let embedder: CountingEmbedder
        let builtin = BuiltinBackends()
        func makeVectorStore(_ c: BackendChoice, dimension: Int, path: String) throws(StrataError) -> any VectorStore {
            try builtin.makeVectorStore(c, dimension: dimension, path: path)
        }
        func makeEmbedder(_ c: BackendChoice, path: String) throws(StrataError) -> any Embedder { embedder }
        func makeSummarizer(_ c: BackendChoice, path: String) throws(StrataError) -> any Summarizer {
            try builtin.makeSummarizer(c, path: path)
        }
        func makeMemoryKernel(_ c: BackendChoice, path: String) throws(StrataError) -> any MemoryKernel {
            try builtin.makeMemoryKernel(c, path: path)
        }
    }

    func engine() throws -> (Engine, CountingEmbedder) {
        let counting = try CountingEmbedder()
        return (try Engine(backends: Backends(embedder: counting)), counting)
    }

    @Test func embedAnswersOneRowPerTextInOneCallAndStoresNothing() throws {
        let (e, counting) = try engine()
        let rows = try e.embed(["Alice prefers green tea", "", "Bob is allergic to peanuts"])
        #expect(rows.count == 3 && rows.allSatisfy { $0.count == 64 })
        #expect(counting.calls.withLock { $0 } == [3])
        #expect(try e.stats().memories == 0)
        #expect(rows[0] == (try counting.inner.embed(["Alice prefers green tea"]))[0])
    }

    @Test func embedOfNothingCallsNothing() throws {
        let (e, counting) = try engine()
        #expect(try e.embed([]).isEmpty)
        #expect(counting.calls.withLock { $0 }.isEmpty)
    }

    @Test func embedRefusesNULNamingTheTextBeforeTheEmbedderRuns() throws {
        let (e, counting) = try engine()
        let error = try #require(throws: StrataError.self) { try e.embed(["fine", "bad\u{0}tail"]) }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("text 1 holds a NUL character (U+0000) at byte offset 3"))
        #expect(counting.calls.withLock { $0 }.isEmpty)
    }

    @Test func embedGivesTheVectorsStoreGives() throws {
        let (e, _) = try engine()
        let id = try e.store(NewMemory("Carol leads the search team")).id
        let row = try e.embed(["Carol leads the search team"])[0]
        let hits = try e.recall(RecallQuery(vector: row, k: 1))
        #expect(hits.first?.memory.id == id)
        #expect(abs((hits.first?.scores.vector ?? 0) - 1) < 1e-5)
    }

    @Test func aStoredBatchIsOneEmbedderCall() throws {
        let (e, counting) = try engine()
        let items = (0..<50).map { NewMemory("note number \($0) about topic \($0 % 7)") }
        _ = try e.store(items)
        #expect(counting.calls.withLock { $0 } == [50])
    }
}
