// The libFuzzer harnesses of Strata (fuzz/README.md). One executable holds them all; which one
// runs is chosen once, from STRATA_FUZZ_HARNESS or else from the program's name (`fuzz-json`
// runs `json`), so scripts/fuzz builds once and links one name per harness.
//
// Each harness states what must hold for any input: no crash, no hang (libFuzzer's -timeout),
// no leak (ASan), every failure a StrataError with a message, and a successful parse that
// round-trips where that makes sense. A broken rule is a trap, which libFuzzer reports as a
// crash and saves the input of.
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
import StrataWire
import StrataFileStore
import StrataPlugins
import StrataSQLitePlugin

/// A harness: the input bytes, never empty-checked by the caller.
typealias Harness = (UnsafeBufferPointer<UInt8>) -> Void

nonisolated(unsafe) let harnesses: [String: Harness] = [
    "json": fuzzJSON,
    "config": fuzzConfig,
    "filter": fuzzFilter,
    "engine": fuzzEngine,
    "filelog": fuzzFileLog,
    "sqlite": fuzzSQLite,
    "safetensors": fuzzSafetensors,
    "plugin": fuzzPlugin,
]

nonisolated(unsafe) var selected: Harness?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> Int32 {
    var name = getenv("STRATA_FUZZ_HARNESS").map { String(cString: $0) } ?? ""
    if name.isEmpty, let program = argv.pointee[0] {
        let base = String(cString: program).split(separator: "/").last.map(String.init) ?? ""
        if base.hasPrefix("fuzz-") { name = String(base.dropFirst(5)) }
    }
    if let seeds = getenv("STRATA_FUZZ_MAKE_SEEDS") {
        makeSeeds(into: String(cString: seeds))
        exit(0)
    }
    guard let harness = harnesses[name] else {
        let names = harnesses.keys.sorted().joined(separator: ", ")
        say("StrataFuzz: set STRATA_FUZZ_HARNESS (or run as fuzz-NAME) to one of: \(names)")
        exit(2)
    }
    selected = harness
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selected!(UnsafeBufferPointer(start: size == 0 ? nil : data, count: size))
    return 0
}

// MARK: - Rules

/// A rule that every input must keep; breaking it is a crash libFuzzer keeps.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        say("StrataFuzz: rule broken: \(message())")
        abort()
    }
}

/// A line on standard error.
func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// An error is fine when it says something.
func checked(_ error: StrataError, _ what: String) {
    require(!error.message.isEmpty, "\(what) threw \(error.code.cName) with an empty message")
}

/// A folder of this process's own, for the harnesses that need a file.
let scratch: String = {
    var template = Array("/tmp/strata-fuzz-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        say("StrataFuzz: cannot make a scratch folder")
        exit(2)
    }
    let path = String(cString: made)
    atexit { removeScratch() }
    return path
}()

func removeScratch() {
    guard let dir = opendir(scratch) else { return }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { unlink("\(scratch)/\(name)") }
    }
    closedir(dir)
    rmdir(scratch)
}

/// Removes every file in the scratch folder (a harness starts each input from nothing).
func clearScratch() {
    guard let dir = opendir(scratch) else { return }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { names.append(name) }
    }
    closedir(dir)
    for name in names { unlink("\(scratch)/\(name)") }
}

/// Writes `bytes` to `path`, whole.
func writeFile(_ path: String, _ bytes: UnsafeBufferPointer<UInt8>) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    require(fd >= 0, "cannot write \(path)")
    var at = 0
    while at < bytes.count {
        let n = write(fd, bytes.baseAddress! + at, bytes.count - at)
        require(n > 0, "cannot write \(path)")
        at += n
    }
    close(fd)
}

func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}

// MARK: - JSON

/// JSONParser.parse(bytes:): an error with a message, or a value that JSONWriter writes back
/// (compact and pretty) to text that parses to the same value.
func fuzzJSON(_ input: UnsafeBufferPointer<UInt8>) {
    let value: JSONValue
    do { value = try JSONParser.parse(bytes: input) } catch { return checked(error, "JSONParser.parse") }
    for pretty in [false, true] {
        let text = JSONWriter.string(value, pretty: pretty)
        do {
            let again = try JSONParser.parse(text)
            require(again == value, "JSONWriter wrote \(text) for a value that parses back differently")
        } catch {
            require(false, "JSONWriter wrote \(text), which does not parse: \(error)")
        }
    }
    var bytes: [UInt8] = []
    JSONWriter.write(value, into: &bytes)
    require(bytes == Array(JSONWriter.string(value).utf8), "JSONWriter's byte and text forms differ")
}

