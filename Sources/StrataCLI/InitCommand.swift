import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
import StrataWire
import StrataPlugins

/// `strata init`: writes the store folder's `strata.json` from a preset.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a store: write strata.json from a preset into the store folder.",
        discussion: """
            The store folder is --dir, else $STRATA_DIR, else ./.strata; it is created if \
            missing. Every other command opens the store that folder's strata.json describes, \
            so memories added by one command are there for the next. Relative "path" options \
            in strata.json name files inside the folder.

            The engine is opened once before strata.json is put in place, so a preset whose \
            plugin cannot be loaded leaves no file behind. An existing strata.json is refused \
            (exit 24) unless --force is given. With --force, when the new configuration keeps \
            memories in the same files as the old one, they stay where they are; when it names \
            other files (say --preset file over a SQLite store), every memory is copied into \
            the new store, vectors and history included, and the old files are left in place \
            (the message names them).

            The embedder (--embedder, else $STRATA_EMBEDDER, else auto) is written into \
            strata.json, so the store keeps embedding the way its vectors were made. auto \
            picks minilm (the all-MiniLM-L6-v2 sentence embedder, libstrata-minilm.so: recall \
            by meaning) when its model is installed (scripts/setup installs it with \
            scripts/install-model), else the hashing embedder, with a one-line notice on \
            stderr saying why. With --force, auto keeps the embedder of the store being \
            replaced; naming another one is refused while the store holds memories (their \
            vectors come from the old embedder: strata reembed moves them).

            Example:
              strata init                      # ./.strata/strata.json on SQLite, minilm if installed
              strata init --dir /tmp/notes --preset file --embedder hashing
            """)

    @Option(help: ArgumentHelp("The starting configuration (\(StorePreset.helpText)).", valueName: "name"))
    var preset: StorePreset = .default

    @Flag(help: "Replace an existing strata.json; memories move to the new store when it names other files.")
    var force = false

    @Option(help: ArgumentHelp("The embedder (\(EmbedderOption.helpText)).", valueName: "name"))
    var embedder: EmbedderOption?

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let (dir, _) = store.directory
            let file = store.configurationFile
            let existed = access(file, F_OK) == 0
            if existed, !force {
                throw StrataError(.conflict, "\(file) already exists; pass --force to replace it (memories move to the new store when it names other files)")
            }
            // The old store is opened first, so a store that cannot be read stops the init
            // before anything is written.
            let option = try EmbedderOption.resolved(embedder)
            let old: (engine: Engine, files: [String])? = existed ? try Self.openOld(store) : nil
            let chosen = try Self.embedder(option, old: old?.engine, file: file)
            chosen.printNotice()
            let written = preset.configuration.setting("embedder", Self.json(chosen.choice))
            try FileSystem.makeDirectories(dir)
            let staged = "\(file).tmp-\(getpid())"
            try FileSystem.writeFile(staged, JSONWriter.string(written, pretty: true) + "\n")
            var moved: (count: Int, from: [String], to: [String])?
            do throws(StrataError) {
                // Opening the engine loads the plugin and creates the store's files, so a
                // preset that cannot work here fails now, not at the first `add`.
                let configuration = try EngineConfiguration(contentsOfFile: staged)
                let engine = try Engine(configuration: configuration, backends: PreparedBackends(
                    base: PluginBackends(pluginDirectories: configuration.pluginDirectories, configurationFile: staged), prepared: chosen))
                let newFiles = StoreFiles(folder: dir, configuration: configuration).paths
                if let old, !old.files.isEmpty, !newFiles.isEmpty, Set(old.files) != Set(newFiles) {
                    // Vectors are copied bit for bit only into the same embedding space; a new
                    // embedder gets every memory embedded again (`Engine.reembed`), never a mix.
                    let count = old.engine.space.matches(engine.space)
                        ? try StoreCopy.copyAll(from: old.engine.store, into: engine.store)
                        : try old.engine.reembed(into: engine).memories
                    moved = (count, old.files, newFiles)
                }
                try FileSystem.publish(staged, as: file, replacing: force)
            } catch {
                unlink(staged)
                throw error.prefixed("preset \(preset.name)")
            }
            if output.json {
                var o: [String: JSONValue] = [
                    "file": .string(file), "dir": .string(dir), "preset": .string(preset.name),
                    "persists": .bool(preset.persists), "replaced": .bool(existed), "configuration": written,
                    "embedder": .string(chosen.embedder.modelID), "embedder_notice": chosen.fallbackReason.map { .string($0) } ?? .null,
                ]
                if let moved {
                    o["moved"] = .object([
                        "memories": .number(Double(moved.count)), "from": .array(moved.from.map { .string($0) }),
                        "to": .array(moved.to.map { .string($0) }),
                    ])
                }
                printJSON(.object(o))
                return
            }
            print("\(existed ? "Replaced" : "Created") \(file) (preset \(preset.name): \(preset.summary)).")
            print("Embedder: \(chosen.embedder.modelID) (\(chosen.embedder.dimension) dimensions)\(chosen.fallbackReason == nil ? "" : ", as the notice above says").")
            if let moved {
                let to = moved.to.isEmpty ? "memory (nothing persists there)" : moved.to.joined(separator: ", ")
                print("Moved \(moved.count) memor\(moved.count == 1 ? "y" : "ies") from \(moved.from.joined(separator: ", ")) to \(to); the old files are left in place.")
            }
            if !preset.persists, let old, !old.files.isEmpty {
                print("Note: the memories in \(old.files.joined(separator: ", ")) were not moved: the \(preset.name) preset keeps nothing, so the files are left in place and this store no longer reads them.")
            } else if !preset.persists {
                print("Note: nothing persists with the \(preset.name) preset; every strata command starts with an empty store.")
            }
        }
    }

    /// The embedder of the new store: the old store's under `auto` (a store keeps the embedder
    /// its vectors came from), else what `option` makes.
    /// - Throws: `.conflict` when the old store holds memories and the new embedder is another
    ///   model: its vectors would sit beside vectors of another space, or be copied into one.
    private static func embedder(_ option: EmbedderOption, old: Engine?, file: String) throws(StrataError) -> DefaultEmbedder {
        if let old, option == .auto {
            return DefaultEmbedder(choice: old.configuration.embedder, embedder: old.embedder, fallbackReason: nil)
        }
        let made = try DefaultEmbedder.make(option, backends: PluginBackends(pluginDirectories: [], configurationFile: file))
        guard let old else { return made }
        if made.embedder.modelID == old.embedder.modelID {
            return DefaultEmbedder(choice: old.configuration.embedder, embedder: old.embedder, fallbackReason: nil)
        }
        let count = try old.store.count()
        if count > 0 {
            throw StrataError(.conflict, "the store holds \(count) memor\(count == 1 ? "y" : "ies") embedded by \(old.embedder.modelID); "
                + "--embedder \(option.rawValue) (\(made.embedder.modelID)) would put them beside vectors of another model. "
                + "keep its embedder (leave out --embedder), or move the store to the new one with strata reembed --embedder \(option.rawValue)")
        }
        return made
    }

    /// The configuration's `"embedder"` as `strata init` writes it: without an empty `"options"`.
    static func json(_ choice: BackendChoice) -> JSONValue {
        var o: [String: JSONValue] = ["backend": .string(choice.backend)]
        if let plugin = choice.plugin { o["plugin"] = .string(plugin) }
        if choice.options != .object([:]) { o["options"] = choice.options }
        return .object(o)
    }

    /// The store the existing `strata.json` describes, open, with its files (none when it
    /// persists nothing).
    private static func openOld(_ store: StoreLocation) throws(StrataError) -> (engine: Engine, files: [String]) {
        do {
            let configuration = try store.configuration()
            let engine = try StoreLocation.openEngine(configuration: configuration, file: store.configurationFile)
            return (engine, store.files(configuration).paths)
        } catch {
            throw error.prefixed("the existing store could not be opened to move its memories (nothing was changed; repair it with strata doctor, or move it aside)")
        }
    }
}
