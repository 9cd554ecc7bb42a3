import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine

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

            Example:
              strata init                      # ./.strata/strata.json on SQLite
              strata init --dir /tmp/notes --preset file
            """)

    @Option(help: ArgumentHelp("The starting configuration (\(StorePreset.helpText)).", valueName: "name"))
    var preset: StorePreset = .default

    @Flag(help: "Replace an existing strata.json; memories move to the new store when it names other files.")
    var force = false

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
            let old: (engine: Engine, files: [String])? = existed ? try Self.openOld(store) : nil
            try FileSystem.makeDirectories(dir)
            let staged = "\(file).tmp-\(getpid())"
            try FileSystem.writeFile(staged, JSONWriter.string(preset.configuration, pretty: true) + "\n")
            var moved: (count: Int, from: [String], to: [String])?
            do throws(StrataError) {
                // Opening the engine loads the plugin and creates the store's files, so a
                // preset that cannot work here fails now, not at the first `add`.
                let configuration = try EngineConfiguration(contentsOfFile: staged)
                let engine = try StoreLocation.openEngine(configuration: configuration, file: staged)
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
                    "persists": .bool(preset.persists), "replaced": .bool(existed), "configuration": preset.configuration,
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
