import StrataCore

/// A kernel's JSON configuration in seed 003's terms, read strictly: the keys every kernel
/// shares are read here, the kernel reads its own from `reader`, and `finish()` rejects any key
/// left over, naming it.
///
///     {"type": "pmm", "memory_dim": 256, "num_slots": 16, "num_heads": 4, "decay_rate": 0.99,
///      "seed": 1, "weights": "pmm.safetensors"}
public struct KernelOptions {
    public let type: String
    /// D: the width of the hidden input and of the read.
    public let memoryDim: Int
    /// Seeds the weights when no file is given.
    public let seed: UInt64
    /// A safetensors file with the kernel's weights.
    public let weightsPath: String?
    /// Threads for the batch (0: every core).
    public let threads: Int
    public var reader: JSONObjectReader

    public init(_ json: JSONValue) throws(StrataError) {
        var r = try JSONObjectReader(json, path: "kernel config", code: .invalidConfig)
        type = try r.string("type")
        guard let d = try r.optionalInt("memory_dim", in: 1...65_536) else {
            throw StrataError(.invalidConfig, "kernel config.memory_dim is required (the width D of hidden and read)")
        }
        memoryDim = d
        seed = UInt64(try r.optionalInt("seed", in: 0...Int(Int32.max)) ?? 0)
        weightsPath = try r.optionalString("weights")
        threads = try r.optionalInt("threads", in: 0...1024) ?? 0
        _ = r.optionalValue("dimension")  // the host's own key for every seam; D is memory_dim
        reader = r
    }

    /// An optional integer key with its default.
    public mutating func int(_ key: String, default value: Int, in range: ClosedRange<Int>) throws(StrataError) -> Int {
        try reader.optionalInt(key, in: range) ?? value
    }

    /// An optional number key with its default.
    public mutating func double(_ key: String, default value: Double, in range: ClosedRange<Double>) throws(StrataError) -> Double {
        try reader.optionalDouble(key, in: range) ?? value
    }

    public func finish() throws(StrataError) { try reader.finish() }
}
