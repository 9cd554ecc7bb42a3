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
            process holds a SQLite store open.

            With per-tier stores (tiers[].store), every store with a "path" option (sqlite, \
            file) is moved the same way, each to a new file beside its old one, and strata.json \
            names all the new files in the one rename. A store without a file (the memory \
            store, or one with no "path") keeps nothing between processes: there is nothing to \
            move, and it stays as configured. At least one store must have a file.

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

    /// One store of the configuration: the main one (`tier` nil) or a tier's own.
    struct Part {
        var tier: String?
        var backend: String
        /// Its file as the configuration names it once read (absolute); nil for a store that
        /// keeps nothing between processes.
        var path: String?
        /// The file a move writes, absolute and as strata.json writes it (relative when the
        /// old path was).
        var staging: String?
        var rawStaging: String?

        var label: String { tier.map { "the store of tier \"\($0)\"" } ?? "the store" }
    }

    func run() throws {
        try withEngineErrors(json: output.json) {
            let file = store.configurationFile
            let config = try store.configuration()
            let options = try JSONParser.parse(embedderOptions, what: "--embedder-options")
            guard case .object = options else { throw StrataError(.invalidArgument, "--embedder-options must be a JSON object") }
            let choice = BackendChoice(backend: embedder, plugin: plugin ?? (embedder == "hashing" ? nil : embedder), options: options)
            let bytes = try WholeFile.read(file, what: file)
            let raw = try JSONParser.parse(try bytes.withUnsafeBufferPointer { (b) throws(StrataError) -> String in try validatedString(b, what: file) }, what: file)
            let parts = try Self.parts(of: config, raw: raw, file: file, for: choice)
            guard parts.contains(where: { $0.path != nil }) else {
                throw StrataError(.unsupported, "the \(config.store.backend) store keeps nothing between processes, so there is nothing to reembed; change the embedder in \(file)")
            }
            for part in parts {
                guard let path = part.path, part.staging == path, config.embedder != choice else { continue }
                throw StrataError(.conflict, "\(path) is named as if it were the move of \(part.label) to \(embedder) already, yet strata.json names another embedder; rename the file (and strata.json's path) first")
            }

            var source = config
            source.lifecycle.scheduleMinutes = nil  // no cycle of its own during the move
            if config.embedder == choice {
                let engine = try StoreLocation.openEngine(configuration: source, file: file)
                report(nil, space: engine.space, parts: parts, memories: try engine.store.count())
                return
            }
            var target = source
            target.embedder = choice
            for part in parts {
                guard let staging = part.staging else { continue }
                if let tier = part.tier, let i = target.tiers.firstIndex(where: { $0.name == tier }), var c = target.tiers[i].store {
                    c.options = c.options.setting("path", .string(staging))
                    target.tiers[i].store = c
                } else if part.tier == nil {
                    target.store.options = target.store.options.setting("path", .string(staging))
                }
            }
            let stagings = parts.compactMap(\.staging).joined(separator: ", ")
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
                    throw StrataError(.conflict, "the store kept changing while it was moved; the new vectors are kept in \(stagings): stop the other writers and run the same strata reembed again")
                }
            }
            // Both engines are closed here (their stores too), so a WAL left beside an old
            // SQLite file means another process still has it open: switching now would leave
            // it writing to a file nobody reads.
            for part in parts where part.backend == "sqlite" {
                guard let path = part.path, access(path + "-wal", F_OK) == 0 else { continue }
                throw StrataError(.conflict, "another process has \(part.label) \(path) open, so the switch waits: the new vectors are kept in \(stagings); close it and run the same strata reembed again")
            }
            var document = raw.setting("embedder", choice.json)
            for part in parts {
                guard let rawStaging = part.rawStaging else { continue }
                document = Self.settingPath(rawStaging, of: part, in: document)
            }
            let staged = "\(file).tmp-\(getpid())"
            try FileSystem.writeFile(staged, JSONWriter.string(document, pretty: true) + "\n")
            do { try FileSystem.publish(staged, as: file, replacing: true) } catch {
                unlink(staged)
                throw error
            }
            report(result, space: result.to, parts: parts, memories: result.memories)
        }
    }

    /// The stores of `config`: the main one first, then each tier's own in the tiers' order,
    /// with the files a move to `choice` writes for those that keep a file.
    /// - Throws: `.invalidConfig` when strata.json's text does not say a path the configuration has.
    static func parts(of config: EngineConfiguration, raw: JSONValue, file: String, for choice: BackendChoice) throws(StrataError) -> [Part] {
        func part(_ c: BackendChoice, tier: String?, rawStore: JSONValue?, key: String) throws(StrataError) -> Part {
            var p = Part(tier: tier, backend: c.backend)
            guard case .string(let path)? = c.options.objectValue?["path"], !path.isEmpty else { return p }
            guard case .string(let rawPath)? = rawStore?.objectValue?["options"]?.objectValue?["path"] else {
                throw StrataError(.invalidConfig, "\(file): \(key).options.path is not a string")
            }
            p.path = path
            p.staging = stagingName(path, for: choice)
            p.rawStaging = stagingName(rawPath, for: choice)
            return p
        }
        var parts = [try part(config.store, tier: nil, rawStore: raw.objectValue?["store"], key: "store")]
        let rawTiers = raw.objectValue?["tiers"]?.arrayValue ?? []
        for (i, tier) in config.tiers.enumerated() {
            guard let c = tier.store else { continue }
            let rawTier = rawTiers.first { $0.objectValue?["name"]?.stringValue == tier.name }
            parts.append(try part(c, tier: tier.name, rawStore: rawTier?.objectValue?["store"], key: "tiers[\(i)].store"))
        }
        return parts
    }

    /// `document` with `part`'s store path set to `path`.
    private static func settingPath(_ path: String, of part: Part, in document: JSONValue) -> JSONValue {
        func withPath(_ store: JSONValue) -> JSONValue {
            guard case .object(var s) = store, case .object(var o)? = s["options"] else { return store }
            o["path"] = .string(path)
            s["options"] = .object(o)
            return .object(s)
        }
        guard let tier = part.tier else { return document.setting("store", withPath(document.objectValue?["store"] ?? .null)) }
        guard case .array(var tiers)? = document.objectValue?["tiers"],
              let i = tiers.firstIndex(where: { $0.objectValue?["name"]?.stringValue == tier }),
              let store = tiers[i].objectValue?["store"] else { return document }
        tiers[i] = tiers[i].setting("store", withPath(store))
        return document.setting("tiers", .array(tiers))
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

    private func report(_ r: ReembedReport?, space: EmbeddingSpace, parts: [Part], memories: Int) {
        let main = parts[0]
        let tierParts = parts.dropFirst()
        if output.json {
            var o: [String: JSONValue] = ["memories": .number(Double(memories)), "to": space.json, "switched": .bool(r != nil)]
            o["store"] = (r == nil ? main.path : main.staging).map(JSONValue.string) ?? .null
            if let r { o = o.merging(r.json.objectValue ?? [:]) { a, _ in a } }
            if r != nil, let old = main.path { o["old_store"] = .string(old) }
            if !tierParts.isEmpty {
                o["tier_stores"] = .array(tierParts.map { p in
                    var t: [String: JSONValue] = ["tier": .string(p.tier ?? ""), "backend": .string(p.backend), "moved": .bool(p.path != nil && r != nil)]
                    t["store"] = (r == nil ? p.path : p.staging).map(JSONValue.string) ?? .null
                    if r != nil, let old = p.path { t["old_store"] = .string(old) }
                    return .object(t)
                })
            }
            printJSON(.object(o))
            return
        }
        guard let r else {
            print("The store already uses that embedder: \(memories) memor\(memories == 1 ? "y" : "ies") in \(space); nothing to do.")
            return
        }
        print("Re-embedded \(r.memories) memor\(r.memories == 1 ? "y" : "ies") from \(r.from) to \(r.to): \(r.embedded) embedded, "
            + "\(r.kept) kept from an interrupted run, \(r.removed) removed (forgotten meanwhile), in \(r.batches) batch\(r.batches == 1 ? "" : "es").")
        for p in parts {
            if let staging = p.staging, let old = p.path {
                let what = p.tier == nil ? "The store" : "The store of tier \"\(p.tier!)\""
                print("\(what) is now \(staging), named by \(store.configurationFile). The old one \(old) (and the files beside it) is left in place: delete it once no process uses it.")
            } else if let tier = p.tier {
                print("The store of tier \"\(tier)\" (\(p.backend)) keeps nothing between processes: it had nothing to move and stays as configured, filled in the new space from now on.")
            } else {
                print("The main store (\(p.backend)) keeps nothing between processes: it had nothing to move and stays as configured, filled in the new space from now on.")
            }
        }
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