/// EngineConfiguration(text:) and, for a JSON value, EngineConfiguration(json:).
func fuzzConfig(_ input: UnsafeBufferPointer<UInt8>) {
    let text = String(decoding: input, as: UTF8.self)
    do { _ = try EngineConfiguration(text: text) } catch { checked(error, "EngineConfiguration(text:)") }
    if let json = try? JSONParser.parse(bytes: input) {
        do { _ = try EngineConfiguration(json: json) } catch { checked(error, "EngineConfiguration(json:)") }
    }
}

/// Filter.parse: an error with a message, or a filter whose `json` parses back to the same
/// filter, and which evaluates on a few memories without trapping.
func fuzzFilter(_ input: UnsafeBufferPointer<UInt8>) {
    guard let json = try? JSONParser.parse(bytes: input) else { return }
    let filter: Filter
    do { filter = try Filter.parse(json) } catch { return checked(error, "Filter.parse") }
    do {
        let again = try Filter.parse(filter.json)
        require(again == filter, "Filter.parse(\(JSONWriter.string(filter.json))) is another filter than the one that wrote it")
    } catch {
        require(false, "a parsed filter writes \(JSONWriter.string(filter.json)), which does not parse: \(error)")
    }
    for subject in filterSubjects { _ = filter.matches(subject) }
}

let filterSubjects: [JSONValue] = [
    .object([:]),
    .object(["a": 1, "b": "x", "c": .array([1, "y", .null]), "d": .object(["e": true, "f": 2.5])]),
    .object(["metadata": .object(["topic": "t", "n": -3]), "tier": "working", "importance": 0.5]),
]

/// One engine verb on one in-memory engine: the first byte picks the verb, the rest is the
/// request's JSON. Every failure is a StrataError with a message; every answer writes as JSON
/// that parses back.
func fuzzEngine(_ input: UnsafeBufferPointer<UInt8>) {
    guard input.count >= 1 else { return }
    guard let request = try? JSONParser.parse(bytes: UnsafeBufferPointer(rebasing: input[1...])) else { return }
    engineRuns += 1
    if engineRuns % 2000 == 0 { fuzzEngineInstance = nil }  // a fresh engine now and then: bounded memory
    if fuzzEngineInstance == nil {
        do {
            let e = try Engine(configuration: EngineConfiguration(json: ["dedupe": ["enabled": true]]))
            _ = try e.storeJSON(["items": [["content": "the cat sat on the mat", "metadata": ["topic": "pets", "n": 1]],
                                           ["content": "deploy failed on friday", "metadata": ["topic": "ops", "n": 2]]]])
            fuzzEngineInstance = e
        } catch {
            require(false, "cannot open the fuzz engine: \(error)")
        }
    }
    let engine = fuzzEngineInstance!
    let verbs: [(String, (JSONValue) throws(StrataError) -> JSONValue)] = [
        ("store", { (r) throws(StrataError) in try engine.storeJSON(r) }),
        ("recall", { (r) throws(StrataError) in try engine.recallJSON(r) }),
        ("get", { (r) throws(StrataError) in try engine.getJSON(r) }),
        ("update", { (r) throws(StrataError) in try engine.updateJSON(r) }),
        ("forget", { (r) throws(StrataError) in try engine.forgetJSON(r) }),
        ("history", { (r) throws(StrataError) in try engine.historyJSON(r) }),
        ("stats", { (r) throws(StrataError) in try engine.statsJSON(r) }),
        ("metabolize", { (r) throws(StrataError) in try engine.metabolizeJSON(r) }),
    ]
    let (name, verb) = verbs[Int(input[0]) % verbs.count]
    do {
        let answer = try verb(request)
        let text = JSONWriter.string(answer)
        require((try? JSONParser.parse(text)) != nil, "\(name) answered \(text), which does not parse")
    } catch {
        checked(error, "Engine.\(name)JSON")
    }
}

nonisolated(unsafe) var fuzzEngineInstance: Engine?
nonisolated(unsafe) var engineRuns = 0

// MARK: - Files

