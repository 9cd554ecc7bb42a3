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
/// Logs: write_strength g, read_entropy the mean over heads of H(a[k]), overwrite_conflict g·ā_w
/// (the read's mass on the slot the write overwrites), usage_mean the mean of the new usage.
public final class PMMKernel: TensorKernel {
    public let dimension: Int
    public let slots: Int
    public let heads: Int
    public let decay: Float
    public let parameters: KernelParameters
    public let threads: Int
    public var stateSize: Int { slots * dimension + slots }
    private let scratch = ScratchPool()

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
    }

    public func initialRow(_ row: UnsafeMutablePointer<Float>) { row.update(repeating: 0, count: stateSize) }

    public func step(
        batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMask: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>, logs: UnsafeMutableBufferPointer<Float>?
    ) throws(StrataError) {
        try checkStep(batch: batch, state: state.count, hidden: hidden.count, doneMask: doneMask?.count, read: read.count, logs: logs?.count)
        resetDone(batch: batch, state: state, doneMask: doneMask)
        let d = dimension, n = slots, nh = heads, e = d / nh, size = stateSize, gamma = decay
        let p = parameters
        let wq = p["pmm.query.weight"], bq = p["pmm.query.bias"], wk = p["pmm.key.weight"], bk = p["pmm.key.bias"]
        let wo = p["pmm.output.weight"], bo = p["pmm.output.bias"]
        let wg = p["pmm.write_gate.weight"], bg = p["pmm.write_gate.bias"]
        let wv = p["pmm.write_value.weight"], bv = p["pmm.write_value.bias"]
        // Scratch: q, v, mixed [B x D]; gate [B]; memory copy and keys [B·N x D]; attention [B x H x N].
        let bd = batch * d, bnd = batch * n * d
        try scratch.with(3 * bd + batch + 2 * bnd + batch * nh * n) { (work: UnsafeMutablePointer<Float>) throws(StrataError) in
            let q = work, v = work + bd, mixed = work + 2 * bd, gate = work + 3 * bd
            let memories = gate + batch, keys = memories + bnd, attention = keys + bnd
            let h = hidden.baseAddress!, s = state.baseAddress!
            TensorMath.linear(h, rows: batch, inputs: d, weight: wq, bias: bq, outputs: d, into: q)
            TensorMath.linear(h, rows: batch, inputs: d, weight: wv, bias: bv, outputs: d, into: v)
            TensorMath.linear(h, rows: batch, inputs: d, weight: wg, bias: bg, outputs: 1, into: gate)
            // The slots of every row side by side, so one product makes every key.
            for b in 0..<batch { (memories + b * n * d).update(from: s + b * size, count: n * d) }
            TensorMath.linear(memories, rows: batch * n, inputs: d, weight: wk, bias: bk, outputs: d, into: keys)
            let scale = 1 / Float(e).squareRoot()
            forEachRow(batch, work: 3 * n * d) { b in
                let memory = s + b * size, usage = memory + n * d
                let qb = q + b * d, kb = keys + b * n * d, a = attention + b * nh * n, out = mixed + b * d
                var entropy: Float = 0
                for k in 0..<nh {
                    let ak = a + k * n
                    for i in 0..<n { ak[i] = TensorMath.dot(qb + k * e, kb + i * d + k * e, count: e) * scale }
                    TensorMath.softmax(ak, count: n)
                    entropy += TensorMath.entropy(ak, count: n)
                    let outk = out + k * e
                    outk.update(repeating: 0, count: e)
                    for i in 0..<n {
                        let aki = ak[i], slot = memory + i * d + k * e
                        for j in 0..<e { outk[j] += aki * slot[j] }
                    }
                }
                // ā_i: the mean over heads, added to the decayed usage; the write takes the least used.
                var w = 0
                for i in 0..<n {
                    var mean: Float = 0
                    for k in 0..<nh { mean += a[k * n + i] }
                    mean /= Float(nh)
                    a[i] = mean  // head 0's row is read for the last time here
                    usage[i] = gamma * usage[i] + mean
                    if usage[i] < usage[w] { w = i }
                }
                let g = TensorMath.sigmoid(gate[b])
                for j in 0..<(n * d) { memory[j] *= gamma }
                let target = memory + w * d, vb = v + b * d
                TensorMath.lerp(g, vb, target, count: d)
                usage[w] += g
                if let logs {
                    var total: Float = 0
                    for i in 0..<n { total += usage[i] }
                    let l = logs.baseAddress! + b * 4
                    l[0] = g
                    l[1] = entropy / Float(nh)
                    l[2] = g * a[w]
                    l[3] = total / Float(n)
                }
            }
            TensorMath.linear(mixed, rows: batch, inputs: d, weight: wo, bias: bo, outputs: d, into: read.baseAddress!)
        }
    }
}
