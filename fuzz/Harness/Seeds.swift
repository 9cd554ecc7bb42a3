// The seed corpus (fuzz/corpus/<harness>/), written by the real code so the seeds are what the
// stores and writers make today: `STRATA_FUZZ_MAKE_SEEDS=DIR fuzz-json` (scripts/fuzz --seeds).
// The config seeds are examples/configs (copied by scripts/fuzz) and the plugin seed is a tiny
// C plugin image (built by scripts/fuzz); this file writes the rest.
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
import StrataFileStore
import StrataSQLitePlugin
import CSQLite

func makeSeeds(into root: String) {
    func folder(_ name: String) -> String {
        let path = "\(root)/\(name)"
        mkdir(root, 0o755)
        mkdir(path, 0o755)
        return path
    }
    func put(_ harness: String, _ name: String, _ bytes: [UInt8]) {
        let path = "\(folder(harness))/\(name)"
        bytes.withUnsafeBufferPointer { writeFile(path, $0) }
    }
    func put(_ harness: String, _ name: String, _ text: String) { put(harness, name, Array(text.utf8)) }

    // JSON: every kind of value, escapes, numbers at the edges, nesting.
    let json: [String] = [
        #"{"a": [1, -2.5e-3, 1e308, 0, -0, true, false, null], "b": {"c": "d\u00e9\n\"\\\/\ud83d\ude00"}}"#,
        #"[[[[[[[[[[[]]]]]]]]]]]"#,
        #""\u0000 \t text""#,
        #"12345678901234567890"#,
        #"{"": "", "k": 4.9e-324, "n": -1.7976931348623157e308}"#,
    ]
    for (i, text) in json.enumerated() { put("json", "seed\(i).json", text) }

    // Filters: every operator the README documents.
    let filters: [String] = [
        #"{"topic": "pets"}"#,
        #"{"n": {"$gt": 1, "$lte": 5}}"#,
        #"{"$and": [{"a": {"$in": [1, 2, "x"]}}, {"$not": {"b": {"$exists": true}}}]}"#,
        #"{"$or": [{"c": {"$contains": "y"}}, {"d.e": {"$ne": null}}]}"#,
        #"{"metadata.topic": {"$nin": ["ops"]}, "tier": "working"}"#,
    ]
    for (i, text) in filters.enumerated() { put("filter", "seed\(i).json", text) }

    // Engine requests: one verb byte (store, recall, get, update, forget, history, stats,
    // metabolize in that order, modulo 8), then the request.
    let requests: [(UInt8, String)] = [
        (0, #"{"content": "a new memory", "metadata": {"topic": "pets"}, "importance": 0.9, "tier": "working"}"#),
        (0, #"{"items": [{"content": "one"}, {"content": "two", "ttl_seconds": 60}]}"#),
        (1, #"{"query": "cat", "k": 3, "filter": {"topic": "pets"}}"#),
        (2, #"{"id": "m-1"}"#),
        (3, #"{"id": "m-1", "content": "changed", "metadata": {"n": 3}}"#),
        (4, #"{"filter": {"topic": "ops"}}"#),
        (5, #"{"id": "m-1"}"#),
        (6, #"{}"#),
        (7, #"{"dry_run": true}"#),
    ]
    for (i, (verb, text)) in requests.enumerated() { put("engine", "seed\(i)", [verb] + Array(text.utf8)) }

    // Safetensors: a small file with two tensors and metadata.
    let tensorPath = "\(folder("safetensors"))/seed0.safetensors"
    do {
        try Safetensors.write(["w": .init(shape: [2, 3], values: [1, 2, 3, 4, 5, -6.5]), "b": .init(shape: [3], values: [0, 1, 2])],
                              to: tensorPath, metadata: ["format": "pt"])
    } catch {
        require(false, "cannot write the safetensors seed: \(error)")
    }

    // The file store: a log with a few commits (an add, an update and a removal).
    let logPath = "\(folder("filelog"))/seed0.log"
    unlink(logPath)
    do {
        let store = try FileVectorStore(options: FileStoreOptions(path: logPath, dimension: 4), report: { _ in })
        let at = Timestamp(milliseconds: 1_700_000_000_000)
        let a = Memory(id: "a", content: "the cat sat", metadata: ["topic": "pets"], createdAt: at, model: "seed")
        let b = Memory(id: "b", content: "deploy failed", createdAt: at, model: "seed")
        try store.commit(StoreChange(upserts: [StoredRecord(memory: a, vector: [1, 0, 0, 0]), StoredRecord(memory: b, vector: [0, 1, 0, 0])],
                                     history: [HistoryEntry(event: .add, memoryID: "a", at: at, old: nil, new: a, reason: "stored")]))
        var a2 = a
        a2.content = "the cat sat on the mat"
        try store.commit(StoreChange(upserts: [StoredRecord(memory: a2, vector: [1, 1, 0, 0])], removals: ["b"]))
    } catch {
        require(false, "cannot write the file store seed: \(error)")
    }

    // The SQLite store: a few records, closed cleanly (no -wal beside it).
    let dbPath = "\(folder("sqlite"))/seed0.db"
    unlink(dbPath)
    do {
        let store = try SQLiteVectorStore(options: ["path": .string(dbPath), "dimension": 4])
        let at = Timestamp(milliseconds: 1_700_000_000_000)
        let records = (0..<3).map { i in
            StoredRecord(memory: Memory(id: "r\(i)", content: "record \(i)", metadata: ["n": .number(Double(i))], createdAt: at, model: "seed"),
                         vector: [Float(i), 1, 0, 0])
        }
        try store.commit(StoreChange(upserts: records, removals: []))
        try store.commit(StoreChange(removals: ["r1"]))
    } catch {
        require(false, "cannot write the sqlite seed: \(error)")
    }
    // The same database in 512-byte pages (out of WAL mode for the VACUUM): 8 times smaller,
    // so the fuzzer mutates a store's structure rather than its free space.
    var db: OpaquePointer?
    require(sqlite3_open(dbPath, &db) == SQLITE_OK, "cannot reopen the sqlite seed")
    for sql in ["PRAGMA journal_mode=DELETE", "PRAGMA page_size=512", "VACUUM"] {
        require(sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK, "\(sql) failed on the sqlite seed")
    }
    sqlite3_close(db)
}
