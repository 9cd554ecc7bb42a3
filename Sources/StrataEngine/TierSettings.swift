import StrataCore

/// One tier of memory as the configuration names it: `{"name": "working", "store": {...}?}`.
///
/// A tier with its own `store` keeps its memories there (for example the working tier in
/// memory and the rest in SQLite); a tier without one uses the engine's main `store`. Memories
/// whose tier is not listed live in the main store too.
public struct TierSettings: Sendable, Hashable {
    public var name: String
    /// The tier's own store, or nil for the main store.
    public var store: BackendChoice?

    public init(name: String, store: BackendChoice? = nil) {
        self.name = name
        self.store = store
    }

    /// Decodes one entry of `tiers`; `path` names it in errors ("config.tiers[0]").
    public init(json: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path, code: .invalidConfig)
        name = try r.string("name")
        guard !name.isEmpty else { throw StrataError(.invalidConfig, "\(path).name must not be empty") }
        store = try r.optionalValue("store").map { (v) throws(StrataError) in try BackendChoice(json: v, path: r.keyPath("store")) }
        try r.finish()
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["name": .string(name)]
        if let store { o["store"] = store.json }
        return .object(o)
    }

    /// Decodes the `tiers` array: names must be unique.
    static func list(_ json: JSONValue, path: String) throws(StrataError) -> [TierSettings] {
        guard case .array(let items) = json else { throw StrataError(.invalidConfig, "\(path) must be an array of tiers") }
        var out: [TierSettings] = []
        for (i, item) in items.enumerated() {
            let tier = try TierSettings(json: item, path: "\(path)[\(i)]")
            guard !out.contains(where: { $0.name == tier.name }) else {
                throw StrataError(.invalidConfig, "\(path)[\(i)].name \"\(tier.name)\" is used twice")
            }
            out.append(tier)
        }
        return out
    }
}
