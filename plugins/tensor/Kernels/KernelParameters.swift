import StrataCore

/// The named float32 tensors of a kernel (its weights), in PyTorch's conventions: a linear
/// layer's `weight` is [out, in] and computes x · weightᵀ + bias.
///
/// Made either from a seed (each tensor drawn uniformly from ±1/√fan_in, PyTorch's default for
/// linear layers and LSTM cells, a bias taking its layer's fan-in, unless its spec gives another
/// initial value) or from a safetensors file, which
/// must hold exactly the kernel's tensors with exactly their shapes.
public final class KernelParameters: Sendable {
    /// How one tensor is made when no file gives it.
    public enum Initial: Sendable {
        /// Uniform in ±1/√fan_in, fan_in being the last dimension.
        case fanIn
        /// Every value the same.
        case constant(Float)
    }

    /// One tensor the kernel needs.
    public struct Spec: Sendable {
        public var name: String
        public var shape: [Int]
        public var initial: Initial
        public init(_ name: String, _ shape: [Int], _ initial: Initial = .fanIn) {
            self.name = name
            self.shape = shape
            self.initial = initial
        }
    }

    /// Name -> values, row-major; fixed after init.
    private let storage: [String: [Float]]
    public let specs: [Spec]

    /// - Parameters:
    ///   - weightsPath: a safetensors file, or nil to draw from `seed`.
    ///   - kernel: names the kernel in errors ("pmm").
    public init(_ specs: [Spec], seed: UInt64, weightsPath: String?, kernel: String) throws(StrataError) {
        self.specs = specs
        var values: [String: [Float]] = [:]
        if let weightsPath {
            let file = try Safetensors.read(weightsPath)
            let wanted = Set(specs.map(\.name))
            let extra = file.keys.filter { !wanted.contains($0) }.sorted()
            let missing = specs.map(\.name).filter { file[$0] == nil }
            guard missing.isEmpty else {
                throw StrataError(.invalidConfig, "\(weightsPath): the \(kernel) kernel needs tensor(s) \(missing.joined(separator: ", ")), which the file lacks")
            }
            guard extra.isEmpty else {
                throw StrataError(.invalidConfig, "\(weightsPath): tensor(s) \(extra.joined(separator: ", ")) are not part of the \(kernel) kernel (its tensors: \(specs.map(\.name).joined(separator: ", ")))")
            }
            for s in specs {
                let t = file[s.name]!
                guard t.shape == s.shape else {
                    throw StrataError(.dimension, "\(weightsPath): tensor \(s.name) has shape \(t.shape), the \(kernel) kernel with this configuration needs \(s.shape)")
                }
                guard t.values.allSatisfy(\.isFinite) else {
                    throw StrataError(.invalidVector, "\(weightsPath): tensor \(s.name) holds NaN or infinity")
                }
                values[s.name] = t.values
            }
        } else {
            var rng = SeededRandom(seed: seed)
            for s in specs {
                let count = s.shape.reduce(1, *)
                switch s.initial {
                case .constant(let c):
                    values[s.name] = Array(repeating: c, count: count)
                case .fanIn:
                    let bound = 1 / Double(max(1, Self.fanIn(of: s, in: specs))).squareRoot()
                    values[s.name] = (0..<count).map { _ in Float((rng.uniform() * 2 - 1) * bound) }
                }
            }
        }
        storage = values
    }

    /// The fan-in PyTorch initialises a tensor with: a weight's last dimension; for a bias, the
    /// fan-in of its layer's weight (`x.bias` of `x.weight`; an LSTM's `bias_ih` and `bias_hh` of
    /// its `weight_hh`, whose last dimension is the hidden size).
    static func fanIn(of spec: Spec, in specs: [Spec]) -> Int {
        func last(_ name: String) -> Int? { specs.first { $0.name == name }?.shape.last }
        let name = spec.name
        if name.hasSuffix(".bias"), let n = last(String(name.dropLast(5)) + ".weight") { return n }
        if name.hasSuffix(".bias_ih") || name.hasSuffix(".bias_hh"), let n = last(String(name.dropLast(8)) + ".weight_hh") { return n }
        return spec.shape.last ?? 1
    }

    /// The linear layer `prefix` (`prefix.weight` [out, in], `prefix.bias` [out]) packed for
    /// `PackedLinear`.
    public func linear(_ prefix: String) -> PackedLinear {
        let w = spec(prefix + ".weight")
        return PackedLinear(weight: self[prefix + ".weight"], outputs: w.shape[0], inputs: w.shape[1], bias: self[prefix + ".bias"])
    }

    /// The spec named `name` (anything else is a programming error).
    public func spec(_ name: String) -> Spec {
        guard let s = specs.first(where: { $0.name == name }) else { preconditionFailure("no tensor \(name)") }
        return s
    }

    /// The values of tensor `name` (a spec's name; anything else is a programming error).
    public subscript(name: String) -> [Float] {
        guard let v = storage[name] else { preconditionFailure("no tensor \(name)") }
        return v
    }

    /// Trainable values in all.
    public var count: Int { specs.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// Writes every tensor to a safetensors file.
    public func write(to path: String) throws(StrataError) {
        var out: [String: Safetensors.Tensor] = [:]
        for s in specs { out[s.name] = Safetensors.Tensor(shape: s.shape, values: storage[s.name]!) }
        try Safetensors.write(out, to: path)
    }
}
