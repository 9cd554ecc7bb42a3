import StrataCore
import StrataEngine
import StrataPlugins

/// The stores a configuration names (the main store and each tier's own), read through their
/// salvage without opening the engine: what `doctor` checks and `salvage` copies out.
struct StoreInspection {
    /// One store of the configuration.
    struct Part {
        /// "store" or "tiers[2].store", as the configuration names it.
        let path: String
        let choice: BackendChoice
    }

    let configuration: EngineConfiguration
    let backends: PluginBackends
    let dimension: Int

    /// - Parameter file: the configuration file it was read from (see `PluginTrust`).
    init(configuration: EngineConfiguration, file: String) throws(StrataError) {
        self.configuration = configuration
        backends = PluginBackends(pluginDirectories: configuration.pluginDirectories, configurationFile: file)
        dimension = try backends.makeEmbedder(configuration.embedder, path: "config.embedder").dimension
    }

    var parts: [Part] {
        [Part(path: "store", choice: configuration.store)]
            + configuration.tiers.enumerated().compactMap { i, tier in
                tier.store.map { Part(path: "tiers[\(i)].store", choice: $0) }
            }
    }

    /// Reads one store: its findings, and each readable record handed to `record` (nil: count only).
    func read(_ part: Part, record: ((StoredRecord) throws(StrataError) -> Void)?) throws(StrataError) -> (records: Int, findings: [DamageFinding]) {
        var count = 0
        let findings = try backends.salvageVectorStore(part.choice, dimension: dimension, path: "config.\(part.path)") { (r: StoredRecord) throws(StrataError) in
            count += 1
            try record?(r)
        }
        return (count, findings)
    }
}

extension DamageFinding {
    /// `FILE, LOCATION: PROBLEM (lost: ...)`, for people.
    var line: String {
        "\(file), \(location): \(problem)" + (lost.map { " (lost: \($0))" } ?? "")
    }
}
