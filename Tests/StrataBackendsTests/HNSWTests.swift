import Dispatch
import StrataBackends
import StrataCore
import StrataTesting
import Testing

/// Seeded clustered vectors, as embeddings are: `clusters` centres, points spread around them.
private struct Mixture {
    let dimension: Int
    var random: SeededRandom
    let centres: [[Float]]

    init(dimension: Int, clusters: Int, seed: UInt64) {
        self.dimension = dimension
        var r = SeededRandom(seed: seed)
        centres = (0..<clusters).map { _ in (0..<dimension).map { _ in Float(r.gaussian()) } }
        random = r
    }

    mutating func next() -> [Float] {
        let c = centres[Int(random.next() % UInt64(centres.count))]
        return c.map { $0 + 0.6 * Float(random.gaussian()) }
    }
}

private func record(_ id: Int, _ v: [Float], metadata: [String: JSONValue] = [:]) -> StoredRecord {
    StoredRecord(memory: Memory(id: "m\(id)", content: "", metadata: metadata, createdAt: Timestamp(milliseconds: 0)), vector: v)
}

/// Mean fraction of the exact top k found by the approximate search.
private func recall(_ approximate: InMemoryVectorStore, _ exact: InMemoryVectorStore, queries: [[Float]], k: Int,
                    filter: Filter? = nil) throws -> Double {
    var total = 0.0
    for q in queries {
        let truth = Set(try exact.search(q, k: k, filter: filter).map(\.record.memory.id))
        let found = try approximate.search(q, k: k, filter: filter).map(\.record.memory.id)
        #expect(found.count == truth.count, "a search returns as many hits as the exact one")
        total += truth.isEmpty ? 1 : Double(Set(found).intersection(truth).count) / Double(truth.count)
    }
    return total / Double(queries.count)
}

private func hnsw(_ d: Int, _ metric: Metric, efSearch: Int = 64) throws -> InMemoryVectorStore {
    try InMemoryVectorStore(dimension: d, metric: metric, name: "hnsw",
                            index: VectorIndexSettings(kind: .hnsw, m: 12, efConstruction: 100, efSearch: efSearch, seed: 7))
}

@Suite struct HNSWIndexTests {
    static let d = 24

    @Test(arguments: [Metric.cosine, .dot, .l2])
    func recallAtTenIsCloseToExactForEveryMetric(metric: Metric) throws {
        var data = Mixture(dimension: Self.d, clusters: 24, seed: 11)
        let rows = (0..<3000).map { record($0, data.next()) }
        let queries = (0..<60).map { _ in data.next() }
        let graph = try hnsw(Self.d, metric)
        let exact = try InMemoryVectorStore(dimension: Self.d, metric: metric, index: .exact)
        try graph.upsert(rows)  // one batch of 3,000: linked on every core
        try exact.upsert(rows)
        #expect(graph.graphStats?.nodes == 3000)
        let r = try recall(graph, exact, queries: queries, k: 10)
        #expect(r >= (metric == .dot ? 0.9 : 0.95), "recall@10 \(r) for \(metric)")
    }

    @Test func removalsUpdatesAndReusedSlotsKeepRecallAndNeverReturnRemovedRows() throws {
        var data = Mixture(dimension: Self.d, clusters: 20, seed: 5)
        var random = SeededRandom(seed: 99)
        let graph = try hnsw(Self.d, .cosine)
        var live: [Int: [Float]] = [:]
        var nextId = 0
        // Small batches (linked one at a time), removals and vector updates interleaved.
        for _ in 0..<30 {
            var batch: [StoredRecord] = []
            for _ in 0..<100 {
                let v = data.next()
                live[nextId] = v
                batch.append(record(nextId, v))
                nextId += 1
            }
            try graph.upsert(batch)
            let ids = live.keys.sorted()
            let doomed = (0..<25).map { _ in ids[Int(random.next() % UInt64(ids.count))] }
            let gone = Set(doomed)
            _ = try graph.remove(ids: gone.map { "m\($0)" })
            for id in gone { live[id] = nil }
            let kept = live.keys.sorted()
            var moved: [StoredRecord] = []
            for _ in 0..<10 {
                let id = kept[Int(random.next() % UInt64(kept.count))]
                let v = data.next()
                live[id] = v
                moved.append(record(id, v))
            }
            try graph.upsert(moved)
        }
        #expect(try graph.count() == live.count)
        #expect(graph.graphStats?.nodes == live.count)
        let exact = try InMemoryVectorStore(dimension: Self.d, metric: .cosine, index: .exact)
        try exact.upsert(live.keys.sorted().map { record($0, live[$0]!) })
        let queries = (0..<60).map { _ in data.next() }
        let r = try recall(graph, exact, queries: queries, k: 10)
        #expect(r >= 0.95, "recall@10 \(r) after removals and updates")
        // Removed rows never come back, even when the query is their own vector.
        let removed = (0..<nextId).filter { live[$0] == nil }
        #expect(!removed.isEmpty)
        for id in removed.prefix(20) {
            let hits = try graph.search(try exact.search(data.next(), k: 1, filter: nil)[0].record.vector, k: 20, filter: nil)
            #expect(!hits.contains { $0.record.memory.id == "m\(id)" })
        }
    }

