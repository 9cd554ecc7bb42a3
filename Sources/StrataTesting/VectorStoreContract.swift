#if canImport(Glibc)
import Glibc
#endif
import CStrata
import Dispatch
import StrataCore
import StrataPlugins
import Synchronization

/// The rules of include/strata/vector_store.h, checked by calling a plugin's vtable directly
/// (`RawVectorStore`), so nothing the host would check or repair hides what the plugin does.
/// Each case names its rule (docs/plugins.md lists them); a failing call without a message
/// breaks "failure.message" whatever the case.
enum VectorStoreContract {
    static let dimension = VectorStoreConformance.dimension
    static let knownCapabilities = UInt32(STRATA_STORE_KEYWORD_SEARCH | STRATA_STORE_HISTORY | STRATA_STORE_SNAPSHOTS
                                          | STRATA_STORE_PERSISTENT)

    /// What the checker needs to make stores: the factory and a fresh options object per store.
    struct Maker {
        let factory: PluginFactory
        let pluginName: String
        /// The ABI the plugin was built against, (major << 16) | minor.
        let abiVersion: UInt32
        /// The user's options with "{n}" made fresh for each call.
        let freshOptions: () -> JSONValue
        /// The metric the cases other than metric.* use.
        var metric: Metric = .cosine

        func config(_ options: JSONValue, metric: Metric? = nil) -> String {
            JSONWriter.string(options.setting("dimension", .number(Double(VectorStoreContract.dimension)))
                .setting("metric", .string((metric ?? self.metric).rawValue)))
        }

        /// A new store with fresh options; a refusal fails the case with the plugin's message.
        func make(metric: Metric? = nil, options: JSONValue? = nil) throws -> RawVectorStore {
            let (outcome, store) = RawVectorStore.create(factory, config: config(options ?? freshOptions(), metric: metric),
                                                         dimension: VectorStoreContract.dimension)
            guard let store else {
                throw ConformanceFailure(message: "create failed: \(outcome.statusName): \(outcome.message ?? "(no message)")")
            }
            return store
        }
    }

