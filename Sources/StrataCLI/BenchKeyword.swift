import ArgumentParser
import CSQLite
#if canImport(Glibc)
import Glibc
#endif
import StrataBackends
import StrataCore
import StrataPlugins

/// `strata bench keyword`: the cost of one keyword (BM25) search over memories whose words recur.
struct BenchKeywordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyword",
        abstract: "Time BM25 keyword search (pruned top k against exhaustive scoring, and the stores) over a small vocabulary.",
        discussion: """
            For each size in --n: memories of 8 to 24 words drawn from --vocabulary words with \
            Zipf weights (word r with weight 1/r: a few words recur everywhere, as in logs or chat \
            about one project), each with {"group": i % 10}; --queries queries of --query-words \
            words drawn the same way. Per query, k --k, best of --runs passes:
              index exhaustive   KeywordIndex.searchExhaustive: every posting of every query word \
            scored (the cost before block-max WAND)
              index pruned       KeywordIndex.search: block-max WAND; checked equal to exhaustive \
            (ids, order, scores) on every query
              ... filtered       the same with an accept filter keeping group 3 (10%)
              memory store       InMemoryVectorStore.keywordSearch (the built-in store)
              sqlite store       the SQLite store (libstrata-sqlite.so, dlopen) keywordSearch
              sqlite fts5        the FTS5 query the SQLite store ran before (MATCH ... ORDER BY \
            bm25(), rows read until k), on the same file through the SQLite C API
            Also the time to build the keyword index of n memories, which the SQLite store now \
            spends on open, and that open.
            """)

    @Option(name: .long, parsing: .unconditional, help: "Comma-separated store sizes.", transform: { text in
        try text.split(separator: ",").map { part in
            guard let v = Int(part), v >= 1 else { throw ValidationError("--n takes sizes like 10000,100000") }
            return v
        }
    })
    var n: [Int] = [10_000, 100_000]

    @Option(name: .long, help: "Distinct words memories are drawn from.")
    var vocabulary = 1000

    @Option(name: .long, help: "Queries per pass.")
    var queries = 200

    @Option(name: .long, help: "Words per query.")
    var queryWords = 3

    @Option(name: .customShort("k"), help: "Hits per query.")
    var k = 10

    @Option(name: .long, help: "Timed passes over the queries (the best is reported).")
    var runs = 3

    @Flag(name: .long, help: "Skip the SQLite store (no plugin needed).")
    var noSqlite = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard vocabulary >= 2, queries >= 1, queryWords >= 1, runs >= 1 else {
            throw ValidationError("--vocabulary must be at least 2, --queries, --query-words and --runs at least 1")
        }
        guard k >= 1 else { throw ValidationError("-k must be at least 1") }
    }

    func run() throws {
        try withEngineErrors(json: output.json) { try measure() }
    }

    /// Words drawn with Zipf weights 1/r over `vocabulary` words.
    struct ZipfWords {
        let cumulative: [Double]
        init(_ count: Int) {
            var sum = 0.0
            cumulative = (1...count).map { r in
                sum += 1 / Double(r)
                return sum
            }
        }
        func draw(_ rng: inout SeededRandom) -> String {
            let u = rng.uniform() * cumulative[cumulative.count - 1]
            var lo = 0, hi = cumulative.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] < u { lo = mid + 1 } else { hi = mid }
            }
            return "w\(lo)"
        }
    }

    private func measure() throws(StrataError) {
        var rows: [JSONValue] = []
        if !output.json {
            print("strata bench keyword: \(MachineBounds.cpuModel), \(MachineBounds.onlineCores) cores, vocabulary \(vocabulary) (Zipf), "
                + "\(queries) queries of \(queryWords) words, k \(k)")
            print(pad("measurement", 24) + " " + pad("n", 8, left: true) + "  " + pad("us/query", 10, left: true) + "  " + pad("vs exhaustive", 14, left: true))
        }
        func report(_ name: String, _ size: Int, microseconds: Double, reference: Double?) {
            var row: [String: JSONValue] = ["measurement": .string(name), "n": .number(Double(size)),
                                            "microseconds": .number((microseconds * 100).rounded() / 100)]
            if let reference { row["speedup"] = .number((reference / microseconds * 100).rounded() / 100) }
            rows.append(.object(row))
            if !output.json {
                print(pad(name, 24) + " " + pad(String(size), 8, left: true) + "  " + fmt("%10.1f", microseconds) + "  "
                    + (reference.map { fmt("%13.1fx", $0 / microseconds) } ?? pad("", 14)))
            }
            fflush(nil)
        }
        /// Best pass over the queries, in microseconds per query.
        func perQuery(_ body: (String) throws(StrataError) -> Void, _ texts: [String]) throws(StrataError) -> Double {
            var best = Double.infinity
            for _ in 0..<runs {
                let t0 = benchNow()
                for q in texts { try body(q) }
                best = min(best, benchNow() - t0)
            }
            return best / Double(texts.count) * 1e6
        }

        let words = ZipfWords(vocabulary)
        for size in n {
            var rng = SeededRandom(seed: UInt64(size))
            let contents = (0..<size).map { _ in (0..<Int.random(in: 8...24, using: &rng)).map { _ in words.draw(&rng) }.joined(separator: " ") }
            let texts = (0..<queries).map { _ in (0..<queryWords).map { _ in words.draw(&rng) }.joined(separator: " ") }
            let ids = (0..<size).map { "m\($0)" }
            var group: [String: Int] = [:]
            for (i, id) in ids.enumerated() { group[id] = i % 10 }

            var index = KeywordIndex()
            let t0 = benchNow()
            for (id, text) in zip(ids, contents) { index.add(id: id, text: text) }
            let build = benchNow() - t0
            rows.append(.object(["measurement": "index build", "n": .number(Double(size)), "seconds": .number((build * 1e4).rounded() / 1e4)]))
            if !output.json { print(pad("index build", 24) + " " + pad(String(size), 8, left: true) + "  " + fmt("%10.1f", build * 1e3) + " ms in all") }

            for filtered in [false, true] {
                let accept: (String) -> Bool = filtered ? { group[$0] == 3 } : { _ in true }
                for q in texts {
                    let a = index.search(q, k: k, accept: accept), b = index.searchExhaustive(q, k: k, accept: accept)
                    guard a.map(\.id) == b.map(\.id), a.map(\.score) == b.map(\.score) else {
                        throw StrataError(.internal, "pruned and exhaustive search disagree on \"\(q)\" (n \(size), filtered \(filtered))")
                    }
                }
                let suffix = filtered ? " 10%" : ""
                let exhaustive = try perQuery({ q in _ = index.searchExhaustive(q, k: k, accept: accept) }, texts)
                report("index exhaustive" + suffix, size, microseconds: exhaustive, reference: nil)
                report("index pruned" + suffix, size, microseconds: try perQuery({ q in _ = index.search(q, k: k, accept: accept) }, texts),
                       reference: exhaustive)
            }

            let records = (0..<size).map { i in
                StoredRecord(memory: Memory(id: ids[i], content: contents[i], metadata: ["group": .number(Double(i % 10))],
                                            createdAt: Timestamp(milliseconds: 0)),
                             vector: [Float(i % 7) + 1, 1, 0, 0])
            }
            let groupThree = Filter.condition(path: ["metadata", "group"], .eq(3))
            let memory = try InMemoryVectorStore(dimension: 4)
            try memory.upsert(records)
            report("memory store", size, microseconds: try perQuery({ (q) throws(StrataError) in _ = try memory.keywordSearch(q, k: k, filter: nil) }, texts),
                   reference: nil)
            report("memory store 10%", size, microseconds: try perQuery({ (q) throws(StrataError) in _ = try memory.keywordSearch(q, k: k, filter: groupThree) }, texts),
                   reference: nil)

            guard !noSqlite else { continue }
            var template = [CChar]("/tmp/strata-bench-keyword-XXXXXX".utf8CString)
            guard mkdtemp(&template) != nil else { throw StrataError(.io, "bench keyword: cannot make a temporary folder in /tmp") }
            let folder = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let path = folder + "/k.db"
            defer {
                for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
                rmdir(folder)
            }
            let choice = BackendChoice(backend: "sqlite", plugin: "sqlite", options: ["path": .string(path), "synchronous": "off"])
            do {
                let sqlite = try PluginBackends().makeVectorStore(choice, dimension: 4, path: "bench sqlite")
                var s = 0
                while s < size {
                    try sqlite.upsert(Array(records[s..<min(size, s + 1000)]))
                    s += 1000
                }
            }
            let o0 = benchNow()
            let sqlite = try PluginBackends().makeVectorStore(choice, dimension: 4, path: "bench sqlite")
            let open = benchNow() - o0
            rows.append(.object(["measurement": "sqlite open", "n": .number(Double(size)), "seconds": .number((open * 1e4).rounded() / 1e4)]))
            if !output.json { print(pad("sqlite open", 24) + " " + pad(String(size), 8, left: true) + "  " + fmt("%10.1f", open * 1e3) + " ms in all") }
            let fts5 = try FTS5Reference(path: path)
            let before = try perQuery({ (q) throws(StrataError) in try fts5.search(q, k: k, group: nil) }, texts)
            report("sqlite fts5 (before)", size, microseconds: before, reference: nil)
            report("sqlite store", size, microseconds: try perQuery({ (q) throws(StrataError) in _ = try sqlite.keywordSearch(q, k: k, filter: nil) }, texts),
                   reference: before)
            let beforeFiltered = try perQuery({ (q) throws(StrataError) in try fts5.search(q, k: k, group: 3) }, texts)
            report("sqlite fts5 10% (before)", size, microseconds: beforeFiltered, reference: nil)
            report("sqlite store 10%", size, microseconds: try perQuery({ (q) throws(StrataError) in _ = try sqlite.keywordSearch(q, k: k, filter: groupThree) }, texts),
                   reference: beforeFiltered)
        }
        if output.json {
            printJSON(.object(["benchmark": "keyword", "cpu": .string(MachineBounds.cpuModel), "vocabulary": .number(Double(vocabulary)),
                               "queries": .number(Double(queries)), "query_words": .number(Double(queryWords)), "k": .number(Double(k)),
                               "results": .array(rows)]))
        }
    }
}

