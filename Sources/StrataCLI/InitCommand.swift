import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore

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
            (exit 24) unless --force is given; --force replaces the configuration only, never \
            the memories already stored.

            Example:
              strata init                      # ./.strata/strata.json on SQLite
              strata init --dir /tmp/notes --preset file
            """)

    @Option(help: ArgumentHelp("The starting configuration (\(StorePreset.helpText)).", valueName: "name"))
    var preset: StorePreset = .default

    @Flag(help: "Replace an existing strata.json (the stored memories are kept).")
    var force = false

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let (dir, _) = store.directory
            let file = store.configurationFile
            let existed = access(file, F_OK) == 0
            if existed, !force {
                throw StrataError(.conflict, "\(file) already exists; pass --force to replace it (the memories stored are kept)")
            }
            try FileSystem.makeDirectories(dir)
            let staged = "\(file).tmp-\(getpid())"
            try FileSystem.writeFile(staged, JSONWriter.string(preset.configuration, pretty: true) + "\n")
            do throws(StrataError) {
                // Opening the engine loads the plugin and creates the store's files, so a
                // preset that cannot work here fails now, not at the first `add`.
                _ = try StoreLocation.openEngine(configurationFile: staged)
                try FileSystem.publish(staged, as: file, replacing: force)
            } catch {
                unlink(staged)
                throw error.prefixed("preset \(preset.name)")
            }
            if output.json {
                printJSON(.object([
                    "file": .string(file), "dir": .string(dir), "preset": .string(preset.name),
                    "persists": .bool(preset.persists), "replaced": .bool(existed), "configuration": preset.configuration,
                ]))
                return
            }
            print("\(existed ? "Replaced" : "Created") \(file) (preset \(preset.name): \(preset.summary)).")
            if !preset.persists {
                print("Note: nothing persists with the \(preset.name) preset; every strata command starts with an empty store.")
            }
        }
    }
}