    /// Runs every case. When the store cannot even be created with the given options, that is
    /// reported once, as the first case, and the rest are not run.
    /// - Returns: the metric the other cases used, nil when no store could be created.
    @discardableResult
    static func run(_ maker: Maker, session: CheckSession) -> Metric? {
        let runner = CaseRunner(suite: "vector_store", session: session)
        var maker = maker
        let d = dimension

        // ---- creation: a load-level fault is reported once -------------------------------------
        var created: RawVectorStore?
        var createProblem: String?
        let givenMetric = maker.freshOptions().objectValue?["metric"]
        let metricGiven = givenMetric?.stringValue.flatMap(Metric.init(rawValue:))
        if let givenMetric, metricGiven == nil {
            runner.record("creates a store with the given options", rule: "create.options",
                          failure: "the options' \"metric\" is \(JSONWriter.string(givenMetric)), not \"cosine\", \"dot\" or \"l2\"")
            return nil
        }
        for m in metricGiven.map({ [$0] }) ?? [.cosine, .dot, .l2] {
            let (outcome, store) = RawVectorStore.create(maker.factory, config: maker.config(maker.freshOptions(), metric: m), dimension: d)
            if let store { created = store; maker.metric = m; break }
            createProblem = createProblem ?? "\(outcome.statusName): \(outcome.message ?? "(no message)")"
        }
        let tried = metricGiven.map { "metric \($0.rawValue), as the options say" } ?? "every metric (cosine, dot, l2)"
        runner.record(created == nil ? "creates a store with the given options" : "creates a store with the given options (metric \(maker.metric.rawValue))",
                      rule: "create.options", failure: created == nil ? "create failed with \(tried); first: \(createProblem ?? "?")" : nil)
        guard let probe = created else { return nil }
        let capabilities = probe.capabilities ?? 0
        let threadSafe = probe.isThreadSafe
        let hasCommit = probe.vtable.commit != nil
        let keepsHistory = probe.capabilities.map { $0 & UInt32(STRATA_STORE_HISTORY) != 0 }
            ?? (probe.vtable.commit != nil && probe.vtable.history != nil)
        let persistent = capabilities & UInt32(STRATA_STORE_PERSISTENT) != 0
        probe.destroy()
        created = nil
        let metric = maker.metric
        let make = maker

        runner.run("refuses an unknown option key and an unknown metric, naming them", rule: "create.options") {
            let key = "strata_checker_no_such_option"
            let (o1, s1) = RawVectorStore.create(make.factory, config: make.config(make.freshOptions().setting(key, true)), dimension: d)
            s1?.destroy()
            try expectFailure(o1, .invalidConfig, "create with the unknown option \"\(key)\"")
            try expect(o1.message?.contains(key) == true, "the message for an unknown option does not name it: \"\(o1.message ?? "")\"")
            let bad = JSONWriter.string(make.freshOptions().setting("dimension", .number(Double(d))).setting("metric", "manhattan"))
            let (o2, s2) = RawVectorStore.create(make.factory, config: bad, dimension: d)
            s2?.destroy()
            try expectFailure(o2, .invalidConfig, "create with metric \"manhattan\"")
        }

        // ---- metrics -------------------------------------------------------------------------------
        var rng = SeededRandom(seed: 42)
        // Magnitudes differ, so dot, cosine and l2 rank differently.
        let vectors = (0..<48).map { i in rng.vector(d).map { $0 * Float(0.5 + Double(i % 7) * 0.4) } }
        let queries = (0..<3).map { _ in rng.vector(d).map { $0 * 1.5 } }
        for m in Metric.allCases {
            runner.run("\(m.rawValue): hits and scores match the reference, or the metric is refused at create", rule: "metric.\(m.rawValue)") {
                let (outcome, store) = RawVectorStore.create(make.factory, config: make.config(make.freshOptions(), metric: m), dimension: d)
                guard let s = store else {
                    try expectFailure(outcome, .invalidConfig, "create with metric \(m.rawValue) (a metric a store does not offer is refused so)")
                    return
                }
                defer { s.destroy() }
                try expectOK(s.upsert(vectors.enumerated().map { record("m\($0.offset)", vector: $0.element) }), "upsert 48 records")
                for q in queries {
                    let expected = reference(q, vectors, metric: m).prefix(10)
                    let (o, hits) = try s.search(q, k: 10)
                    try expectOK(o, "search k = 10")
                    try expect(hits.records.map(\.id) == expected.map { "m\($0.index)" },
                               "\(m.rawValue) hits \(hits.records.map(\.id)), reference \(expected.map { "m\($0.index)" })")
                    for (score, ref) in zip(hits.scores, expected) {
                        try expect(abs(Double(score) - ref.score) <= 1e-4 * max(1, abs(ref.score)),
                                   "\(m.rawValue) score of m\(ref.index) is \(score), reference \(ref.score)"
                                       + (m == .l2 ? " (l2 scores are minus the squared distance)" : ""))
                    }
                }
            }
        }

        // ---- get, JSON, upsert -------------------------------------------------------------------
        runner.run("get of an absent id is STRATA_ERR_NOT_FOUND without a callback", rule: "get.not_found") {
            let s = try make.make()
            defer { s.destroy() }
            try expectOK(s.upsert([record("present", vector: vectors[0])]), "upsert")
            let (o, c) = s.get("absent")
            try expect(c.records.isEmpty, "get of an absent id passed \(c.records.count) record(s) to the callback")
            try expectFailure(o, .notFound, "get of an absent id")
            let (o2, c2) = s.get("present")
            try expectOK(o2, "get of a present id")
            try expect(c2.records.map(\.id) == ["present"], "get of \"present\" passed \(c2.records.map(\.id))")
        }

        runner.run("record JSON comes back byte for byte from get, search and scan", rule: "json.verbatim") {
            let s = try make.make()
            defer { s.destroy() }
            let tricky = [
                record("j0", content: "plain", vector: vectors[0]),
                record("j1", content: "caf\u{E9} \u{6587}\u{5B57} \u{1F642} \"quoted\" back\\slash\nnew line\ttab", vector: vectors[1],
                       metadata: ["nested": ["a": [1, 2.5, "x"], "b": .null], "unicode": "\u{00FC}ber", "flag": true]),
                record("j2", content: String(repeating: "a long memory, ", count: 400), vector: vectors[2]),
            ]
            try expectOK(s.upsert(tricky), "upsert")
            for r in tricky {
                let (o, c) = s.get(r.id)
                try expectOK(o, "get \(r.id)")
                try expect(c.records.first?.json == r.json, "get \(r.id) gave back other JSON:\n  sent \(r.json.prefix(120))\n  got  \((c.records.first?.json ?? "nothing").prefix(120))")
            }
            let (o, hits) = try s.search(vectors[1], k: 3)
            try expectOK(o, "search")
            for h in hits.records { try expect(tricky.first { $0.id == h.id }?.json == h.json, "search gave back other JSON for \(h.id)") }
            let (o2, scanned) = try s.scan()
            try expectOK(o2, "scan")
            for h in scanned.records { try expect(tricky.first { $0.id == h.id }?.json == h.json, "scan gave back other JSON for \(h.id)") }
        }

        runner.run("upsert of an existing id replaces it", rule: "upsert.replace") {
            let s = try make.make()
            defer { s.destroy() }
            try expectOK(s.upsert([record("a", content: "one", vector: vectors[0])]), "upsert")
            let second = record("a", content: "two", vector: vectors[1])
            try expectOK(s.upsert([second]), "upsert again")
            let (o, n) = s.count()
            try expectOK(o, "count")
            try expect(n == 1, "count after replacing is \(n)")
            try expect(s.get("a").1.records.first?.json == second.json, "the record was not replaced")
        }

        runner.run("a NaN or an infinity is STRATA_ERR_INVALID_VECTOR", rule: "upsert.non_finite") {
            let s = try make.make()
            defer { s.destroy() }
            for (label, bad) in [("NaN", Float.nan), ("infinity", Float.infinity), ("-infinity", -Float.infinity)] {
                var v = vectors[3]
                v[5] = bad
                try expectFailure(s.upsert([record("bad", vector: v)]), .invalidVector, "upsert of a vector holding \(label)")
                var q = queries[0]
                q[2] = bad
                try expectFailure(try s.search(q, k: 3).0, .invalidVector, "search with a query holding \(label)")
            }
            try expect(s.count().1 == 0, "a refused vector was stored")
        }

        runner.run("a batch with a bad record anywhere stores nothing of it", rule: "upsert.all_or_none") {
            let s = try make.make()
            defer { s.destroy() }
            let keep = record("keep", content: "kept", vector: vectors[0])
            try expectOK(s.upsert([keep]), "upsert")
            var nan = vectors[4]
            nan[0] = .nan
            let batch = [record("n0", vector: vectors[1]), record("n1", vector: vectors[2]), record("n2", vector: nan),
                         record("n3", vector: vectors[5]), record("keep", content: "replaced", vector: vectors[6])]
            let o = s.upsert(batch)
            try expect(!o.ok, "a batch whose record 3 of 5 holds a NaN returned STRATA_OK")
            try expectMessage(o, "the failed batch")
            let (_, n) = s.count()
            try expect(n == 1, "after a failed batch the store holds \(n) records, expected 1: all or none")
            for id in ["n0", "n1", "n3"] { try expect(s.get(id).1.records.isEmpty, "\(id), before or after the bad record, was stored") }
            try expect(s.get("keep").1.records.first?.json == keep.json, "the failed batch changed an existing record")
        }

        runner.run("a record or query of another dimension is STRATA_ERR_DIMENSION", rule: "upsert.dimension") {
            let s = try make.make()
            defer { s.destroy() }
            try expectFailure(s.upsert([record("long", vector: vectors[0] + [0.5])]), .dimension, "upsert of a \(d + 1)-float record into a \(d)-dimension store")
            try expectFailure(s.upsert([record("short", vector: Array(vectors[0].dropLast()))]), .dimension, "upsert of a \(d - 1)-float record")
            try expectFailure(try s.search(queries[0] + [1], k: 3).0, .dimension, "search with a \(d + 1)-float query")
            try expect(s.count().1 == 0, "a record of the wrong dimension was stored")
        }

        runner.run("arrays of records are strided by struct_size (STRATA_RECORD_AT)", rule: "upsert.stride") {
            // The rule is written since ABI 1.5: a host passes longer records only to plugins built
            // against 1.5 or newer, so older plugins are not held to it.
            guard make.abiVersion >= 1 << 16 | 5 else { return }
            let s = try make.make()
            defer { s.destroy() }
            let batch = (0..<5).map { record("p\($0)", content: "padded \($0)", vector: vectors[10 + $0]) }
            try expectOK(s.upsert(batch, padding: 16), "upsert of 5 records whose struct_size is sizeof(strata_record) + 16")
            for r in batch {
                let got = s.get(r.id).1.records.first
                try expect(got?.json == r.json, "\(r.id) is missing or wrong after an upsert with longer structs: index records with STRATA_RECORD_AT")
                try expect(got.map { sameVector($0.vector, r.vector, metric) } == true, "the vector of \(r.id) changed")
            }
        }

        // ---- search ------------------------------------------------------------------------------
        runner.run("search gives min(k, n) distinct hits, best first; k = 0 gives none", rule: "search.k") {
            let s = try make.make()
            defer { s.destroy() }
            try expectOK(s.upsert((0..<20).map { record("k\($0)", vector: vectors[$0]) }), "upsert")
            let (o, five) = try s.search(queries[1], k: 5)
            try expectOK(o, "search k = 5")
            try expect(five.records.count == 5, "k = 5 over 20 records gave \(five.records.count) hits")
            let expected = reference(queries[1], Array(vectors[0..<20]), metric: metric).prefix(5).map { "k\($0.index)" }
            try expect(five.records.map(\.id) == expected, "top 5 \(five.records.map(\.id)), reference \(expected)")
            try expect(zip(five.scores, five.scores.dropFirst()).allSatisfy { $0 >= $1 }, "scores are not best first: \(five.scores)")
            let (o0, zero) = try s.search(queries[1], k: 0)
            try expectOK(o0, "search k = 0")
            try expect(zero.records.isEmpty, "k = 0 gave \(zero.records.count) hits")
            let (o1, all) = try s.search(queries[1], k: 100)
            try expectOK(o1, "search k = 100")
            try expect(all.records.count == 20, "k = 100 over 20 records gave \(all.records.count) hits")
            try expect(Set(all.records.map(\.id)).count == 20, "a record came back twice")
        }

        runner.run("tied scores: min(k, n) distinct hits among the tied records", rule: "search.ties") {
            let s = try make.make()
            defer { s.destroy() }
            let twin = queries[2]
            var batch = (0..<6).map { record("t\($0)", vector: twin) }
            batch += (0..<10).map { record("o\($0)", vector: vectors[20 + $0].map { $0 * 0.3 }) }
            try expectOK(s.upsert(batch), "upsert")
            let (o, hits) = try s.search(twin, k: 3)
            try expectOK(o, "search k = 3")
            try expect(hits.records.count == 3, "k = 3 with 6 records tied for first gave \(hits.records.count) hits")
            try expect(Set(hits.records.map(\.id)).count == hits.records.count && hits.records.allSatisfy { $0.id.hasPrefix("t") },
                       "k = 3 gave \(hits.records.map(\.id)), expected 3 distinct of t0...t5")
            try expect(Set(hits.scores).count == 1, "tied records got different scores: \(hits.scores)")
            let (o2, eight) = try s.search(twin, k: 8)
            try expectOK(o2, "search k = 8")
            try expect(eight.records.count == 8 && Set(eight.records.prefix(6).map(\.id)) == Set((0..<6).map { "t\($0)" }),
                       "k = 8 gave \(eight.records.map(\.id)): the 6 tied records first, then 2 others")
        }

        runner.run("search and scan keep exactly the records the filter matches", rule: "search.filter") {
            let s = try make.make()
            defer { s.destroy() }
            try expectOK(s.upsert((0..<24).map { record("f\($0)", vector: vectors[$0], metadata: ["group": .number(Double($0 % 4))]) }), "upsert")
            let filter = Filter.condition(path: ["metadata", "group"], .eq(2))
            let expected = Set((0..<24).filter { $0 % 4 == 2 }.map { "f\($0)" })
            let (o, hits) = try s.search(queries[0], k: 24, filter: filter)
            try expectOK(o, "filtered search")
            try expect(Set(hits.records.map(\.id)) == expected, "search with group == 2 gave \(hits.records.map(\.id).sorted())")
            let (o2, scanned) = try s.scan(filter: filter)
            try expectOK(o2, "filtered scan")
            try expect(scanned.records.count == expected.count && Set(scanned.records.map(\.id)) == expected,
                       "scan with group == 2 gave \(scanned.records.map(\.id).sorted())")
            let (o3, none) = try s.search(queries[0], k: 5, filter: .condition(path: ["metadata", "group"], .eq(9)))
            try expectOK(o3, "search with a filter matching nothing")
            try expect(none.records.isEmpty, "a filter matching nothing gave \(none.records.count) hits")
        }

        runner.run("a callback answering non-zero is not called again, and the call succeeds", rule: "callback.stop") {
            let s = try make.make()
            defer { s.destroy() }
            try expectOK(s.upsert((0..<10).map { record("c\($0)", vector: vectors[$0]) }), "upsert")
            let (o, hits) = try s.search(queries[0], k: 10, stopAfter: 2)
            try expectOK(o, "search stopped by its callback")
            try expect(hits.callsAfterStop == 0, "search called the hit callback \(hits.callsAfterStop) more time(s) after it answered 1")
            let (o2, scanned) = try s.scan(stopAfter: 3)
            try expectOK(o2, "scan stopped by its callback")
            try expect(scanned.callsAfterStop == 0, "scan called the callback \(scanned.callsAfterStop) more time(s) after it answered 1")
            if keepsHistory {
                try expectOK(s.commit(upserts: [record("h", vector: vectors[0])], history: (0..<4).map { historyRow("h", .update, Double($0)) }), "commit")
                let (o3, rows) = s.history("h", stopAfter: 1)
                try expectOK(o3, "history stopped by its callback")
                try expect(rows.callsAfterStop == 0, "history called the callback \(rows.callsAfterStop) more time(s) after it answered 1")
            }
        }

        runner.run("remove skips unknown ids and counts only what it removed", rule: "remove.count") {
            let s = try make.make()
            defer { s.destroy() }
            try expectOK(s.upsert((0..<3).map { record("r\($0)", vector: vectors[$0]) }), "upsert")
            let (o, removed) = s.remove(["r1", "unknown", "r1"])
            try expectOK(o, "remove")
            try expect(removed == 1, "removing [r1, unknown, r1] counted \(removed), expected 1")
            try expect(s.count().1 == 2, "count after removing one of three is \(s.count().1)")
            try expect(s.get("r1").1.records.isEmpty, "r1 is still there")
        }

        // ---- commit and history (when provided) ------------------------------------------------------
        if hasCommit {
            runner.run("a commit with a bad record changes nothing, history included", rule: "commit.all_or_none") {
                let s = try make.make()
                defer { s.destroy() }
                let keep = record("keep", vector: vectors[0])
                try expectOK(s.upsert([keep]), "upsert")
                var nan = vectors[2]
                nan[3] = .nan
                let o = s.commit(upserts: [record("x", vector: vectors[1]), record("y", vector: nan)], removals: ["keep"],
                                 history: [historyRow("x", .add, 0)])
                try expect(!o.ok, "a commit holding a NaN record returned STRATA_OK")
                try expectMessage(o, "the failed commit")
                try expect(s.get("keep").1.records.count == 1, "a failed commit removed a record")
                try expect(s.get("x").1.records.isEmpty, "a failed commit stored a record")
                if keepsHistory { try expect(s.history("x").1.texts.isEmpty, "a failed commit left a history row") }
            }

            runner.run("inside one commit upserts apply first, then removals", rule: "commit.order") {
                let s = try make.make()
                defer { s.destroy() }
                try expectOK(s.upsert([record("old", vector: vectors[0])]), "upsert")
                try expectOK(s.commit(upserts: [record("both", vector: vectors[1]), record("new", vector: vectors[2])],
                                      removals: ["both", "old", "unknown"]), "commit")
                try expect(s.get("both").1.records.isEmpty, "an id both upserted and removed in one commit is still there: removals apply after upserts")
                try expect(s.get("old").1.records.isEmpty, "the commit did not remove \"old\"")
                try expect(s.get("new").1.records.count == 1, "the commit did not store \"new\"")
                try expect(s.count().1 == 1, "count after the commit is \(s.count().1), expected 1")
            }
        }

        if keepsHistory {
            runner.run("history gives one memory's rows verbatim, oldest first", rule: "history.order") {
                let s = try make.make()
                defer { s.destroy() }
                let h = [historyRow("h", .add, 0), historyRow("h", .update, 1), historyRow("h", .delete, 3)]
                let g = historyRow("g", .add, 2)
                try expectOK(s.commit(upserts: [record("h", vector: vectors[0])], history: [h[0]]), "commit 1")
                try expectOK(s.commit(upserts: [record("h", content: "changed", vector: vectors[1])], history: [h[1]]), "commit 2")
                try expectOK(s.commit(upserts: [record("g", vector: vectors[2])], history: [g]), "commit 3")
                try expectOK(s.commit(removals: ["h"], history: [h[2]]), "commit 4")
                let (o, rows) = s.history("h")
                try expectOK(o, "history h")
                try expect(rows.texts == h.map(\.json), "history of h gave \(rows.texts.count) rows "
                           + (Set(rows.texts) == Set(h.map(\.json)) ? "in another order (oldest first is the rule)" : "that differ from the rows committed"))
                try expect(s.history("g").1.texts == [g.json], "history of g gave \(s.history("g").1.texts.count) rows, expected its 1")
                let (o2, none) = s.history("never")
                try expectOK(o2, "history of an id never seen")
                try expect(none.texts.isEmpty, "history of an id never seen gave \(none.texts.count) rows")
                // Rows of one commit append in the order given.
                let k = [historyRow("k", .add, 4), historyRow("k", .update, 4), historyRow("k", .update, 4)]
                try expectOK(s.commit(upserts: [record("k", vector: vectors[3])], history: k), "a commit with three rows")
                try expect(s.history("k").1.texts == k.map(\.json), "the three rows of one commit came back in another order or changed")
                // A plugin built before ABI 1.5 gets no history_ids (an older host could not
                // have loaded a newer plugin, so only old plugins read "memory_id" from the JSON).
                if make.abiVersion < 1 << 16 | 5 {
                    let old = historyRow("k", .delete, 5)
                    try expectOK(s.commit(removals: ["k"], history: [old], withoutHistoryIDs: true), "a commit without history_ids")
                    try expect(s.history("k").1.texts == k.map(\.json) + [old.json], "a row sent without history_ids is missing from its memory's history")
                }
            }
        }

        if keepsHistory {
            runner.run("history_tail gives the newest rows of history, oldest first, and the count", rule: "history.tail") {
                let s = try make.make()
                defer { s.destroy() }
                guard s.historyTail("t", limit: 1) != nil else { return }  // NULL, or a vtable before ABI 1.9
                let rows = (0..<5).map { historyRow("t", $0 == 0 ? .add : .update, Double($0)) }
                try expectOK(s.commit(upserts: [record("t", vector: vectors[0])], history: Array(rows[0..<2])), "commit 1")
                try expectOK(s.commit(upserts: [record("u", vector: vectors[1])], history: [historyRow("u", .add, 2)]), "commit 2")
                try expectOK(s.commit(upserts: [record("t", content: "changed", vector: vectors[2])], history: Array(rows[2...])), "commit 3")
                for limit in [0, 1, 3, 5, 9] {
                    guard let (o, got, total) = s.historyTail("t", limit: limit) else { return }
                    try expectOK(o, "history_tail t \(limit)")
                    try expect(total == 5, "history_tail of t (limit \(limit)) set a total of \(total.map(String.init) ?? "nothing"), not 5")
                    let want = rows.suffix(limit).map(\.json)
                    try expect(got.texts == Array(want), "history_tail of t with limit \(limit) gave \(got.texts.count) rows, "
                        + "not the newest \(want.count) of history in order")
                }
                guard let (o2, none, total) = s.historyTail("never", limit: 3) else { return }
                try expectOK(o2, "history_tail of an id never seen")
                try expect(none.texts.isEmpty && total == 0, "history_tail of an id never seen gave \(none.texts.count) rows and a total of "
                    + "\(total.map(String.init) ?? "nothing"), not none and 0")
                guard let (o3, _, _) = s.historyTail("t", limit: 2, nullTotal: true) else { return }
                try expect(o3.status == Int32(STRATA_ERR_INVALID_ARGUMENT), "history_tail with a NULL out_total answered \(o3.status), "
                    + "not STRATA_ERR_INVALID_ARGUMENT")
            }
        }

        runner.run("capabilities report only known bits, each backed by its functions", rule: "capabilities") {
            let s = try make.make()
            defer { s.destroy() }
            guard let caps = s.capabilities else { return }
            try expect(caps & ~knownCapabilities == 0, "capabilities has unknown bits 0x\(String(caps & ~knownCapabilities, radix: 16))")
            if caps & UInt32(STRATA_STORE_KEYWORD_SEARCH) != 0 {
                try expect(s.vtable.keyword_search != nil, "reports STRATA_STORE_KEYWORD_SEARCH but keyword_search is NULL")
            }
            if caps & UInt32(STRATA_STORE_HISTORY) != 0 {
                try expect(s.vtable.commit != nil && s.vtable.history != nil, "reports STRATA_STORE_HISTORY but commit or history is NULL")
            }
            if caps & UInt32(STRATA_STORE_SNAPSHOTS) != 0 {
                try expect(s.vtable.snapshot != nil && s.vtable.snapshots != nil && s.vtable.rollback != nil,
                           "reports STRATA_STORE_SNAPSHOTS but snapshot, snapshots or rollback is NULL (or beyond struct_size)")
            }
        }

        runner.run("index_report calls back at most once with a report that decodes and adds up", rule: "index.report") {
            let s = try make.make()
            defer { s.destroy() }
            try expectOK(s.upsert([record("a", vector: vectors[0]), record("b", vector: vectors[1])]), "upsert")
            guard let (outcome, c) = s.indexReport() else { return }  // NULL: no report, nothing to check
            try expectOK(outcome, "index_report")
            try expect(c.texts.count <= 1, "index_report called its callback \(c.texts.count) times, at most once is allowed")
            if let text = c.texts.first {
                let report: IndexReport
                do throws(StrataError) {
                    report = try IndexReport(json: try JSONParser.parse(text, what: "the index report"), what: "the index report")
                } catch {
                    throw ConformanceFailure(message: "index_report handed back \(text): \(error.message)")
                }
                try expect(report.rows == 2, "the index report counts \(report.rows) rows after 2 records were stored")
            }
            if let (refused, _) = s.indexReport(nullCallback: true) {
                try expectFailure(refused, .invalidArgument, "index_report with a NULL callback")
            }
        }

        runner.run("a NULL argument is STRATA_ERR_INVALID_ARGUMENT, never a crash", rule: "arguments.null") {
            let s = try make.make()
            defer { s.destroy() }
            try expectOK(s.upsert([record("a", vector: vectors[0])]), "upsert")
            let v = s.vtable, me = s.instance
            let noRecord: strata_record_fn = { _, _ in 0 }
            let noHit: strata_hit_fn = { _, _, _ in 0 }
            var removed = 0, n: UInt64 = 0
            let id = strdup("a")!
            defer { free(id) }
            var ids: [UnsafePointer<CChar>?] = [UnsafePointer(id)]
            try vectors[0].withUnsafeBufferPointer { q in
                var request = strata_search_request(struct_size: UInt32(MemoryLayout<strata_search_request>.size), query: q.baseAddress,
                                                    dimension: d, k: 1, filter: nil)
                let calls: [(String, () -> Int32)] = [
                    ("get with a NULL id", { v.get!(me, nil, noRecord, nil) }),
                    ("get with a NULL callback", { v.get!(me, id, nil, nil) }),
                    ("search with a NULL request", { v.search!(me, nil, noHit, nil) }),
                    ("search with a NULL callback", { v.search!(me, &request, nil, nil) }),
                    ("upsert of 1 record at NULL", { v.upsert!(me, nil, 1) }),
                    ("remove with NULL ids and count 1", { v.remove!(me, nil, 1, &removed) }),
                    ("remove with a NULL id", { var none: [UnsafePointer<CChar>?] = [nil]; return v.remove!(me, &none, 1, &removed) }),
                    ("remove with a NULL out_removed", { v.remove!(me, &ids, 1, nil) }),
                    ("scan with a NULL callback", { v.scan!(me, nil, nil, nil) }),
                    ("count with a NULL out_count", { v.count!(me, nil) }),
                ]
                for (what, call) in calls { try expectFailure(RawOutcome.of(call), .invalidArgument, what) }
            }
            try expect(v.count!(me, &n) == 0 && n == 1, "after the refused calls the store counts \(n) records, expected 1")
        }

        runner.run("every failing call leaves a message with host->fail", rule: "failure.message") {
            let s = try make.make()
            defer { s.destroy() }
            try expectMessage(s.get("absent").0, "get of an absent id")
            var nan = vectors[0]
            nan[0] = .nan
            try expectMessage(s.upsert([record("n", vector: nan)]), "upsert of a NaN")
            try expectMessage(try s.search(queries[0] + [0], k: 1).0, "search with a query of another dimension")
            let (o, extra) = RawVectorStore.create(make.factory, config: make.config(make.freshOptions().setting("strata_checker_no_such_option", true)), dimension: d)
            extra?.destroy()
            try expectMessage(o, "create with an unknown option")
        }

        // ---- persistence -----------------------------------------------------------------------------
        runner.run("a store reporting STRATA_STORE_PERSISTENT keeps every commit across instances", rule: "reopen") {
            guard persistent else { return }
            let options = make.freshOptions()
            let a = try make.make(options: options)
            let batch = (0..<10).map { record("p\($0)", content: "persisted \($0)", vector: vectors[$0]) }
            try expectOK(a.upsert(batch), "upsert 10")
            try expectOK(a.remove(["p3"]).0, "remove p3")
            var rows: [(json: String, id: String)] = []
            if hasCommit {
                let replaced = record("p4", content: "replaced", vector: vectors[30])
                rows = keepsHistory ? [historyRow("p4", .update, 5)] : []
                try expectOK(a.commit(upserts: [replaced], history: rows), "commit")
            }
            a.destroy()
            let b = try make.make(options: options)
            defer { b.destroy() }
            let (o, n) = b.count()
            try expectOK(o, "count after reopening")
            try expect(n == 9, "a new instance with the same options holds \(n) records, 9 were committed")
            for r in batch where r.id != "p3" {
                let expected = hasCommit && r.id == "p4" ? record("p4", content: "replaced", vector: vectors[30]) : r
                let got = b.get(r.id).1.records.first
                try expect(got?.json == expected.json, "after reopening, \(r.id) is \(got == nil ? "missing" : "changed")")
                try expect(got.map { sameVector($0.vector, expected.vector, metric) } == true, "after reopening, the vector of \(r.id) changed")
            }
            try expect(b.get("p3").1.records.isEmpty, "after reopening, the removed p3 is back")
            if keepsHistory { try expect(b.history("p4").1.texts == rows.map(\.json), "after reopening, the history of p4 differs") }
        }

        // ---- threads -------------------------------------------------------------------------------
        runner.run("a store claiming STRATA_INSTANCE_THREAD_SAFE stays consistent under many threads", rule: "threads") {
            guard threadSafe else { return }
            let s = try make.make()
            defer { s.destroy() }
            let threads = 8, perThread = 300
            let problems = Mutex<[String]>([])
            let box = UncheckedBox(s)
            // Records made before the threads start, so the threads spend their time in the plugin.
            let planned = (0..<threads).map { t in
                var local = SeededRandom(seed: UInt64(100 + t))
                return (0..<perThread).map { i in record("t\(t)-\(i)", vector: local.vector(d)) }
            }
            stressThreads(threads) { t in
                for (i, r) in planned[t].enumerated() {
                    let o = box.value.upsert([r])
                    if !o.ok { problems.withLock { $0.append("upsert \(r.id): \(o.statusName) \(o.message ?? "")") } }
                    if i % 4 == 3 {
                        let (o, removed) = box.value.remove(["t\(t)-\(i - 1)"])
                        if !o.ok || removed != 1 { problems.withLock { $0.append("remove t\(t)-\(i - 1): \(o.statusName), removed \(removed)") } }
                    }
                    if box.value.get(r.id).1.records.first?.json != r.json { problems.withLock { $0.append("get \(r.id) right after its upsert missed it") } }
                    if i % 8 == 0, let (o, hits) = try? box.value.search(r.vector, k: 5) as (RawOutcome, RawCollector), !o.ok || hits.records.count > 5 {
                        problems.withLock { $0.append("search: \(o.statusName), \(hits.records.count) hits") }
                    }
                    _ = box.value.count()
                }
            }
            let found = problems.withLock { $0 }
            try expect(found.isEmpty, "\(found.count) call(s) went wrong under \(threads) threads; first: \(found.prefix(3).joined(separator: "; "))")
            let expected = threads * (perThread - perThread / 4)
            let (o, n) = s.count()
            try expectOK(o, "count")
            try expect(n == expected, "after \(threads) threads the store counts \(n) records, expected \(expected)")
            var missing = 0
            for t in 0..<threads { for i in 0..<perThread where i % 4 != 2 && s.get("t\(t)-\(i)").1.records.isEmpty { missing += 1 } }
            try expect(missing == 0, "\(missing) record(s) written by the threads are missing")
        }
        return metric
    }