/// The keyword query the SQLite store ran before its in-process index (FTS5 `MATCH`, ordered by
/// `bm25()`, the filter pushed down as `SQLFilter` wrote it, rows stepped until k), on a store
/// file opened read-only through the SQLite C API: the "before" of `bench keyword`.
final class FTS5Reference {
    private var db: OpaquePointer?
    private let path: String

    init(path: String) throws(StrataError) {
        self.path = path
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            defer { sqlite3_close(db) }
            throw StrataError(.io, "bench keyword: sqlite3_open_v2 \"\(path)\": \(String(cString: sqlite3_errmsg(db)))")
        }
    }

    deinit { sqlite3_close(db) }

    /// Reads each hit's columns as the store did (record text, vector bytes), without decoding.
    func search(_ query: String, k: Int, group: Int?) throws(StrataError) {
        let words = Array(Set(Tokenizer.keywords(query))).sorted()
        guard !words.isEmpty else { return }
        let match = words.map { "\"" + $0 + "\"" }.joined(separator: " OR ")
        let pushed = group == nil ? "1" : "json_extract(m.record, ?) = ?"
        let sql = """
            SELECT m.rid, m.id, m.crc, m.record, m.vector, -bm25(memories_fts) FROM memories_fts JOIN memories m ON m.rid = memories_fts.rowid
            WHERE memories_fts MATCH ? AND \(pushed) ORDER BY bm25(memories_fts)
            """
        var s: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &s, nil) == SQLITE_OK else {
            throw StrataError(.io, "bench keyword: sqlite3_prepare_v2 on \"\(path)\": \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(s) }
        // SQLITE_TRANSIENT: SQLite copies the text before the call returns.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        sqlite3_bind_text(s, 1, match, -1, transient)
        if let group {
            sqlite3_bind_text(s, 2, "$.\"metadata\".\"group\"", -1, transient)
            sqlite3_bind_int64(s, 3, Int64(group))
        }
        var read = 0
        var bytes = 0
        while read < k {
            let rc = sqlite3_step(s)
            guard rc == SQLITE_ROW else {
                guard rc == SQLITE_DONE else { throw StrataError(.io, "bench keyword: sqlite3_step: \(String(cString: sqlite3_errmsg(db)))") }
                break
            }
            bytes += Int(sqlite3_column_bytes(s, 3)) + Int(sqlite3_column_bytes(s, 4))
            _ = sqlite3_column_text(s, 3)
            _ = sqlite3_column_blob(s, 4)
            read += 1
        }
        guard bytes >= 0 else { return }
    }
}
