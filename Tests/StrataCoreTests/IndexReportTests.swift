import StrataCore
import Testing

/// The index report's JSON (IndexReport.swift): what plugins hand to the host and the stats
/// answer carries, decoded strictly.
@Suite struct IndexReportTests {
    private let hnsw = IndexReport(
        kind: .hnsw, rows: 1000, graph: IndexReport.Graph(m: 16, efConstruction: 200, efSearch: 64), compression: .int8,
        bytes: IndexReport.Bytes(vectors: 1_536_000, codes: 400_000, graph: 150_000), mapped: false)

    @Test func theJSONRoundTripsAndTheTotalIsTheSum() throws {
        let json = hnsw.json
        #expect(json.value(at: ["bytes", "total"]) == .number(2_086_000))
        #expect(json.objectValue.map { Set($0.keys) }
            == ["kind", "rows", "m", "ef_construction", "ef_search", "compression", "mapped", "bytes"])
        #expect(try IndexReport(json: json) == hnsw)
        let exact = IndexReport(kind: .exact, rows: 3, bytes: IndexReport.Bytes(vectors: 48))
        #expect(exact.json.objectValue.map { Set($0.keys) } == ["kind", "rows", "compression", "bytes"],
                "no graph parameters for an exact index, no mapped for a store that never maps")
        #expect(try IndexReport(json: exact.json) == exact)
    }

    @Test(arguments: [
        (["kind": "exact", "rows": 1, "bytes": ["vectors": 4, "codes": 0, "graph": 0, "total": 4], "colour": "red"] as JSONValue, "index report.colour"),
        (["kind": "exact", "rows": 1, "bytes": ["vectors": 4, "codes": 0, "graph": 0, "total": 4, "spare": 1]] as JSONValue, "index report.bytes.spare"),
        (["kind": "exact", "rows": 1, "bytes": ["vectors": 4, "codes": 0, "graph": 0, "total": 5]] as JSONValue, "index report.bytes.total"),
        (["kind": "flat", "rows": 1, "bytes": ["vectors": 4, "codes": 0, "graph": 0, "total": 4]] as JSONValue, "index report.kind"),
        (["kind": "exact", "bytes": ["vectors": 4, "codes": 0, "graph": 0, "total": 4]] as JSONValue, "index report.rows"),
        (["kind": "exact", "rows": 1, "bytes": ["vectors": 4, "graph": 0, "total": 4]] as JSONValue, "index report.bytes.codes"),
        (["kind": "hnsw", "rows": 1, "m": 16, "bytes": ["vectors": 4, "codes": 0, "graph": 0, "total": 4]] as JSONValue, "ef_construction"),
        (["kind": "exact", "rows": 1, "mapped": "no", "bytes": ["vectors": 4, "codes": 0, "graph": 0, "total": 4]] as JSONValue, "index report.mapped"),
    ])
    func aBadReportIsRefusedNamingTheKey(json: JSONValue, named: String) {
        let error = #expect(throws: StrataError.self) { _ = try IndexReport(json: json) }
        #expect(error?.code == .invalidJSON, "\(error?.message ?? "")")
        #expect(error?.message.contains(named) == true, "\(error?.message ?? "") names \(named)")
    }

    @Test func combinedReportsAddUpAndKeepTheGraph() {
        let exact = IndexReport(kind: .exact, rows: 10, bytes: IndexReport.Bytes(vectors: 160), mapped: true)
        let both = IndexReport.combined([exact, hnsw])
        #expect(both?.kind == .hnsw && both?.graph == hnsw.graph && both?.compression == .int8)
        #expect(both?.rows == 1010 && both?.bytes == IndexReport.Bytes(vectors: 1_536_160, codes: 400_000, graph: 150_000))
        #expect(both?.mapped == true)
        #expect(IndexReport.combined([]) == nil)
    }
}
