import CStrataSIMD
import StrataCore

/// Seed 003's PMM: N memory slots read by multi-head attention, written by a gated write into
/// the least-used slot, with temporal decay of the slots and of their usage.
///
/// Per batch row, the state is the memory [N x D] and a usage per slot [N] (N·D + N floats,
/// zero at first). H heads of width E = D / H; head k of a D-vector x is x[kE ..< (k+1)E]. One
/// step, for hidden h (see docs/kernels.md, "PMM"):
///
///     q = h · Wqᵀ + bq;  key_i = memory[i] · Wkᵀ + bk
///     a[k, i] = softmax over i of (q_k · key_i,k) / √E          (per head k)
///     read = (Σ_i a[k, i] memory[i]_k, for each head k) · Woᵀ + bo
///     ā_i = mean over k of a[k, i]
///     usage = γ usage + ā;  w = argmin usage (lowest index on ties)
///     g = σ(h · wgᵀ + bg);  v = h · Wvᵀ + bv
///     memory = γ memory;  memory[w] = (1 − g) memory[w] + g v;  usage[w] += g
///
/// The keys are never formed (see `project`): a step costs about 4 D² + 2 N·H·D multiply-adds
/// per row, not N·D² more.
///
/// Logs: write_strength g, read_entropy the mean over heads of H(a[k]), overwrite_conflict g·ā_w
/// (the read's mass on the slot the write overwrites), usage_mean the mean of the new usage.
public final class PMMKernel: RowStagedKernel {
    public let dimension: Int
    public let slots: Int
    public let heads: Int
    public let decay: Float
    public let parameters: KernelParameters
    public let threads: Int
    public var stateSize: Int { slots * dimension + slots }
    public let scratch = ScratchPool()
    private let query: PackedLinear, value: PackedLinear, gate: PackedLinear
    /// The output projection (`pmm.output`).
    public let outputLayer: PackedLinear
    /// Per head k, Wk[kE ..< (k+1)E, :] transposed ([D, E]), so u_k = q_k · Wk_k is a linear layer.
    private let keySide: [PackedLinear]

    public init(_ o: inout KernelOptions) throws(StrataError) {
        dimension = o.memoryDim
        slots = try o.int("num_slots", default: 16, in: 1...65_536)
        heads = try o.int("num_heads", default: 4, in: 1...65_536)
        decay = Float(try o.double("decay_rate", default: 0.99, in: 0...1))
        threads = o.threads
        try o.finish()
        guard dimension % heads == 0 else {
            throw StrataError(.invalidConfig, "kernel config.num_heads (\(heads)) must divide memory_dim (\(dimension))")
        }
        let d = dimension
        parameters = try KernelParameters([
            .init("pmm.query.weight", [d, d]), .init("pmm.query.bias", [d]),
            .init("pmm.key.weight", [d, d]), .init("pmm.key.bias", [d]),
            .init("pmm.output.weight", [d, d]), .init("pmm.output.bias", [d]),
            .init("pmm.write_gate.weight", [1, d]), .init("pmm.write_gate.bias", [1]),
            .init("pmm.write_value.weight", [d, d]), .init("pmm.write_value.bias", [d]),
        ], seed: o.seed, weightsPath: o.weightsPath, kernel: "pmm")
        query = parameters.linear("pmm.query")
        value = parameters.linear("pmm.write_value")
        gate = parameters.linear("pmm.write_gate")
        outputLayer = parameters.linear("pmm.output")
        let wk = parameters["pmm.key.weight"], e = d / heads
        keySide = (0..<heads).map { k in
            var t = [Float](repeating: 0, count: d * e)
            for i in 0..<e { for j in 0..<d { t[j * e + i] = wk[(k * e + i) * d + j] } }
            return PackedLinear(weight: t, outputs: d, inputs: e)
        }
    }

    public func initialRow(_ row: UnsafeMutablePointer<Float>) { row.update(repeating: 0, count: stateSize) }

    /// Planes: q [D], the key-side queries u [H x D], their bias terms [H], v [D], the gate logit [1].
    public var stageWidths: StageWidths {
        StageWidths(projection: 2 * dimension + heads * dimension + heads + 1, mixed: dimension, step: heads * slots)
    }