    @Test(arguments: [50.0, 10.0, 1.0, 0.1])
    func filteredSearchFindsKHitsAtAnySelectivity(percent: Double) throws {
        var data = Mixture(dimension: Self.d, clusters: 24, seed: 3)
        let n = 6000
        let cut = Int(percent * 10)
        let rows = (0..<n).map { i in record(i, data.next(), metadata: ["pass": .bool(i % 1000 < cut)]) }
        let graph = try hnsw(Self.d, .cosine)
        let exact = try InMemoryVectorStore(dimension: Self.d, metric: .cosine, index: .exact)
        try graph.upsert(rows)
        try exact.upsert(rows)
        let queries = (0..<40).map { _ in data.next() }
        // Narrowed by the metadata bitmap, and (`not`) by sampling: both plans must hold.
        for filter in [Filter.condition(path: ["metadata", "pass"], .eq(.bool(true))), .not(.condition(path: ["metadata", "pass"], .eq(.bool(false))))] {
            let r = try recall(graph, exact, queries: queries, k: 10, filter: filter)
            #expect(r >= 0.95, "recall@10 \(r) with a \(percent)% filter \(filter)")
        }
    }

    @Test func aRecallByScopeCountsItsRowsAndFindsKHitsInASmallScope() throws {
        var data = Mixture(dimension: Self.d, clusters: 24, seed: 4)
        let small = try ScopePath("org/team")
        let rows = (0..<5000).map { i in
            StoredRecord(memory: Memory(id: "m\(i)", content: "", scope: i % 100 == 0 ? small : .root, createdAt: Timestamp(milliseconds: 0)),
                         vector: data.next())
        }
        let graph = try hnsw(Self.d, .cosine)
        let exact = try InMemoryVectorStore(dimension: Self.d, metric: .cosine, index: .exact)
        try graph.upsert(rows)
        try exact.upsert(rows)
        // The scope's own memories (1%): the field index counts them, so the plan scans them.
        #expect(graph.plan(k: 10, filter: small.ownedFilter) == "exact")
        let queries = (0..<30).map { _ in data.next() }
        #expect(try recall(graph, exact, queries: queries, k: 10, filter: small.ownedFilter) == 1)
        let r = try recall(graph, exact, queries: queries, k: 10, filter: ScopePath.root.visibleFilter)
        #expect(r >= 0.95, "recall@10 \(r) for the root's view")
    }

