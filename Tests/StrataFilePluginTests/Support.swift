#if canImport(Glibc)
import Glibc
#endif
import StrataCore
@testable import StrataFileStore
import StrataPlugins
import Synchronization
import StrataTesting
import Testing

/// A fresh folder for one test's files (see StrataTesting's `scratchFolder`).
func scratchFolder(_ name: String) -> String { StrataTesting.scratchFolder("file-store-tests", name) }

/// The lines a store reports, kept for assertions.
final class Reports: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    var sink: @Sendable (String) -> Void { { line in self.lines.withLock { $0.append(line) } } }
}

let dimension = 16

func options(_ path: String, durability: FileStoreOptions.Durability = .always, compactAfterBytes: Int = 1 << 30) -> FileStoreOptions {
    FileStoreOptions(path: path, dimension: dimension, durability: durability, compactAfterBytes: compactAfterBytes)
}

func open(_ path: String, reports: Reports = Reports(), durability: FileStoreOptions.Durability = .always,
          compactAfterBytes: Int = 1 << 30) throws -> FileVectorStore {
    try FileVectorStore(options: options(path, durability: durability, compactAfterBytes: compactAfterBytes), report: reports.sink)
}

/// A deterministic vector for `seed` (never all zeros).
func vector(_ seed: Int) -> [Float] {
    (0..<dimension).map { Float(sin(Double(seed * 31 + $0 * 7 + 1))) }
}

func memory(_ id: String, _ content: String, at ms: Int64 = 1_700_000_000_000) -> Memory {
    Memory(id: id, content: content, metadata: ["n": .number(Double(content.count))], createdAt: Timestamp(milliseconds: ms), model: "test")
}

func record(_ id: String, _ content: String, seed: Int) -> StoredRecord {
    StoredRecord(memory: memory(id, content), vector: vector(seed))
}

/// A commit that adds `id` with its ADD history row.
func addition(_ id: String, _ content: String, seed: Int) -> StoreChange {
    let r = record(id, content, seed: seed)
    return StoreChange(upserts: [r], history: [HistoryEntry(event: .add, memoryID: id, at: r.memory.createdAt, old: nil, new: r.memory, reason: "stored")])
}

/// What a reader can observe of a store: ids with content, and every history row of `ids`.
struct Observed: Equatable, CustomStringConvertible {
    var contents: [String: String]
    var history: [String: [HistoryEntry]]

    init(_ store: FileVectorStore, historyOf ids: [String]) throws {
        var contents: [String: String] = [:]
        try store.scan(filter: nil) { contents[$0.memory.id] = $0.memory.content; return true }
        self.contents = contents
        history = [:]
        for id in ids { history[id] = try store.history(id: id) }
    }

    var description: String { "\(contents.sorted { $0.key < $1.key }) history \(history.mapValues { $0.map(\.event.rawValue) })" }
}

/// The bytes of a file.
func contents(_ path: String) throws -> [UInt8] {
    try POSIXFile(path: path, create: false).readAll()
}

/// Replaces a file's bytes.
func overwrite(_ path: String, with bytes: [UInt8]) throws {
    let f = try POSIXFile(path: path, create: true, truncate: true)
    try f.write(bytes, at: 0)
}

/// Runs a program and returns its exit status (for checks from another process).
func run(_ arguments: [String]) throws -> Int32 {
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    let spawned = posix_spawn(&pid, arguments[0], nil, nil, argv, environ)
    guard spawned == 0 else { throw StrataError(.io, "posix_spawn \(arguments[0]): \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xFF
}

/// The error `body` throws, as a StrataError (a test failure when it throws nothing).
func strataError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> StrataError? {
    do {
        try body()
        Issue.record("expected an error, got none", sourceLocation: sourceLocation)
        return nil
    } catch let error as StrataError {
        return error
    } catch {
        Issue.record("expected a StrataError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Opens the store at `path` with `read_only`.
func readOnly(_ path: String, reports: Reports = Reports()) throws -> FileVectorStore {
    var o = options(path)
    o.readOnly = true
    return try FileVectorStore(options: o, report: reports.sink)
}

/// The names in the folder of `path` that start with its name plus `suffix`.
func siblings(of path: String, startingWith suffix: String) -> [String] {
    let dir = POSIXFile.directory(of: path)
    let prefix = String(path.dropFirst(dir.count + 1)) + suffix
    guard let d = opendir(dir) else { return [] }
    defer { closedir(d) }
    var out: [String] = []
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name.hasPrefix(prefix) { out.append(dir + "/" + name) }
    }
    return out.sorted()
}
