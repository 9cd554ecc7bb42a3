import StrataCore

/// Seed 003's Slot memory: N slots addressed by a learned softmax, read as their weighted sum and
/// written by moving every slot toward a write value in proportion to its weight and a gate.
///
/// Per batch row, the state is the slots [N x D] and a fill per slot [N] (N·D + N floats, zero
/// at first; the fill is the share of the slot that writes have replaced). One step, for hidden
/// h (see docs/kernels.md, "Slot"):
///
///     c = softmax(h · Waᵀ + ba)                      (address_net, N logits)
///     read = (Σ_i c_i slot_i) · Woᵀ + bo
///     g = σ(h · wgᵀ + bg);  v = h · Wvᵀ + bv;  α_i = g c_i
///     slot_i = (1 − α_i) slot_i + α_i v;  fill_i = (1 − α_i) fill_i + α_i
///
/// Logs: write_strength g, read_entropy H(c), overwrite_conflict g Σ c_i² (the read's mass on
/// what the write moves: read and write share the address c), usage_mean the mean new fill.
public final class SlotKernel: TensorKernel {
    public let dimension: Int
    public let slots: Int
    public let parameters: KernelParameters
    public let threads: Int
    public var stateSize: Int { slots * dimension + slots }
    private let scratch = ScratchPool()

    public init(_ o: inout KernelOptions) throws(StrataError) {
        dimension = o.memoryDim
        slots = try o.int("num_slots", default: 8, in: 1...65_536)
        threads = o.threads
        try o.finish()
        let d = dimension, n = slots
        parameters = try KernelParameters([
            .init("slot.address.weight", [n, d]), .init("slot.address.bias", [n]),
            .init("slot.output.weight", [d, d]), .init("slot.output.bias", [d]),
            .init("slot.write_gate.weight", [1, d]), .init("slot.write_gate.bias", [1]),
            .init("slot.write_value.weight", [d, d]), .init("slot.write_value.bias", [d]),
        ], seed: o.seed, weightsPath: o.weightsPath, kernel: "slot")
    }

    public func initialRow(_ row: UnsafeMutablePointer<Float>) { row.update(repeating: 0, count: stateSize) }

    public func step(
        batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMask: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>, logs: UnsafeMutableBufferPointer<Float>?
    ) throws(StrataError) {
        try checkStep(batch: batch, state: state.count, hidden: hidden.count, doneMask: doneMask?.count, read: read.count, logs: logs?.count)
        resetDone(batch: batch, state: state, doneMask: doneMask)
        let d = dimension, n = slots, size = stateSize
        let p = parameters
        let wa = p["slot.address.weight"], ba = p["slot.address.bias"]
        let wo = p["slot.output.weight"], bo = p["slot.output.bias"]
        let wg = p["slot.write_gate.weight"], bg = p["slot.write_gate.bias"]
        let wv = p["slot.write_value.weight"], bv = p["slot.write_value.bias"]
        // Scratch: v, mixed [B x D]; address [B x N]; gate [B].
        let bd = batch * d
        try scratch.with(2 * bd + batch * n + batch) { (work: UnsafeMutablePointer<Float>) throws(StrataError) in
            let v = work, mixed = work + bd, address = work + 2 * bd, gate = address + batch * n
            let h = hidden.baseAddress!, s = state.baseAddress!
            TensorMath.linear(h, rows: batch, inputs: d, weight: wa, bias: ba, outputs: n, into: address)
            TensorMath.linear(h, rows: batch, inputs: d, weight: wv, bias: bv, outputs: d, into: v)
            TensorMath.linear(h, rows: batch, inputs: d, weight: wg, bias: bg, outputs: 1, into: gate)
            forEachRow(batch, work: 3 * n * d) { b in
                let memory = s + b * size, fill = memory + n * d
                let c = address + b * n, out = mixed + b * d, vb = v + b * d
                TensorMath.softmax(c, count: n)
                TensorMath.weightedSum(c, rows: memory, count: n, width: d, into: out)
                let g = TensorMath.sigmoid(gate[b])
                var overlap: Float = 0, total: Float = 0
                for i in 0..<n {
                    let alpha = g * c[i], slot = memory + i * d
                    TensorMath.lerp(alpha, vb, slot, count: d)
                    fill[i] = (1 - alpha) * fill[i] + alpha
                    overlap += c[i] * c[i]
                    total += fill[i]
                }
                if let logs {
                    let l = logs.baseAddress! + b * 4
                    l[0] = g
                    l[1] = TensorMath.entropy(c, count: n)
                    l[2] = g * overlap
                    l[3] = total / Float(n)
                }
            }
            TensorMath.linear(mixed, rows: batch, inputs: d, weight: wo, bias: bo, outputs: d, into: read.baseAddress!)
        }
    }
}
