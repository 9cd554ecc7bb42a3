/// Which backend serves one seam, as the configuration names it:
/// `{"backend": "memory", "plugin": "memory"?, "options": {...}?}`.
///
/// Without `plugin` the backend is built in; with it, the backend comes from the
/// plugin of that name (or file path), loaded at run time.
public struct BackendChoice: Sendable, Hashable {
    public var backend: String
    public var plugin: String?
    /// The backend's own options, a JSON object; the backend rejects unknown keys.
    public var options: JSONValue

    public init(backend: String, plugin: String? = nil, options: JSONValue = .object([:])) {
        self.backend = backend
        self.plugin = plugin
        self.options = options
    }

    /// Decodes `{"backend", "plugin"?, "options"?}`; `path` names it in errors ("config.store").
    public init(json: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path, code: .invalidConfig)
        backend = try r.string("backend")
        plugin = try r.optionalString("plugin")
        let options = try r.optionalObject("options") ?? [:]
        self.options = .object(options)
        try r.finish()
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["backend": .string(backend), "options": options]
        if let plugin { o["plugin"] = .string(plugin) }
        return .object(o)
    }

    /// "memory" or "plugin:sqlite/sqlite", for messages and stats.
    public var label: String { plugin.map { "plugin:\($0)/\(backend)" } ?? backend }
}

/// Makes backends from configuration choices. The built-in provider knows the embedded
/// backends; the plugin provider (StrataPlugins) adds run-time plugins in front of it.
public protocol BackendProvider: Sendable {
    /// - Parameters:
    ///   - dimension: the embedder's dimension; the store's options get it as "dimension".
    ///   - path: names the choice in errors ("config.store").
    func makeVectorStore(_ choice: BackendChoice, dimension: Int, path: String) throws(StrataError) -> any VectorStore
    func makeEmbedder(_ choice: BackendChoice, path: String) throws(StrataError) -> any Embedder
    func makeSummarizer(_ choice: BackendChoice, path: String) throws(StrataError) -> any Summarizer
    func makeMemoryKernel(_ choice: BackendChoice, path: String) throws(StrataError) -> any MemoryKernel
}

extension JSONValue {
    /// An object with one key set (added or replaced); other values are returned unchanged.
    public func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var o) = self else { return self }
        o[key] = value
        return .object(o)
    }
}
