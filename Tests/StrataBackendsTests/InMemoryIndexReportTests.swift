import StrataBackends
import StrataCore
import Testing

/// `InMemoryVectorStore.indexReport`: what `strata stats` shows of the built-in index, checked
/// against the store's own byte counts.
@Suite struct InMemoryIndexReportTests {
    static let d = 32

    private func filled(_ index: VectorIndexSettings, metric: Metric = .cosine, rows: Int = 600) throws -> InMemoryVectorStore {
        let store = try InMemoryVectorStore(dimension: Self.d, metric: metric, index: index)
        var r = SeededRandom(seed: 5)
        try store.upsert((0..<rows).map { i in
            StoredRecord(memory: Memory(id: "m\(i)", content: "", createdAt: Timestamp(milliseconds: 0)),
                         vector: (0..<Self.d).map { _ in Float(r.gaussian()) })
        })
        return store
    }

    private func hnsw(_ compression: VectorIndexSettings.Compression) -> VectorIndexSettings {
        VectorIndexSettings(kind: .hnsw, m: 12, efConstruction: 60, efSearch: 40, compression: compression)
    }

    @Test func anInt8GraphReportsItsCopiesBesideTheRowsAndTheLinks() throws {
        let store = try filled(hnsw(.int8))
        let r = try #require(try store.indexReport())
        #expect(r.kind == .hnsw && r.rows == 600 && r.compression == .int8)
        #expect(r.graph == IndexReport.Graph(m: 12, efConstruction: 60, efSearch: 40))
        #expect(r.bytes.codes == store.graphCodeBytes && r.bytes.codes > 0)
        #expect(r.bytes.vectors == 600 * Self.d * 4, "cosine keeps no norms: the rows alone")
        #expect(r.bytes.vectors == store.vectorBytes)
        #expect(r.bytes.graph == store.graphStats?.bytes && r.bytes.graph > 0)
        #expect(r.bytes.total == r.bytes.vectors + r.bytes.codes + r.bytes.graph)
        #expect(r.mapped == nil, "the in-memory store never maps an image")
    }

    @Test func withoutCompressionThereAreNoCopies() throws {
        let store = try filled(hnsw(.none), metric: .l2)
        let r = try #require(try store.indexReport())
        #expect(r.kind == .hnsw && r.compression == .none && r.bytes.codes == 0)
        #expect(r.bytes.vectors == 600 * (Self.d + 1) * 4, "l2 keeps a squared norm a row beside the floats")
        #expect(r.bytes.graph > 0)
    }

    @Test func anExactStoreReportsTheRowsAndNoGraph() throws {
        let store = try filled(.exact)
        let r = try #require(try store.indexReport())
        #expect(r.kind == .exact && r.graph == nil && r.compression == .none)
        #expect(r.bytes == IndexReport.Bytes(vectors: 600 * Self.d * 4))
        let auto = try #require(try filled(VectorIndexSettings(kind: .auto, autoRows: 10_000)).indexReport())
        #expect(auto.kind == .exact, "auto stays exact below auto_rows")
    }
}
