import Glibc
import StrataCore

/// Seed 003's KV memory: one (key, value) pair of projections of hidden written per step at a
/// circular pointer (FIFO eviction), read by a query's scaled dot-product attention over the keys.
///
/// Per batch row, the state is the keys [N x K], the values [N x D], a valid flag per slot [N] and
/// the write pointer [1] (N·K + N·D + N + 1 floats). One step, for hidden h:
///
///     k = h · Wkᵀ + bk;  v = h · Wvᵀ + bv;  q = h · Wqᵀ + bq
///     w = ptr;  evicted = valid[w]
///     conflict = evicted ? softmax over valid i of (q · keys[i]) / √K, taken at w : 0
///     keys[w] = k; values[w] = v; valid[w] = 1; ptr = (w + 1) mod N
///     a = softmax over valid i of (q · keys[i]) / √K
///     read = (Σ a_i values[i]) · Woᵀ + bo
///
/// Logs: write_strength 1, read_entropy H(a), overwrite_conflict `conflict` (the weight this
/// step's query gave the pair the write evicts, 0 while the slots fill), usage_mean the share of
/// valid slots. Tensors: `kv.key.*` [K, D] and [K], `kv.value.*` [D, D] and [D], `kv.query.*`
/// [K, D] and [K], `kv.output.*` [D, D] and [D].
public final class KVKernel: RowStagedKernel {
    public let dimension: Int
    public let slots: Int
    public let keyDim: Int
    public let parameters: KernelParameters
    public let threads: Int
    public var stateSize: Int { slots * (keyDim + dimension + 1) + 1 }
    public let scratch = ScratchPool()
    /// The key, query and value projections stacked ([2K + D, D] and [2K + D]), so one matrix
    /// product per step computes all three: fewer, larger products run closer to sgemm's bound.
    private let projection: PackedLinear
    /// The output projection (`kv.output`).
    public let outputLayer: PackedLinear

    public init(_ o: inout KernelOptions) throws(StrataError) {
        dimension = o.memoryDim
        slots = try o.int("num_slots", default: 16, in: 1...1_000_000)
        keyDim = try o.int("key_dim", default: o.memoryDim, in: 1...65_536)
        threads = o.threads
        try o.finish()
        let d = dimension, k = keyDim
        parameters = try KernelParameters([
            .init("kv.key.weight", [k, d]), .init("kv.key.bias", [k]),
            .init("kv.value.weight", [d, d]), .init("kv.value.bias", [d]),
            .init("kv.query.weight", [k, d]), .init("kv.query.bias", [k]),
            .init("kv.output.weight", [d, d]), .init("kv.output.bias", [d]),
        ], seed: o.seed, weightsPath: o.weightsPath, kernel: "kv")
        projection = PackedLinear(
            weight: parameters["kv.key.weight"] + parameters["kv.query.weight"] + parameters["kv.value.weight"],
            outputs: 2 * k + d, inputs: d,
            bias: parameters["kv.key.bias"] + parameters["kv.query.bias"] + parameters["kv.value.bias"])
        outputLayer = parameters.linear("kv.output")
    }

    public func initialRow(_ row: UnsafeMutablePointer<Float>) { row.update(repeating: 0, count: stateSize) }

    public var stageWidths: StageWidths { StageWidths(projection: 2 * keyDim + dimension, mixed: dimension, step: slots) }

    /// k, q and v side by side, one product for all three.
    public func project(_ hidden: UnsafePointer<Float>, rows: Int, into planes: UnsafeMutablePointer<Float>) {
        apply(projection, hidden, rows: rows, into: planes)
    }

    /// Floats one row of `advanceRow` reads, for splitting the batch over the cores.
    public var rowWork: Int { slots * (keyDim + dimension) }

    /// The conflict, the write at the pointer, then the attention read of the values into mixed.
    public func advanceRow(_ c: StepContext, _ b: Int) {
        let d = dimension, n = slots, kd = keyDim, size = stateSize, stride = 2 * kd + d
        let kqv = c.plane(0, width: stride), scale = 1 / Float(kd).squareRoot()
        let row = c.state + b * size
        let keys = row, values = row + n * kd, valid = values + n * d, pointer = valid + n
        let w = min(n - 1, max(0, Int(pointer.pointee)))
        let kb = kqv + b * stride, qb = kb + kd, vb = qb + kd
        let a = c.scratch + b * n
        for i in 0..<n { a[i] = valid[i] != 0 ? TensorMath.dot(qb, keys + i * kd, count: kd) * scale : -.infinity }
        // The weight the query gives the evicted pair, before the write replaces it.
        var conflict: Float = 0
        if valid[w] != 0 {
            var m = -Float.infinity
            for i in 0..<n { m = max(m, a[i]) }
            var sum: Float = 0
            for i in 0..<n where valid[i] != 0 { sum += expf(a[i] - m) }
            conflict = expf(a[w] - m) / sum
        }
        (keys + w * kd).update(from: kb, count: kd)
        (values + w * d).update(from: vb, count: d)
        valid[w] = 1
        pointer.pointee = Float((w + 1) % n)
        a[w] = TensorMath.dot(qb, keys + w * kd, count: kd) * scale
        TensorMath.softmax(a, count: n)
        TensorMath.weightedSum(a, rows: values, count: n, width: d, into: c.mixed + b * d)
        if let logs = c.logs { writeBufferLogs(logs, row: b, weights: a, valid: valid, slots: n, conflict: conflict) }
    }
}
