import Dispatch
import StrataCore
import Synchronization

/// The cases every vector store must pass, built in or loaded from a plugin.
///
///     let results = VectorStoreConformance.run { try InMemoryVectorStore(dimension: 16) }
///
/// `make` must return a new, empty store of the given dimension and cosine metric each call.
public enum VectorStoreConformance {
    public static let dimension = 16

    static func memory(_ id: String, _ content: String, metadata: [String: JSONValue] = [:], scope: String = "") -> Memory {
        Memory(id: id, content: content, metadata: metadata, scope: (try? ScopePath(scope)) ?? .root,
               createdAt: Timestamp(milliseconds: 1_700_000_000_000), model: "conformance")
    }

    /// - Parameters:
    ///   - metric: the metric of the stores `make` returns; rankings are checked against it.
    ///   - suite: the name results carry.
    @discardableResult
    public static func run(metric: Metric = .cosine, suite: String = "vector_store", session: CheckSession = CheckSession(),
                           make: () throws -> any VectorStore) -> [ConformanceResult] {
        let runner = CaseRunner(suite: suite, session: session)
        let d = dimension
        var rng = SeededGenerator(state: 42)
        let vectors = (0..<64).map { _ in rng.vector(d) }

        runner.run("empty store counts zero and finds nothing") {
            let s = try make()
            try expect(s.dimension == d, "dimension is \(s.dimension), expected \(d)")
            try expect(try s.count() == 0, "count of a new store is \(try s.count())")
            try expect(try s.search(vectors[0], k: 5, filter: nil).isEmpty, "search in an empty store found something")
            try expect(try s.get(id: "nope") == nil, "get of an unknown id returned a record")
        }

        runner.run("upsert then get returns the same memory and direction") {
            let s = try make()
            let m = memory("a", "alpha beta", metadata: ["user": "alice", "n": 3, "tags": ["x", "y"]], scope: "org/a")
            try s.upsert([StoredRecord(memory: m, vector: vectors[0])])
            guard let r = try s.get(id: "a") else { throw ConformanceFailure(message: "get after upsert returned nil") }
            try expect(r.memory == m, "memory changed on the way through: \(r.memory) vs \(m)")
            try expect(r.vector.count == d, "vector has \(r.vector.count) floats")
            try expect(Vectors.cosine(r.vector, vectors[0]) > 0.9999, "vector direction changed")
        }

        runner.run("upsert replaces by id") {
            let s = try make()
            try s.upsert([StoredRecord(memory: memory("a", "one"), vector: vectors[0])])
            try s.upsert([StoredRecord(memory: memory("a", "two"), vector: vectors[1])])
            try expect(try s.count() == 1, "count after replacing is \(try s.count())")
            try expect(try s.get(id: "a")?.memory.content == "two", "content was not replaced")
        }

        runner.run("search returns the exact nearest neighbours, best first, at most k") {
            let s = try make()
            try s.upsert(vectors.enumerated().map { StoredRecord(memory: memory("v\($0.offset)", "v"), vector: $0.element) })
            for qi in [0, 17, 63] {
                let hits = try s.search(vectors[qi], k: 5, filter: nil)
                try expect(hits.count == 5, "k = 5 returned \(hits.count) hits")
                // Under dot a longer vector can outscore the query's own: the reference decides.
                try expect(metric == .dot || hits[0].record.memory.id == "v\(qi)", "nearest to v\(qi) is \(hits[0].record.memory.id)")
                let expected = VectorStoreContract.reference(vectors[qi], vectors, metric: metric).prefix(5).map { "v\($0.index)" }
                try expect(hits.map(\.record.memory.id) == expected, "top 5 \(hits.map(\.record.memory.id)) != exact \(expected)")
                try expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score }, "hits are not best first")
            }
        }

        runner.run("search honours a filter exactly") {
            let s = try make()
            try s.upsert(vectors.enumerated().map {
                StoredRecord(memory: memory("v\($0.offset)", "v", metadata: ["group": .number(Double($0.offset % 4))]), vector: $0.element)
            })
            let filter = Filter.condition(path: ["metadata", "group"], .eq(2))
            let hits = try s.search(vectors[0], k: 100, filter: filter)
            try expect(hits.count == 16, "filter group == 2 should keep 16 of 64, got \(hits.count)")
            try expect(hits.allSatisfy { $0.record.memory.metadata["group"] == 2 }, "a hit does not match the filter")
            let none = try s.search(vectors[0], k: 10, filter: .condition(path: ["metadata", "group"], .eq(9)))
            try expect(none.isEmpty, "a filter matching nothing returned \(none.count) hits")
        }

        runner.run("every filter means what Filter.matches says, trivial ones too") {
            // One filter semantics for every backend: a store that translates filters (to SQL,
            // through the JSON a plugin receives) must agree with the reference evaluation,
            // also for filters with no condition ({}, {"$or": [{}]}) and for $exists on null.
            let s = try make()
            let records = (0..<8).map { i in
                StoredRecord(memory: memory("f\(i)", "f", metadata: [
                    "group": .number(Double(i % 3)), "note": i % 2 == 0 ? .null : .string("n\(i)"),
                ]), vector: vectors[i])
            }
            try s.upsert(records)
            let filters: [(String, JSONValue)] = [
                ("{}", [:]), ("{\"$or\": [{}]}", ["$or": [[:]]]), ("{\"$not\": {}}", ["$not": [:]]),
                ("{\"$not\": {\"$or\": [{}]}}", ["$not": ["$or": [[:]]]]),
                ("{\"group\": 1, \"$or\": [{}]}", ["group": 1, "$or": [[:]]]),
                ("{\"$or\": [{}, {\"group\": 2}]}", ["$or": [[:], ["group": 2]]]),
                ("{\"note\": {\"$exists\": true}}", ["note": ["$exists": true]]),
                ("{\"note\": {\"$exists\": false}}", ["note": ["$exists": false]]),
            ]
            for (text, json) in filters {
                let filter = try Filter.parse(json, prefix: ["metadata"])
                let expected = Set(records.filter { filter.matches($0.memory) }.map(\.memory.id))
                let found = Set(try s.search(vectors[0], k: 100, filter: filter).map(\.record.memory.id))
                try expect(found == expected, "search with \(text) found \(found.sorted()), expected \(expected.sorted())")
                var scanned = Set<String>()
                try s.scan(filter: filter) { scanned.insert($0.memory.id); return true }
                try expect(scanned == expected, "scan with \(text) found \(scanned.sorted()), expected \(expected.sorted())")
            }
        }

        runner.run("remove deletes known ids and skips unknown ones") {
            let s = try make()
            try s.upsert((0..<3).map { StoredRecord(memory: memory("r\($0)", "r"), vector: vectors[$0]) })
            let removed = try s.remove(ids: ["r1", "unknown"])
            try expect(removed == 1, "removed \(removed), expected 1")
            try expect(try s.count() == 2, "count after remove is \(try s.count())")
            try expect(try s.get(id: "r1") == nil, "removed record still there")
            try expect(try s.search(vectors[1], k: 3, filter: nil).allSatisfy { $0.record.memory.id != "r1" }, "search found a removed record")
        }

        runner.run("a batch with a bad vector stores nothing") {
            let s = try make()
            try s.upsert([StoredRecord(memory: memory("keep", "k"), vector: vectors[0])])
            var bad = vectors[2]
            bad[3] = .nan
            try expectError(.invalidVector, "upsert with NaN") {
                try s.upsert([StoredRecord(memory: memory("x", "x"), vector: vectors[1]), StoredRecord(memory: memory("y", "y"), vector: bad)])
            }
            try expectError(.dimension, "upsert with a short vector") {
                try s.upsert([StoredRecord(memory: memory("z", "z"), vector: Array(vectors[1].prefix(d - 1)))])
            }
            try expect(try s.count() == 1, "a failed batch changed the count to \(try s.count())")
            try expect(try s.get(id: "x") == nil, "part of a failed batch was stored")
        }

        runner.run("scan visits every record, or those matching a filter") {
            let s = try make()
            try s.upsert((0..<10).map { StoredRecord(memory: memory("s\($0)", "s", metadata: ["even": .bool($0 % 2 == 0)]), vector: vectors[$0]) })
            var all = Set<String>()
            try s.scan(filter: nil) { all.insert($0.memory.id); return true }
            try expect(all.count == 10, "scan saw \(all.count) of 10")
            var even = 0
            try s.scan(filter: .condition(path: ["metadata", "even"], .eq(true))) { _ in even += 1; return true }
            try expect(even == 5, "filtered scan saw \(even), expected 5")
            var seen = 0
            try s.scan(filter: nil) { _ in seen += 1; return seen < 3 }
            try expect(seen == 3, "scan did not stop when asked (saw \(seen))")
        }

        runner.run("keyword search, when provided, ranks the matching content first") {
            let s = try make()
            guard s.providesKeywordSearch else { return }
            try s.upsert([
                StoredRecord(memory: memory("k1", "the quick brown fox"), vector: vectors[0]),
                StoredRecord(memory: memory("k2", "a lazy dog sleeps"), vector: vectors[1]),
                StoredRecord(memory: memory("k3", "fox and fox again"), vector: vectors[2]),
            ])
            let hits = try s.keywordSearch("fox", k: 10, filter: nil)
            try expect(Set(hits.map(\.record.memory.id)) == ["k1", "k3"], "keyword hits \(hits.map(\.record.memory.id))")
            try expect(hits.first?.record.memory.id == "k3", "the denser match should rank first")
        }

        runner.run("a batch of 2,000 upserts is counted and searchable") {
            let s = try make()
            var g = SeededGenerator(state: 7)
            let big = (0..<2000).map { StoredRecord(memory: memory("b\($0)", "b"), vector: g.vector(d)) }
            try s.upsert(big)
            try expect(try s.count() == 2000, "count is \(try s.count())")
            let hits = try s.search(big[1234].vector, k: 1, filter: nil)
            try expect(metric == .dot || hits.first?.record.memory.id == "b1234", "nearest of b1234 is \(hits.first?.record.memory.id ?? "none")")
        }

        runner.run("commit applies upserts and removals together") {
            let s = try make()
            try s.upsert([StoredRecord(memory: memory("old", "o"), vector: vectors[0])])
            try s.commit(StoreChange(upserts: [StoredRecord(memory: memory("new", "n"), vector: vectors[1])], removals: ["old", "unknown"]))
            try expect(try s.get(id: "old") == nil, "commit did not remove \"old\"")
            try expect(try s.get(id: "new")?.memory.content == "n", "commit did not store \"new\"")
            try expect(try s.count() == 1, "count after commit is \(try s.count())")
        }

        runner.run("history, when kept, returns each memory's rows in order") {
            let s = try make()
            guard s.keepsHistory else {
                try expectError(.unsupported, "history on a store that keeps none") { _ = try s.history(id: "h") }
                return
            }
            let t = Timestamp(milliseconds: 1_700_000_000_000)
            let first = memory("h", "first"), second = memory("h", "second")
            try s.commit(StoreChange(upserts: [StoredRecord(memory: first, vector: vectors[0])], history: [
                HistoryEntry(event: .add, memoryID: "h", at: t, old: nil, new: first, reason: "stored"),
            ]))
            try s.commit(StoreChange(upserts: [StoredRecord(memory: second, vector: vectors[1])], history: [
                HistoryEntry(event: .update, memoryID: "h", at: t.adding(seconds: 1), old: first, new: second, reason: "updated"),
            ]))
            try s.commit(StoreChange(removals: ["h"], history: [
                HistoryEntry(event: .delete, memoryID: "h", at: t.adding(seconds: 2), old: second, new: nil, reason: "forgotten"),
            ]))
            let rows = try s.history(id: "h")
            try expect(rows.map(\.event) == [.add, .update, .delete], "history events \(rows.map(\.event.rawValue))")
            try expect(rows[1].old == first && rows[1].new == second, "the UPDATE row lost its old or new memory")
            try expect(rows[2].reason == "forgotten" && rows[2].at == t.adding(seconds: 2), "the DELETE row changed on the way")
            try expect(try s.history(id: "never").isEmpty, "history of an unknown id is not empty")
            try expect(try s.get(id: "h") == nil, "the forgotten memory is still there")
        }

        runner.run("a commit with a bad vector changes nothing, history included") {
            let s = try make()
            try s.upsert([StoredRecord(memory: memory("keep", "k"), vector: vectors[0])])
            var bad = vectors[2]
            bad[0] = .infinity
            let m = memory("x", "x")
            try expectError(.invalidVector, "commit with an infinite vector") {
                try s.commit(StoreChange(
                    upserts: [StoredRecord(memory: m, vector: vectors[1]), StoredRecord(memory: memory("y", "y"), vector: bad)],
                    removals: ["keep"],
                    history: [HistoryEntry(event: .add, memoryID: "x", at: Timestamp(milliseconds: 0), old: nil, new: m, reason: "stored")]))
            }
            try expect(try s.get(id: "keep") != nil, "a failed commit removed a record")
            try expect(try s.get(id: "x") == nil, "part of a failed commit was stored")
            if s.keepsHistory { try expect(try s.history(id: "x").isEmpty, "a failed commit left a history row") }
        }

        runner.run("a store without snapshots says so") {
            let s = try make()
            guard !s.providesSnapshots else { return }
            let t = Timestamp(milliseconds: 1_700_000_000_000)
            try expectError(.unsupported, "snapshot on a store without snapshots") { _ = try s.snapshot(name: "s", at: t) }
            try expectError(.unsupported, "snapshots on a store without snapshots") { _ = try s.snapshots() }
            try expectError(.unsupported, "rollback on a store without snapshots") { _ = try s.rollback(name: "s", at: t) }
        }

        runner.run("rollback, when provided, restores exactly what the snapshot held") {
            let s = try make()
            guard s.providesSnapshots else { return }
            let t = Timestamp(milliseconds: 1_700_000_000_000), later = Timestamp(milliseconds: 1_700_000_360_000)
            var originals = (0..<6).map { i in
                var m = memory("r\(i)", "record number \(i) about topic\(i)", metadata: ["i": .number(Double(i)), "tags": ["a", .number(Double(i))]])
                m.accessCount = i * 3
                m.importance = 0.1 * Double(i) + 0.05
                return StoredRecord(memory: m, vector: vectors[i])
            }
            originals[5].memory.expiresAt = t.adding(seconds: 60)
            try s.upsert(originals)
            let before = try records(s)
            let info = try s.snapshot(name: "before-1", at: t)
            try expect(info.name == "before-1" && info.memories == 6 && info.createdAt == t, "snapshot answered \(info)")

            var edited = originals[0]
            edited.memory.content = "an edited record about something else"
            edited.memory.accessCount += 10
            edited.memory.metadata["i"] = "changed"
            var moved = originals[1]
            moved.vector = vectors[40]
            try s.commit(StoreChange(
                upserts: [edited, moved, StoredRecord(memory: memory("n1", "newcomer one"), vector: vectors[50]),
                          StoredRecord(memory: memory("n2", "newcomer two"), vector: vectors[51])],
                removals: ["r2", "r3"]))
            try expect(try s.count() == 6, "count after the changes is \(try s.count())")

            let report = try s.rollback(name: "before-1", at: later)
            let after = try records(s)
            try expect(after.keys.sorted() == before.keys.sorted(), "ids after rollback \(after.keys.sorted()), before \(before.keys.sorted())")
            for (id, r) in before {
                guard let back = after[id] else { continue }
                try expect(back.memory == r.memory, "\(id) came back as \(back.memory), was \(r.memory)")
                try expect(back.vector.map(\.bitPattern) == r.vector.map(\.bitPattern), "the vector of \(id) did not come back bit for bit")
            }
            try expect(report.snapshot == "before-1", "report names \(report.snapshot)")
            try expect(report.added == ["r2", "r3"], "added \(report.added)")
            try expect(report.removed == ["n1", "n2"], "removed \(report.removed)")
            try expect(report.changed == ["r0", "r1"], "changed \(report.changed)")
            try expect(report.history.allSatisfy { $0.reason == "rollback to snapshot before-1" && $0.at == later },
                       "rows carry reasons \(report.history.map(\.reason))")
            let r0 = report.history.first { $0.memoryID == "r0" }
            try expect(r0?.old == edited.memory && r0?.new == originals[0].memory, "the UPDATE row of r0 lost its old or new memory")
            try expect(try s.search(vectors[2], k: 7, filter: nil).contains { $0.record.memory.id == "r2" }, "search does not find the restored r2")
            try expect(try s.search(vectors[50], k: 7, filter: nil).allSatisfy { $0.record.memory.id != "n1" }, "search finds the removed n1")
            if s.providesKeywordSearch {
                try expect(try s.keywordSearch("edited", k: 5, filter: nil).isEmpty, "keyword search finds the rolled-back content")
                try expect(try s.keywordSearch("topic0", k: 5, filter: nil).map(\.record.memory.id) == ["r0"], "keyword search misses the restored content")
            }
            if s.keepsHistory {
                try expect(try s.history(id: "r2").last?.event == .add, "r2's history does not end with the rollback's ADD")
                try expect(try s.history(id: "n1").last?.event == .delete, "n1's history does not end with the rollback's DELETE")
                try expect(try s.history(id: "r0").last?.reason == "rollback to snapshot before-1", "r0's history misses the rollback row")
                try expect(try s.history(id: "r4").isEmpty, "an unchanged record got a history row")
            }
            let again = try s.rollback(name: "before-1", at: later)
            try expect(again.history.isEmpty, "a rollback to the current state wrote \(again.history.count) rows")
        }

        runner.run("snapshot names are checked, used once, listed and deleted") {
            let s = try make()
            guard s.providesSnapshots else { return }
            let t = Timestamp(milliseconds: 1_700_000_000_000)
            for bad in ["", "a/b", "with space", "../up", "caf\u{E9}", String(repeating: "x", count: 65)] {
                try expectError(.invalidArgument, "snapshot named \"\(bad)\"") { _ = try s.snapshot(name: bad, at: t) }
                try expectError(.invalidArgument, "rollback to \"\(bad)\"") { _ = try s.rollback(name: bad, at: t) }
            }
            try expect(try s.snapshots().isEmpty, "a bad name left a snapshot behind: \(try s.snapshots())")
            let empty = try s.snapshot(name: "empty", at: t)
            try expect(empty.memories == 0, "an empty store's snapshot holds \(empty.memories)")
            try s.upsert((0..<3).map { StoredRecord(memory: memory("k\($0)", "k"), vector: vectors[$0]) })
            let long = String(repeating: "x", count: 64)
            _ = try s.snapshot(name: long, at: t.adding(seconds: 2))
            _ = try s.snapshot(name: "v1.2_final-B", at: t.adding(seconds: 1))
            try expectError(.conflict, "a second snapshot named \"empty\"") { _ = try s.snapshot(name: "empty", at: t) }
            try expectError(.notFound, "rollback to an unknown name") { _ = try s.rollback(name: "nope", at: t) }
            let listed = try s.snapshots()
            try expect(listed.map(\.name) == ["empty", "v1.2_final-B", long], "snapshots listed \(listed.map(\.name)), oldest first")
            try expect(listed.map(\.memories) == [0, 3, 3], "snapshots count \(listed.map(\.memories))")
            try s.deleteSnapshot(name: "v1.2_final-B")
            try expectError(.notFound, "rollback to a deleted snapshot") { _ = try s.rollback(name: "v1.2_final-B", at: t) }
            try expectError(.notFound, "deleting it again") { try s.deleteSnapshot(name: "v1.2_final-B") }
            try expect(try s.snapshots().map(\.name) == ["empty", long], "snapshots after delete \(try s.snapshots().map(\.name))")
            let report = try s.rollback(name: "empty", at: t)
            try expect(report.removed == ["k0", "k1", "k2"] && (try s.count()) == 0, "rollback to an empty snapshot left \(try s.count())")
        }

        runner.run("readers run safely beside a writer") {
            let s = try make()
            try s.upsert((0..<32).map { StoredRecord(memory: memory("c\($0)", "c"), vector: vectors[$0]) })
            let errors = Mutex<[String]>([])
            let store = UncheckedBox(s)
            DispatchQueue.concurrentPerform(iterations: 4) { worker in
                do {
                    for i in 0..<50 {
                        if worker == 0 {
                            try store.value.upsert([StoredRecord(memory: memory("w\(i)", "w"), vector: vectors[i % 64])])
                        } else {
                            _ = try store.value.search(vectors[(i + worker) % 64], k: 3, filter: nil)
                            _ = try store.value.count()
                        }
                    }
                } catch {
                    errors.withLock { $0.append("\(error)") }
                }
            }
            let failures = errors.withLock { $0 }
            try expect(failures.isEmpty, "concurrent calls failed: \(failures.prefix(3))")
            try expect(try s.count() == 82, "count after concurrent writes is \(try s.count()), expected 82")
        }
        return runner.results
    }
}

/// Every record of a store by id, as `scan` gives them.
private func records(_ s: any VectorStore) throws -> [String: StoredRecord] {
    var out: [String: StoredRecord] = [:]
    try s.scan(filter: nil) { out[$0.memory.id] = $0; return true }
    return out
}

/// Carries a Sendable-by-contract value into concurrent code (the seam protocols are Sendable).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