    @Test func searchesRunBesideInsertsUpdatesAndRemovals() throws {
        let store = try hnsw(Self.d, .l2)
        var seed = Mixture(dimension: Self.d, clusters: 16, seed: 31)
        try store.upsert((0..<1000).map { record($0, seed.next()) })
        let queries = (0..<50).map { _ in seed.next() }
        let failures = Guarded([String]())
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            if worker == 0 {
                // The writer: batches of inserts, vector updates and removals.
                var data = Mixture(dimension: Self.d, clusters: 16, seed: 32)
                for round in 0..<40 {
                    do {
                        let fresh = (0..<25).map { record(1000 + round * 25 + $0, data.next()) }
                        let moved = (0..<10).map { record(round * 10 + $0, data.next()) }
                        try store.commit(StoreChange(upserts: fresh + moved, removals: (0..<5).map { "m\(500 + round * 5 + $0)" }))
                    } catch {
                        failures.write { $0.append("write: \(error)") }
                    }
                }
            } else {
                for round in 0..<200 {
                    do {
                        let hits = try store.search(queries[(round + worker) % queries.count], k: 10, filter: nil)
                        if hits.count != 10 || Set(hits.map(\.record.memory.id)).count != 10 {
                            failures.write { $0.append("search \(round): \(hits.count) hits") }
                        }
                    } catch {
                        failures.write { $0.append("search: \(error)") }
                    }
                }
            }
        }
        #expect(failures.read { $0 }.isEmpty, "\(failures.read { $0 }.prefix(3))")
        #expect(try store.count() == 1000 + 40 * 25 - 40 * 5)
        #expect(store.graphStats?.nodes == 1800)
    }

    @Test func autoKeepsAGraphOnlyFromItsSizeOn() throws {
        let settings = VectorIndexSettings(kind: .auto, m: 8, efConstruction: 40, autoRows: 400)
        let store = try InMemoryVectorStore(dimension: 8, metric: .l2, index: settings)
        var data = Mixture(dimension: 8, clusters: 4, seed: 1)
        try store.upsert((0..<399).map { record($0, data.next()) })
        #expect(store.graphStats == nil)
        try store.upsert([record(399, data.next())])
        #expect(store.graphStats?.nodes == 400)
        _ = try store.remove(ids: (0..<250).map { "m\($0)" })
        #expect(store.graphStats == nil, "an auto store below half its threshold drops the graph")
        #expect(try store.count() == 150)
    }

    @Test func aRollbackRebuildsTheGraphForTheRestoredRows() throws {
        var data = Mixture(dimension: Self.d, clusters: 10, seed: 8)
        let graph = try hnsw(Self.d, .l2)
        let first = (0..<1500).map { record($0, data.next()) }
        try graph.upsert(first)
        _ = try graph.snapshot(name: "before", at: Timestamp(milliseconds: 1))
        _ = try graph.remove(ids: (0..<700).map { "m\($0)" })
        try graph.upsert((1500..<2000).map { record($0, data.next()) })
        _ = try graph.rollback(name: "before", at: Timestamp(milliseconds: 2))
        #expect(try graph.count() == 1500)
        #expect(graph.graphStats?.nodes == 1500)
        let exact = try InMemoryVectorStore(dimension: Self.d, metric: .l2, index: .exact)
        try exact.upsert(first)
        let r = try recall(graph, exact, queries: (0..<40).map { _ in data.next() }, k: 10)
        #expect(r >= 0.95, "recall@10 \(r) after a rollback")
    }

    @Test func aMetadataOnlyUpdateLeavesTheGraphAlone() throws {
        var data = Mixture(dimension: 8, clusters: 3, seed: 2)
        let store = try hnsw(8, .cosine)
        let rows = (0..<300).map { record($0, data.next()) }
        try store.upsert(rows)
        let before = store.graphStats
        try store.upsert(rows.map { StoredRecord(memory: Memory(id: $0.memory.id, content: "seen", createdAt: Timestamp(milliseconds: 5)), vector: $0.vector) })
        #expect(store.graphStats?.nodes == before?.nodes)
        #expect(try store.get(id: "m3")?.memory.content == "seen")
    }

    @Test func indexOptionsAreCheckedByName() {
        func options(_ index: String) -> JSONValue {
            try! JSONParser.parse("{\"dimension\": 4, \"index\": \(index)}")
        }
        let cases: [(String, String)] = [
            ("{\"type\": \"hnsw\", \"mm\": 3}", "mm"),
            ("{\"type\": \"tree\"}", "type"),
            ("{\"type\": \"hnsw\", \"m\": 1}", "m"),
            ("{\"type\": \"hnsw\", \"m\": 32, \"ef_construction\": 16}", "ef_construction"),
            ("{\"type\": \"hnsw\", \"auto_rows\": 10}", "auto_rows"),
        ]
        for (index, key) in cases {
            #expect {
                _ = try InMemoryVectorStore(options: options(index), path: "memory options")
            } throws: { error in
                let e = error as! StrataError
                return e.code == .invalidConfig && e.message.contains("memory options.index") && e.message.contains(key)
            }
        }
        #expect(throws: Never.self) {
            let store = try InMemoryVectorStore(options: options("{\"type\": \"hnsw\", \"m\": 8, \"ef_search\": 20}"), path: "memory options")
            #expect(store.index.kind == .hnsw && store.index.m == 8 && store.index.efSearch == 20)
        }
    }
}

@Suite struct HNSWSavedGraphTests {
    static let d = 16

    /// A fresh folder under the build folder (a fixed path in /tmp was left behind by every run).
    private func folder(_ name: String) -> String { scratchFolder("hnsw-tests", name) }

    private func filled(_ rows: [StoredRecord]) throws -> InMemoryVectorStore {
        let store = try hnsw(Self.d, .cosine)
        try store.upsert(rows)
        return store
    }

