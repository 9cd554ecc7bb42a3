import StrataCore

/// The backends compiled into Strata: the embedded default.
///
/// | seam       | backend      | options                                   |
/// |------------|--------------|-------------------------------------------|
/// | store      | `memory`     | `metric`: "cosine" (default), "dot", "l2" |
/// | embedder   | `hashing`    | `dimension`: 8...65536 (default 256)      |
/// | summarizer | `extractive` | `max_chars`: default 400                  |
public struct BuiltinBackends: BackendProvider {
    public init() {}

    public static let vectorStores = ["memory"]
    public static let embedders = ["hashing"]
    public static let summarizers = ["extractive"]

    private func refusePlugin(_ choice: BackendChoice, path: String) throws(StrataError) {
        if let plugin = choice.plugin {
            throw StrataError(.plugin, "\(path).plugin \"\(plugin)\": this engine was opened without a plugin loader")
        }
    }

    private func unknown(_ choice: BackendChoice, _ known: [String], path: String) -> StrataError {
        StrataError(.invalidConfig,
                    "\(path).backend \"\(choice.backend)\" is not a built-in backend (built in: \(known.joined(separator: ", "))); name a plugin with \(path).plugin")
    }

    public func makeVectorStore(_ choice: BackendChoice, dimension: Int, path: String) throws(StrataError) -> any VectorStore {
        try refusePlugin(choice, path: path)
        guard choice.backend == "memory" else { throw unknown(choice, Self.vectorStores, path: path) }
        if choice.options.objectValue?["dimension"] != nil {
            throw StrataError(.invalidConfig, "\(path).options.dimension is set by the embedder; remove it")
        }
        return try InMemoryVectorStore(options: choice.options.setting("dimension", .number(Double(dimension))), path: "\(path).options")
    }

    public func makeEmbedder(_ choice: BackendChoice, path: String) throws(StrataError) -> any Embedder {
        try refusePlugin(choice, path: path)
        guard choice.backend == "hashing" else { throw unknown(choice, Self.embedders, path: path) }
        return try HashingEmbedder(options: choice.options, path: "\(path).options")
    }

    public func makeSummarizer(_ choice: BackendChoice, path: String) throws(StrataError) -> any Summarizer {
        try refusePlugin(choice, path: path)
        guard choice.backend == "extractive" else { throw unknown(choice, Self.summarizers, path: path) }
        return try ExtractiveSummarizer(options: choice.options, path: "\(path).options")
    }

    public func makeMemoryKernel(_ choice: BackendChoice, path: String) throws(StrataError) -> any MemoryKernel {
        try refusePlugin(choice, path: path)
        throw unknown(choice, [], path: path)
    }
}
