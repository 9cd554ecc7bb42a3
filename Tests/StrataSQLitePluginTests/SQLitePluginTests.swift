#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
import StrataPlugins
@testable import StrataSQLitePlugin
import StrataTesting
import Testing

/// A fresh folder for one test's files (see StrataTesting's `scratchFolder`).
func scratchFolder(_ name: String) -> String { StrataTesting.scratchFolder("sqlite-tests", name) }

/// An engine on the SQLite plugin, loaded through the plugin ABI as users load it.
func sqliteEngine(_ path: String, clock: any Clock = SystemClock(), dedupe: Bool = true) throws -> Engine {
    let config = try EngineConfiguration(json: [
        "store": ["backend": "sqlite", "plugin": "sqlite", "options": ["path": .string(path)]],
        "dedupe": ["enabled": .bool(dedupe)],
    ])
    return try Engine(configuration: config, backends: PluginBackends(), clock: clock)
}

@Suite struct SQLiteStoreTests {
    @Test func passesTheConformanceSuiteOnARealFile() throws {
        let dir = scratchFolder("conformance")
        var n = 0
        let results = VectorStoreConformance.run {
            n += 1
            return try SQLiteVectorStore(options: ["path": .string("\(dir)/\(n).db"), "dimension": 16, "metric": "cosine"])
        }
        #expect(results.count >= 10, "the conformance suite ran its cases (an empty list passes every loop)")
        for r in results { #expect(r.passed, "\(r.name): \(r.failure ?? "")") }
    }

    @Test func memoriesAndHistorySurviveReopening() throws {
        let path = scratchFolder("reopen") + "/s.db"
        let id: String
        do {
            let e = try sqliteEngine(path)
            id = try e.store(NewMemory("the deploy key rotates on Mondays", metadata: ["team": "ops"])).id
            try e.update(MemoryUpdate(id: id, content: "the deploy key rotates on Tuesdays"))
            let gone = try e.store(NewMemory("a memory to forget")).id
            try e.forget(id: gone)
        }
        let e = try sqliteEngine(path)
        #expect(try e.get(id: id).content == "the deploy key rotates on Tuesdays")
        #expect(try e.history(id: id).map(\.event) == [.add, .update])
        #expect(try e.stats().memories == 1)
        let hits = try e.recall(RecallQuery("when does the deploy key rotate", filter: try Filter.parse(["team": "ops"], prefix: ["metadata"])))
        #expect(hits.first?.memory.id == id)
        #expect(hits.first?.scores.keyword != nil, "BM25 found it by keyword too")
    }

    @Test func theHistoryTailIsTheNewestRowsAndTheCount() throws {
        let path = scratchFolder("tail") + "/s.db"
        let id: String, dimension: Int
        do {
            // Through the plugin's C ABI (history_tail, ABI 1.9), as the engine reads it.
            let e = try sqliteEngine(path)
            dimension = e.dimension
            id = try e.store(NewMemory("version 0")).id
            for i in 1..<7 { try e.update(MemoryUpdate(id: id, content: "version \(i)")) }
            let all = try e.history(id: id)
            #expect(all.count == 7)
            for limit in [0, 1, 3, 7, 10] {
                let (rows, total) = try e.historyTail(id: id, limit: limit)
                #expect(total == 7 && rows == Array(all.suffix(limit)), "limit \(limit)")
            }
            let none = try e.historyTail(id: "never-seen", limit: 3)
            #expect(none.rows.isEmpty && none.total == 0)
        }
        // In process, on the same file.
        let store = try SQLiteVectorStore(options: ["path": .string(path), "dimension": .number(Double(dimension))])
        let all = try store.history(id: id)
        let (rows, total) = try store.historyTail(id: id, limit: 2)
        #expect(total == 7 && rows == Array(all.suffix(2)) && rows.last?.event == .update)
    }

    @Test func twoEnginesOnOneFileSeeEachOthersWrites() throws {
        let path = scratchFolder("shared") + "/s.db"
        let a = try sqliteEngine(path), b = try sqliteEngine(path)
        let fromA = try a.store(NewMemory("written by the first engine")).id
        #expect(try b.get(id: fromA).content == "written by the first engine")
        let fromB = try b.store(NewMemory("written by the second engine")).id
        #expect(try a.recall(RecallQuery("second engine")).first?.memory.id == fromB)
        try a.forget(id: fromB)
        #expect(throws: StrataError.self) { _ = try b.get(id: fromB) }
        #expect(try b.stats().memories == 1)
        #expect(try b.history(id: fromB).map(\.event) == [.add, .delete], "history written by one is read by the other")
    }

    @Test func anotherDimensionOrMetricIsAClearError() throws {
        let path = scratchFolder("dims") + "/s.db"
        _ = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 16, "metric": "cosine"])
        #expect { _ = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 32, "metric": "cosine"]) } throws: { e in
            let e = e as! StrataError
            return e.code == .invalidConfig && e.message.contains(path) && e.message.contains("16") && e.message.contains("32")
        }
        #expect { _ = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 16, "metric": "l2"]) } throws: { e in
            (e as! StrataError).code == .invalidConfig && (e as! StrataError).message.contains("cosine")
        }
    }

    @Test func unknownOptionsAndBadValuesNameTheKey() {
        #expect { _ = try SQLiteVectorStore(options: ["dimension": 4, "pathh": "x.db"]) } throws: { e in
            (e as! StrataError).code == .invalidConfig && (e as! StrataError).message.contains("pathh")
        }
        #expect { _ = try SQLiteVectorStore(options: ["dimension": 4, "synchronous": "sometimes"]) } throws: { e in
            (e as! StrataError).code == .invalidConfig && (e as! StrataError).message.contains("synchronous")
        }
    }

    @Test func aFileThatIsNotADatabaseIsCorruptNamingTheFile() throws {
        let path = scratchFolder("garbage") + "/s.db"
        let f = fopen(path, "w")!
        for _ in 0..<200 { fputs("this is not a SQLite database, just text in the way. ", f) }
        fclose(f)
        #expect { _ = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 4]) } throws: { e in
            let e = e as! StrataError
            return e.code == .corrupt && e.message.contains(path)
        }
    }

    @Test func aNewerSchemaIsRefusedAndLeftAlone() throws {
        let path = scratchFolder("newer") + "/s.db"
        do {
            let s = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 4])
            try s.upsert([StoredRecord(memory: Memory(id: "a", content: "a", createdAt: Timestamp(milliseconds: 0)), vector: [1, 0, 0, 0])])
        }
        let db = try SQLiteConnection(path: path, busyTimeoutMilliseconds: 1000)
        try db.execute("PRAGMA user_version = 99", "test")
        db.close()
        #expect { _ = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 4]) } throws: { e in
            let e = e as! StrataError
            return e.code == .invalidConfig && e.message.contains("99") && e.message.contains(path)
        }
        let again = try SQLiteConnection(path: path, busyTimeoutMilliseconds: 1000)
        #expect(try again.integer("SELECT count(*) FROM memories") == 1, "the refused file was not touched")
    }

    @Test func keywordSearchTakesUserTextLiterallyAndHonoursFilters() throws {
        let s = try SQLiteVectorStore(options: ["dimension": 4])
        let t = Timestamp(milliseconds: 0)
        try s.upsert([
            StoredRecord(memory: Memory(id: "a", content: "alpha OR beta \"quoted\" NEAR(x)", metadata: ["n": 1], createdAt: t), vector: [1, 0, 0, 0]),
            StoredRecord(memory: Memory(id: "b", content: "alpha again", metadata: ["n": 2], createdAt: t), vector: [0, 1, 0, 0]),
        ])
        // FTS5 syntax in the query is just words.
        #expect(Set(try s.keywordSearch("alpha OR \"NEAR(\" *", k: 10, filter: nil).map(\.record.memory.id)) == ["a", "b"])
        let filtered = try s.keywordSearch("alpha", k: 10, filter: .condition(path: ["metadata", "n"], .gt(1)))
        #expect(filtered.map(\.record.memory.id) == ["b"])
        // $ne cannot be pushed down; it is still applied exactly.
        let ne = try s.keywordSearch("alpha", k: 10, filter: .condition(path: ["metadata", "n"], .ne(2)))
        #expect(ne.map(\.record.memory.id) == ["a"])
        #expect(try s.keywordSearch("   ", k: 10, filter: nil).isEmpty)
    }
}