    // MARK: - Data and expectations

    static let createdAt = Timestamp(milliseconds: 1_700_000_000_000)

    /// A record whose JSON is the host's own canonical JSON for a memory.
    static func record(_ id: String, content: String = "memory", vector: [Float], metadata: [String: JSONValue] = [:]) -> RawRecord {
        let m = Memory(id: id, content: content, metadata: metadata, createdAt: createdAt, model: "contract")
        return RawRecord(id: id, json: JSONWriter.string(m.json), vector: vector)
    }

    /// A history row as the host writes it.
    static func historyRow(_ id: String, _ event: HistoryEntry.Event, _ second: Double) -> (json: String, id: String) {
        let m = Memory(id: id, content: "memory", createdAt: createdAt, model: "contract")
        let e = HistoryEntry(event: event, memoryID: id, at: createdAt.adding(seconds: second),
                             old: event == .add ? nil : m, new: event == .delete ? nil : m, reason: "contract \(event.rawValue)")
        return (JSONWriter.string(e.json), id)
    }

    /// Indexes and reference scores of `vectors` against `query`, best first.
    static func reference(_ query: [Float], _ vectors: [[Float]], metric: Metric) -> [(index: Int, score: Double)] {
        func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        return vectors.enumerated().map { i, v -> (index: Int, score: Double) in
            switch metric {
            case .dot: return (i, dot(query, v))
            case .cosine: return (i, dot(query, v) / (dot(query, query).squareRoot() * dot(v, v).squareRoot()))
            case .l2: return (i, -zip(query, v).reduce(0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) })
            }
        }.sorted { $0.score > $1.score }
    }

    /// Bit for bit for dot and l2; the same direction for cosine (a store may keep it normalised).
    static func sameVector(_ a: [Float], _ b: [Float], _ metric: Metric) -> Bool {
        guard a.count == b.count else { return false }
        if metric == .cosine { return Vectors.cosine(a, b) > 0.99999 }
        return a.map(\.bitPattern) == b.map(\.bitPattern)
    }
}

/// Fails unless the call succeeded (naming its status and message).
func expectOK(_ o: RawOutcome, _ what: String) throws {
    guard !o.ok else { return }
    throw ConformanceFailure(message: "\(what) failed: \(o.statusName): \(o.message ?? "(no message)")")
}

/// Fails unless a failed call left a non-empty message (rule "failure.message").
func expectMessage(_ o: RawOutcome, _ what: String) throws {
    guard !o.ok, o.message?.isEmpty ?? true else { return }
    throw ConformanceFailure(message: "\(what) failed with \(o.statusName) but left no message: call host->fail(status, \"...\")",
                             rule: "failure.message")
}

/// Fails unless the call failed with `code` and a message.
func expectFailure(_ o: RawOutcome, _ code: StrataError.Code, _ what: String) throws {
    try expect(!o.ok, "\(what) returned STRATA_OK, expected \(code.cName)")
    try expect(o.status == code.rawValue, "\(what) returned \(o.statusName), expected \(code.cName)")
    try expectMessage(o, what)
}
