import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
import StrataWire
import StrataPlugins

/// `--dir`, shared by every command that works on a store: the folder holding `strata.json`.
///
/// The folder is `--dir DIR`, else `$STRATA_DIR`, else `./.strata`; each command opens the
/// engine that folder's `strata.json` describes, so every call is its own process on the same
/// store.
struct StoreLocation: ParsableArguments {
    @Option(name: .customLong("dir"), help: ArgumentHelp(
        "The store folder, holding strata.json (default: $STRATA_DIR, else ./.strata).", valueName: "dir"))
    var flag: String?

    /// The configuration file's name inside the store folder.
    static let configurationFileName = "strata.json"

    /// The store folder and where that choice came from, for messages.
    var directory: (path: String, source: String) {
        if let flag { return (flag, "--dir") }
        if let env = getenv("STRATA_DIR").map({ String(cString: $0) }), !env.isEmpty { return (env, "STRATA_DIR") }
        return (".strata", "the default")
    }

    var configurationFile: String {
        let dir = directory.path
        return (dir.hasSuffix("/") ? dir : dir + "/") + Self.configurationFileName
    }

    /// Opens the engine of the store folder, loading the plugins its configuration names.
    /// - Throws: `.io` naming the folder and how it was chosen when it holds no `strata.json`;
    ///   otherwise whatever reading the configuration or opening the engine throws.
    func openEngine() throws(StrataError) -> Engine {
        try Self.openEngine(configuration: try configuration(), file: configurationFile)
    }

    /// Opens the engine for a command that only reads (stats, get, history, export, snapshots,
    /// anomalies): stores that take `"read_only"` get it, so such a command never changes a
    /// store's files (a file store then leaves an unfinished last append in place instead of
    /// cutting it off; only a command that writes cuts it, keeping the bytes aside).
    func openEngineForReading() throws(StrataError) -> Engine {
        var config = try configuration()
        config.store = Self.readOnly(config.store)
        for i in config.tiers.indices { config.tiers[i].store = config.tiers[i].store.map(Self.readOnly) }
        return try Self.openEngine(configuration: config, file: configurationFile)
    }

    /// The file store's choice with `"read_only": true`. The SQLite store changes nothing on a
    /// read either way, and its read-only mode refuses a database that needs a migration, so
    /// it is opened as usual.
    static func readOnly(_ choice: BackendChoice) -> BackendChoice {
        guard choice.backend == "file", choice.plugin != nil else { return choice }
        var c = choice
        c.options = c.options.setting("read_only", .bool(true))
        return c
    }

    /// The store folder's configuration, read and checked.
    /// - Throws: `.io` naming the folder and how it was chosen when it holds no `strata.json`.
    func configuration() throws(StrataError) -> EngineConfiguration {
        let file = configurationFile
        guard access(file, F_OK) == 0 else {
            let (dir, source) = directory
            throw StrataError(.io, "no Strata store in \(dir) (\(source)): \(file) does not exist; "
                + "run `strata init\(source == "--dir" ? " --dir \(dir)" : "")` first, or choose another folder with --dir or STRATA_DIR")
        }
        // Like git's safe.directory: a store another user owns or can write could name any
        // plugin or file; it is refused before anything in it is read.
        for path in [directory.path, file] {
            if let why = PluginTrust.unsafeOwnership(path) {
                throw StrataError(.invalidConfig, "refusing the store in \(directory.path): \(why); "
                    + "make it yours and private (chown, chmod go-w) if you trust it")
            }
        }
        return try EngineConfiguration(contentsOfFile: file)
    }

    /// The files of this store, which commands that write files must not write over.
    func files(_ configuration: EngineConfiguration) -> StoreFiles {
        StoreFiles(folder: directory.path, configuration: configuration)
    }

    /// Opens the engine a configuration file describes, with the plugin loader.
    static func openEngine(configurationFile file: String) throws(StrataError) -> Engine {
        try openEngine(configuration: try EngineConfiguration(contentsOfFile: file), file: file)
    }

    /// Opens the engine a configuration read from `file` describes, with the plugin loader
    /// (which trusts the file's `plugin_dirs` and plugin paths only where they are trusted
    /// folders already: `PluginTrust`).
    static func openEngine(configuration config: EngineConfiguration, file: String) throws(StrataError) -> Engine {
        try Engine(configuration: config, backends: PluginBackends(pluginDirectories: config.pluginDirectories, configurationFile: file))
    }
}