    /// q, v and the gate, then u and the bias terms from q (all from hidden alone).
    ///
    /// The keys are never formed. q_k · key_i,k = q_k · (memory_i · Wkᵀ + bk)_k
    /// = memory_i · u_k + q_k · bk_k, with u_k = q_k · Wk[head k rows] (a D-vector per head): one
    /// rows x E x D product per head instead of a B·N x D x D product for every key, so the scores
    /// cost N·H·D per row instead of N·D² (16x less work at N 16, D 256).
    public func project(_ hidden: UnsafePointer<Float>, rows: Int, into planes: UnsafeMutablePointer<Float>) {
        let d = dimension, nh = heads, e = d / nh
        let q = planes, u = q + rows * d, offsets = u + rows * nh * d, v = offsets + rows * nh, g = v + rows * d
        apply(query, hidden, rows: rows, into: q)
        apply(value, hidden, rows: rows, into: v)
        apply(gate, hidden, rows: rows, into: g)
        for k in 0..<nh { apply(keySide[k], q + k * e, rows: rows, into: u + k * d, inputStride: d, outputStride: nh * d) }
        parameters["pmm.key.bias"].withUnsafeBufferPointer { bk in
            for r in 0..<rows {
                for k in 0..<nh { offsets[r * nh + k] = TensorMath.dot(q + r * d + k * e, bk.baseAddress! + k * e, count: e) }
            }
        }
    }

    /// Floats one row of `advanceRow` reads, for splitting the batch over the cores.
    public var rowWork: Int { (heads + 2) * slots * dimension }

    /// The attention read of the memory as it was into mixed, usage, decay and the gated write.
    public func advanceRow(_ c: StepContext, _ b: Int) {
        let d = dimension, n = slots, nh = heads, e = d / nh, size = stateSize, gamma = decay
        let u = c.plane(d, width: nh * d), offsets = c.plane(d + nh * d, width: nh)
        let v = c.plane(d + nh * d + nh, width: d), gate = c.plane(2 * d + nh * d + nh, width: 1)
        let scale = 1 / Float(e).squareRoot()
        let memory = c.state + b * size, usage = memory + n * d
        let ub = u + b * nh * d, a = c.scratch + b * nh * n, out = c.mixed + b * d
        strata_simd_dots(memory, n, ub, nh, d, a)
        for k in 0..<nh {
            let offset = offsets[b * nh + k]
            for i in 0..<n { a[k * n + i] = (a[k * n + i] + offset) * scale }
        }
        var entropy: Float = 0
        for k in 0..<nh {
            TensorMath.softmax(a + k * n, count: n)
            entropy += TensorMath.entropy(a + k * n, count: n)
        }
        // ā_i: the mean over heads, added to the decayed usage; the write takes the least used.
        var w = 0
        for i in 0..<n {
            var mean: Float = 0
            for k in 0..<nh { mean += a[k * n + i] }
            usage[i] = gamma * usage[i] + mean / Float(nh)
            if usage[i] < usage[w] { w = i }
        }
        // The read and the decay in one pass over the slots: each head reads its part of a
        // slot as it was (each head's sum still runs over the slots in order), then the slot
        // decays while it is in cache.
        out.update(repeating: 0, count: d)
        for i in 0..<n {
            let slot = memory + i * d
            for k in 0..<nh where a[k * n + i] != 0 { TensorMath.axpy(a[k * n + i], slot + k * e, out + k * e, count: e) }
            TensorMath.scale(gamma, slot, count: d)
        }
        var mean: Float = 0  // ā_w, for the conflict log
        for k in 0..<nh { mean += a[k * n + w] }
        mean /= Float(nh)
        let g = TensorMath.sigmoid(gate[b])
        TensorMath.lerp(g, v + b * d, memory + w * d, count: d)
        usage[w] += g
        if let logs = c.logs {
            var total: Float = 0
            for i in 0..<n { total += usage[i] }
            let l = logs + b * 4
            l[0] = g
            l[1] = entropy / Float(nh)
            l[2] = g * mean
            l[3] = total / Float(n)
        }
    }
}
