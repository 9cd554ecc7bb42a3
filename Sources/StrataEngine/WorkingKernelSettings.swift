import StrataCore

/// A memory kernel run as a working memory over the stream of stored embeddings, read at recall
/// time as one more score part (`scores.kernel`: cosine between a hit's vector and the kernel's
/// read for the query, weighted by `weight`). Off unless configured:
///
///     "working_kernel": {"plugin": "tensor", "weight": 0.2,
///                        "options": {"type": "ring", "buffer_size": 16, "weights": "ring.safetensors"}}
///
/// `options.memory_dim` defaults to the embedder's dimension and must equal it. The kernel's
/// state lives in the engine's memory only: a new engine starts with an empty working memory.
public struct WorkingKernelSettings: Sendable, Hashable {
    public var plugin = "tensor"
    public var options: JSONValue = .object([:])
    public var weight = 0.2

    public init() {}

    public init(json: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path, code: .invalidConfig)
        plugin = try r.optionalString("plugin") ?? plugin
        if let o = try r.optionalObject("options") { options = .object(o) }
        weight = try r.optionalDouble("weight", in: 0...1000) ?? weight
        try r.finish()
        guard case .object(let o) = options, o["type"] != nil else {
            throw StrataError(.invalidConfig, "\(path).options.type is required (pmm, slot, kv, ring, fractal)")
        }
    }

    public var json: JSONValue { .object(["plugin": .string(plugin), "options": options, "weight": .number(weight)]) }
}
