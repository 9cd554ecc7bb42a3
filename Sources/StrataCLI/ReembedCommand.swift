import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine

/// `strata reembed`: moves the store to another embedder (`Engine.reembed`), building the new
/// store beside the old one and switching by renaming `strata.json`.
struct ReembedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reembed",
        abstract: "Move the store to another embedder: re-embed every memory, then switch.",
        discussion: """
            A store holds vectors of one embedding space (embedder, model and its weights' \
            digest, dimension, normalisation), recorded in the store; opening it with another \
            embedder is an error naming both. reembed moves it: every memory is embedded again \
            by the new embedder, in batches, into a new store file beside the old one \
            (STEM.reembed-XXXXXXXX.EXT, named after the new embedder); then strata.json, naming \
            the new file and embedder, is renamed over the old one: that rename is the switch. \
            Until it, every command (and every other process) recalls from the old store, in \
            the old space.

            Interrupted (a crash, a kill, a failing embedder), it is resumed by running the \
            same command again: the batches already in the new file are kept, nothing is \
            embedded twice and every memory ends up there once. Memories and their history \
            move; the old file, its snapshots and the history of memories forgotten before \
            the move stay in place (the message names them: delete them once no process uses \
            them). The switch is refused (exit 24, nothing lost: run it again) while another \
            process holds the SQLite store open. Stores with a "path" option only (sqlite, \
            file), without per-tier stores.

            Example:
              strata reembed --embedder minilm
              strata reembed --embedder hashing --embedder-options '{"dimension": 384}' --json
            """)

    @Option(help: ArgumentHelp("The new embedder's backend: hashing (built in) or a plugin's backend, e.g. minilm.", valueName: "backend"))
    var embedder: String

    @Option(help: ArgumentHelp("The plugin serving it (default: none for hashing, else the backend's name).", valueName: "plugin"))
    var plugin: String?

    @Option(help: ArgumentHelp("The new embedder's options, a JSON object (default {}).", valueName: "json"))
    var embedderOptions = "{}"

    @Option(help: ArgumentHelp("Memories per embedding call and per commit.", valueName: "n"))
    var batchSize = 64

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be in 1...10000") }
    }

    func run() throws {
        try withEngineErrors(json: output.json) {
            let file = store.configurationFile
            let config = try store.configuration()
            let options = try JSONParser.parse(embedderOptions, what: "--embedder-options")
            guard case .object = options else { throw StrataError(.invalidArgument, "--embedder-options must be a JSON object") }
            let choice = BackendChoice(backend: embedder, plugin: plugin ?? (embedder == "hashing" ? nil : embedder), options: options)
            guard config.tiers.allSatisfy({ $0.store == nil }) else {
                throw StrataError(.unsupported, "reembed moves one store; this configuration keeps tiers in stores of their own")
            }
            guard case .string(let path)? = config.store.options.objectValue?["path"], !path.isEmpty else {
                throw StrataError(.unsupported, "the \(config.store.backend) store keeps nothing between processes, so there is nothing to reembed; change the embedder in \(file)")
            }
            let bytes = try WholeFile.read(file, what: file)
            let raw = try JSONParser.parse(try bytes.withUnsafeBufferPointer { (b) throws(StrataError) -> String in try validatedString(b, what: file) }, what: file)
            guard case .string(let rawPath)? = raw.objectValue?["store"]?.objectValue?["options"]?.objectValue?["path"] else {
                throw StrataError(.invalidConfig, "\(file): store.options.path is not a string")
            }
            let staging = Self.stagingName(path, for: choice), rawStaging = Self.stagingName(rawPath, for: choice)
            guard staging != path || config.embedder == choice else {
                throw StrataError(.conflict, "\(path) is named as if it were the move of this store to \(embedder) already, yet strata.json names another embedder; rename the file (and strata.json's path) first")
            }

            var source = config
            source.lifecycle.scheduleMinutes = nil  // no cycle of its own during the move
            if config.embedder == choice {
                let engine = try StoreLocation.openEngine(configuration: source, file: file)
                report(nil, space: engine.space, path: path, memories: try engine.store.count())
                return
            }
            var target = source
            target.embedder = choice
            target.store.options = target.store.options.setting("path", .string(staging))
            var result = try Self.move(source, into: target, file: file, batchSize: batchSize, showProgress: true)
            // The last pass held this process's writer lock only: another process may have
            // written since. Both stores are closed and opened again until a pass finds
            // nothing left to carry over.
            for attempt in 1...5 {
                let check = try Self.move(source, into: target, file: file, batchSize: batchSize, showProgress: false)
                result.embedded += check.embedded
                result.removed += check.removed
                result.batches += check.batches
                result.memories = check.memories
                result.to = check.to
                if check.batches == 0 && check.removed == 0 { break }
                if attempt == 5 {
                    throw StrataError(.conflict, "the store \(path) kept changing while it was moved; the new vectors are kept in \(staging): stop the other writers and run the same strata reembed again")
                }
            }
            // Both engines are closed here (their stores too), so a WAL left beside the old
            // SQLite file means another process still has it open: switching now would leave
            // it writing to a file nobody reads.
            if config.store.backend == "sqlite", access(path + "-wal", F_OK) == 0 {
                throw StrataError(.conflict, "another process has the store \(path) open, so the switch waits: the new vectors are kept in \(staging); close it and run the same strata reembed again")
            }
            var document = raw.setting("embedder", choice.json)
            if case .object(var s)? = document.objectValue?["store"], case .object(var o)? = s["options"] {
                o["path"] = .string(rawStaging)
                s["options"] = .object(o)
                document = document.setting("store", .object(s))
            }
            let staged = "\(file).tmp-\(getpid())"
            try FileSystem.writeFile(staged, JSONWriter.string(document, pretty: true) + "\n")
            do { try FileSystem.publish(staged, as: file, replacing: true) } catch {
                unlink(staged)
                throw error
            }
            report(result, space: result.to, path: staging, memories: result.memories, oldPath: path)
        }
    }

    /// Opens both engines, moves the memories, and closes both (on return) before the switch.
    private static func move(
        _ source: EngineConfiguration, into target: EngineConfiguration, file: String, batchSize: Int, showProgress: Bool
    ) throws(StrataError) -> ReembedReport {
        let old = try StoreLocation.openEngine(configuration: source, file: file)
        let new = try StoreLocation.openEngine(configuration: target, file: file)
        var bar: ProgressBar?
        let result = try old.reembed(into: new, batchSize: batchSize) { done, total in
            guard showProgress else { return }
            if bar == nil { bar = ProgressBar(total: Int64(total)) }
            bar?.update(done: Int64(done), items: done)
        }
        bar?.finish()
        return result
    }

    private func report(_ r: ReembedReport?, space: EmbeddingSpace, path: String, memories: Int, oldPath: String? = nil) {
        if output.json {
            var o: [String: JSONValue] = ["store": .string(path), "memories": .number(Double(memories)), "to": space.json, "switched": .bool(r != nil)]
            if let r { o = o.merging(r.json.objectValue ?? [:]) { a, _ in a } }
            if let oldPath { o["old_store"] = .string(oldPath) }
            printJSON(.object(o))
            return
        }
        guard let r, let oldPath else {
            print("The store already uses that embedder: \(memories) memor\(memories == 1 ? "y" : "ies") in \(space); nothing to do.")
            return
        }
        print("Re-embedded \(r.memories) memor\(r.memories == 1 ? "y" : "ies") from \(r.from) to \(r.to): \(r.embedded) embedded, "
            + "\(r.kept) kept from an interrupted run, \(r.removed) removed (forgotten meanwhile), in \(r.batches) batch\(r.batches == 1 ? "" : "es").")
        print("The store is now \(path), named by \(store.configurationFile). The old store \(oldPath) (and the files beside it) is left in place: delete it once no process uses it.")
    }

    /// `DIR/STEM.reembed-XXXXXXXX.EXT` for `path` (`DIR/STEM.EXT`, or a name a previous reembed
    /// gave), where XXXXXXXX is the CRC-32C of the new embedder's choice: the same command finds
    /// the same file again to resume.
    static func stagingName(_ path: String, for choice: BackendChoice) -> String {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let folder = String(path[..<slash])
        var base = String(path[slash...])
        var ext = ""
        if let dot = base.lastIndex(of: "."), dot != base.startIndex {
            ext = String(base[dot...])
            base = String(base[..<dot])
        }
        let mark = Array(".reembed-".utf8), bytes = Array(base.utf8)
        if bytes.count >= mark.count, let at = (0...(bytes.count - mark.count)).last(where: { Array(bytes[$0..<$0 + mark.count]) == mark }) {
            base = String(decoding: bytes[..<at], as: UTF8.self)
        }
        let digest = String(CRC32C.checksum(Array(JSONWriter.string(choice.json).utf8)), radix: 16)
        return folder + base + ".reembed-" + String(repeating: "0", count: 8 - digest.count) + digest + ext
    }
}