@Suite struct SQLFilterTests {
    /// Random filters over random records: every record the exact filter keeps, SQL keeps too.
    @Test func pushedDownSQLNeverDropsAMatchingRow() throws {
        let s = try SQLiteVectorStore(options: ["dimension": 2])
        var rng = SystemRandomNumberGenerator()
        let values: [JSONValue] = [1, 2, 2.5, -3, "a", "b", "é", true, false, .null, ["a", 1], ["k": "v"]]
        func pick() -> JSONValue { values[Int.random(in: 0..<values.count, using: &rng)] }
        var records: [StoredRecord] = []
        for i in 0..<150 {
            var meta: [String: JSONValue] = [:]
            for key in ["x", "y", "z"] where Bool.random(using: &rng) { meta[key] = pick() }
            records.append(StoredRecord(
                memory: Memory(id: "r\(i)", content: "row", metadata: meta, createdAt: Timestamp(milliseconds: 0)),
                vector: [1, Float(i)]))
        }
        try s.upsert(records)
        func condition() -> Filter {
            let path = ["metadata", ["x", "y", "z"][Int.random(in: 0..<3, using: &rng)]]
            let conditions: [Filter.Condition] = [.eq(pick()), .ne(pick()), .gt(pick()), .gte(pick()), .lt(pick()), .lte(pick()),
                                                  .in([pick(), pick()]), .nin([pick()]), .exists(Bool.random(using: &rng)), .contains(pick())]
            return .condition(path: path, conditions[Int.random(in: 0..<conditions.count, using: &rng)])
        }
        func filter(_ depth: Int) -> Filter {
            guard depth > 0 else { return condition() }
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return .all([filter(depth - 1), filter(depth - 1)])
            case 1: return .any([filter(depth - 1), filter(depth - 1)])
            case 2: return .not(filter(depth - 1))
            default: return condition()
            }
        }
        for _ in 0..<300 {
            let f = filter(2)
            let expected = Set(records.filter { f.matches($0.memory) }.map(\.memory.id))
            var found = Set<String>()
            try s.scan(filter: f) { found.insert($0.memory.id); return true }
            #expect(found == expected, "filter \(f)")
        }
    }

    @Test func conditionsSQLCanSayArePushedDown() {
        let f = Filter.all([
            .condition(path: ["metadata", "user"], .eq("alice")),
            .condition(path: ["importance"], .gte(0.5)),
            .condition(path: ["metadata", "tag"], .ne("x")),
        ])
        let pushed = SQLFilter(f)
        #expect(pushed.sql.contains("= ?") && pushed.sql.contains(">= ?"))
        #expect(!pushed.sql.contains("<>"), "$ne stays with the exact check")
        #expect(pushed.bindings.contains(.string("$.\"metadata\".\"user\"")))
        #expect(SQLFilter(.not(.condition(path: ["a"], .eq(1)))).sql == "1")
        #expect(SQLFilter(nil).sql == "1")
    }
}