    @Test func aSavedGraphRestoresAsItWasAndAnswersTheSame() throws {
        var data = Mixture(dimension: Self.d, clusters: 12, seed: 21)
        let rows = (0..<1500).map { record($0, data.next()) }
        let original = try filled(rows)
        _ = try original.remove(ids: (0..<100).map { "m\($0 * 7)" })  // holes: rows keep their numbers
        let path = folder("same") + "/g.hnsw"
        try original.saveGraph(to: path)
        let restored = try hnsw(Self.d, .cosine)
        restored.beginRestore(graphFile: path)
        // Rows arrive in another order, as a store's load may give them.
        try restored.upsert(rows.reversed().filter { r in !(0..<100).contains { "m\($0 * 7)" == r.memory.id } })
        #expect(restored.endRestore(graphFile: path) == nil, "an up-to-date file is used as it is, silently")
        #expect(restored.graphStats?.nodes == 1400)
        for _ in 0..<20 {
            let q = data.next()
            #expect(try restored.search(q, k: 10, filter: nil).map(\.record.memory.id) == original.search(q, k: 10, filter: nil).map(\.record.memory.id),
                    "the same graph gives the same answers")
        }
    }

    @Test func aGraphBehindTheRowsIsRepairedAndSaysSo() throws {
        var data = Mixture(dimension: Self.d, clusters: 12, seed: 22)
        let rows = (0..<1500).map { record($0, data.next()) }
        let path = folder("behind") + "/g.hnsw"
        try filled(rows).saveGraph(to: path)
        // Since the save: 100 removed, 50 changed, 200 added.
        var now = Array(rows[100...])
        for i in 0..<50 { now[i] = record(100 + i, data.next()) }
        now += (1500..<1700).map { record($0, data.next()) }
        let restored = try hnsw(Self.d, .cosine)
        restored.beginRestore(graphFile: path)
        try restored.upsert(now)
        let line = restored.endRestore(graphFile: path)
        #expect(line?.contains("linked 250 new or changed rows, unlinked 150") == true, "\(line ?? "no report")")
        #expect(restored.graphStats?.nodes == 1600)
        let exact = try InMemoryVectorStore(dimension: Self.d, metric: .cosine, index: .exact)
        try exact.upsert(now)
        let r = try recall(restored, exact, queries: (0..<40).map { _ in data.next() }, k: 10)
        #expect(r >= 0.95, "recall@10 \(r) after the repair")
    }

    @Test func aSaveRemovesTheTemporaryFilesOfGoneProcessesAndLeavesOthersAlone() throws {
        var data = Mixture(dimension: Self.d, clusters: 4, seed: 24)
        let rows = (0..<200).map { record($0, data.next()) }
        let store = try filled(rows)
        let path = folder("temporaries") + "/g.hnsw"
        // A process killed in the middle of a save (no such pid), and one still saving (pid 1 runs).
        for pid in ["2147483646", "1"] {
            let f = fopen(path + ".tmp-" + pid, "wb")!
            fputs("half a graph", f)
            fclose(f)
        }
        try store.saveGraph(to: path)
        #expect(access(path + ".tmp-2147483646", F_OK) != 0, "a gone process's temporary file is removed")
        #expect(access(path + ".tmp-1", F_OK) == 0, "a running process's temporary file is left to it")
        #expect(access(path + ".tmp-\(getpid())", F_OK) != 0, "our own temporary file was renamed into place")
        let restored = try hnsw(Self.d, .cosine)
        restored.beginRestore(graphFile: path)
        try restored.upsert(rows)
        #expect(restored.endRestore(graphFile: path) == nil, "the file saved beside the others is whole and current")
    }

    @Test(arguments: ["flipped byte", "cut short", "other settings", "not a graph"])
    func aDamagedOrForeignFileIsReportedAndTheGraphRebuilt(damage: String) throws {
        var data = Mixture(dimension: Self.d, clusters: 12, seed: 23)
        let rows = (0..<800).map { record($0, data.next()) }
        let path = folder("damage-\(String(damage.map { $0 == " " ? "-" : $0 }))") + "/g.hnsw"
        try filled(rows).saveGraph(to: path)
        var bytes = try WholeFile.read(path)
        switch damage {
        case "flipped byte": bytes[bytes.count / 2] ^= 0x40
        case "cut short": bytes.removeLast(bytes.count / 3)
        case "not a graph": bytes = Array("{\"hello\": 1}".utf8)
        default: break
        }
        if damage != "other settings" {
            let f = fopen(path, "wb")!
            fwrite(bytes, 1, bytes.count, f)
            fclose(f)
        }
        let restored = try damage == "other settings"
            ? InMemoryVectorStore(dimension: Self.d, metric: .cosine, index: VectorIndexSettings(kind: .hnsw, m: 6, efConstruction: 50))
            : hnsw(Self.d, .cosine)
        restored.beginRestore(graphFile: path)
        try restored.upsert(rows)
        let line = restored.endRestore(graphFile: path)
        #expect(line?.contains("was not used") == true && line?.contains(path) == true, "\(line ?? "no report")")
        #expect(try restored.count() == 800, "no row is lost to a bad graph file")
        #expect(restored.graphStats?.nodes == 800)
        #expect(try restored.search(rows[5].vector, k: 1, filter: nil).first?.record.memory.id == "m5")
    }
}

#if canImport(Glibc)
import Glibc
#endif