/// The file store's log is the input: opened read-only, salvaged, then opened for writing
/// (which may cut an unfinished tail or keep it aside). Each is an error with a message or a
/// store that counts, scans and gets what it holds; the salvage never throws for damage.
func fuzzFileLog(_ input: UnsafeBufferPointer<UInt8>) {
    clearScratch()
    let path = "\(scratch)/store.log"
    writeFile(path, input)
    let quiet: @Sendable (String) -> Void = { _ in }
    func exercise(_ store: FileVectorStore, _ what: String) {
        do {
            let n = try store.count()
            var seen = 0
            try store.scan(filter: nil) { (r) throws(StrataError) -> Bool in
                seen += 1
                let found = try store.get(id: r.memory.id)
                require(found != nil, "\(what): scanned \(r.memory.id) but get finds nothing")
                return true
            }
            require(seen == n, "\(what): count \(n) but scan saw \(seen)")
            _ = try store.search([Float](repeating: 0.5, count: 4), k: 3, filter: nil)
        } catch {
            checked(error, what)
        }
    }
    do {
        let store = try FileVectorStore(options: FileStoreOptions(path: path, dimension: 4, readOnly: true), report: quiet)
        exercise(store, "read-only file store")
    } catch {
        checked(error, "FileVectorStore(read_only)")
    }
    var salvaged = 0
    do {
        try FileStoreSalvage.salvage(FileStoreOptions(path: path, dimension: 4, readOnly: true),
                                     record: { _ in salvaged += 1 }, finding: { f in
                                         require(!f.problem.isEmpty, "a salvage finding without a problem")
                                     })
    } catch {
        checked(error, "FileStoreSalvage")
    }
    do {
        let store = try FileVectorStore(options: FileStoreOptions(path: path, dimension: 4, durability: .always), report: quiet)
        exercise(store, "file store")
    } catch {
        checked(error, "FileVectorStore")
    }
}

/// A SQLite file made of the input: salvaged (the B-tree walk and the page scan), then opened
/// read-only. Errors with a message, findings with a problem, no crash.
func fuzzSQLite(_ input: UnsafeBufferPointer<UInt8>) {
    clearScratch()
    let path = "\(scratch)/store.db"
    writeFile(path, input)
    do {
        try SQLiteSalvage.run(["path": .string(path)], { r in
            require(!r.memory.id.isEmpty, "the salvage handed over a record without an id")
        }, { f in
            require(!f.problem.isEmpty, "a salvage finding without a problem")
        })
    } catch {
        checked(error, "SQLiteSalvage.run")
    }
    do {
        let store = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 4, "read_only": true])
        _ = try store.count()
        try store.scan(filter: nil) { _ in true }
    } catch {
        checked(error, "SQLiteVectorStore(read_only)")
    }
}

/// Safetensors.read and .metadata on a file made of the input; what reads writes back to a
/// file that reads the same (bit for bit).
func fuzzSafetensors(_ input: UnsafeBufferPointer<UInt8>) {
    clearScratch()
    let path = "\(scratch)/t.safetensors"
    writeFile(path, input)
    do { _ = try Safetensors.metadata(path) } catch { checked(error, "Safetensors.metadata") }
    let tensors: [String: Safetensors.Tensor]
    do { tensors = try Safetensors.read(path) } catch { return checked(error, "Safetensors.read") }
    for (name, t) in tensors {
        require(t.values.count == t.count, "tensor \(name) has \(t.values.count) values for shape \(t.shape)")
    }
    let again = "\(scratch)/again.safetensors"
    do {
        try Safetensors.write(tensors, to: again)
        let back = try Safetensors.read(again)
        require(back.keys.sorted() == tensors.keys.sorted(), "written tensors read back under other names")
        for (name, t) in tensors {
            require(back[name]!.shape == t.shape && back[name]!.values.map(\.bitPattern) == t.values.map(\.bitPattern),
                    "tensor \(name) reads back different")
        }
    } catch {
        checked(error, "Safetensors round trip")
    }
}

/// PluginIdentity.parse over the input as an ELF image.
func fuzzPlugin(_ input: UnsafeBufferPointer<UInt8>) {
    do {
        _ = try PluginIdentity.parse(size: input.count, what: "fuzz input") { offset, count in
            require(offset >= 0 && count >= 0 && offset + count <= input.count, "parse read \(count) at \(offset) of \(input.count)")
            return Array(input[offset..<(offset + count)])
        }
    } catch {
        checked(error, "PluginIdentity.parse")
    }
}
