import ArgumentParser
import StrataCore
import StrataEngine

/// A named starting configuration for `strata init`.
///
/// The table `all` is the one place presets are listed: a new preset is one entry, and the
/// help text, the `--preset` choices and the error for an unknown name all come from it.
struct StorePreset: ExpressibleByArgument, Sendable {
    let name: String
    /// One line for `--help`.
    let summary: String
    /// The document written to `strata.json`. Relative `"path"` options are files in the store folder.
    let configuration: JSONValue
    /// Whether memories outlive the process; `init` warns when they do not.
    let persists: Bool

    static let all: [StorePreset] = [
        StorePreset(
            name: "sqlite", summary: "memories and history in strata.db (SQLite) in the store folder",
            configuration: ["store": ["backend": "sqlite", "plugin": "sqlite", "options": ["path": "strata.db"]]],
            persists: true),
        StorePreset(
            name: "file", summary: "memories in strata.log, an append-only checksummed log in the store folder",
            configuration: ["store": ["backend": "file", "plugin": "file", "options": ["path": "strata.log"]]],
            persists: true),
        StorePreset(
            name: "metabolic",
            summary: "SQLite with seed 001's tiers: working 1 h / 10 items (always recalled), session 24 h / 50, episodic 7 d / 200, semantic permanent",
            configuration: sqlite(with: ConfigurationPresets.metabolic), persists: true),
        StorePreset(
            name: "tiered",
            summary: "SQLite with seed 004's tiers: hot 24 h / 1,000, warm 168 h / 5,000 (light), cold 720 h / 10,000 (summary), archive (patterns)",
            configuration: sqlite(with: ConfigurationPresets.tiered), persists: true),
        StorePreset(
            name: "memory", summary: "the embedded default, in memory: nothing persists",
            configuration: ["store": ["backend": "memory"]],
            persists: false),
    ]

    static let defaultName = "sqlite"

    /// A preset document on the SQLite store in the store folder.
    private static func sqlite(with preset: JSONValue) -> JSONValue {
        preset.setting("store", ["backend": "sqlite", "plugin": "sqlite", "options": ["path": "strata.db"]])
    }

    static var `default`: StorePreset { all.first { $0.name == defaultName }! }

    private init(name: String, summary: String, configuration: JSONValue, persists: Bool) {
        self.name = name
        self.summary = summary
        self.configuration = configuration
        self.persists = persists
    }

    init?(argument: String) {
        guard let preset = Self.all.first(where: { $0.name == argument }) else { return nil }
        self = preset
    }

    static var allValueStrings: [String] { all.map(\.name) }

    var defaultValueDescription: String { name }

    /// The `--preset` help: one line per preset.
    static var helpText: String {
        all.map { "\($0.name): \($0.summary)" }.joined(separator: "; ")
    }
}