@Suite struct PerTierStoreTests {
    @Test func theWorkingTierInMemoryAndTheRestInSQLite() throws {
        let path = scratchFolder("tiers") + "/s.db"
        func open() throws -> Engine {
            let config = try EngineConfiguration(json: [
                "store": ["backend": "sqlite", "plugin": "sqlite", "options": ["path": .string(path)]],
                "tiers": [["name": "working", "store": ["backend": "memory"]], ["name": "episodic"]],
            ])
            return try Engine(configuration: config, backends: PluginBackends())
        }
        let kept: String
        do {
            let e = try open()
            #expect(e.store.name.contains("working: memory") && e.store.name.contains("sqlite"))
            _ = try e.store(NewMemory("scratch thought, gone with the process", tier: "working"))
            kept = try e.store(NewMemory("an episode worth keeping", tier: "episodic")).id
            #expect(try e.stats().memories == 2)
            #expect(try e.stats().byTier == ["working": 1, "episodic": 1])
        }
        let e = try open()
        #expect(try e.stats().byTier == ["episodic": 1], "the working tier lived in memory; the episodic tier in the file")
        #expect(try e.get(id: kept).content == "an episode worth keeping")
        #expect(try e.history(id: kept).map(\.event) == [.add], "history lives in the main store, SQLite")
    }
}
