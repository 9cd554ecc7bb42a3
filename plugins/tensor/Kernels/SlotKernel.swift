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
public final class SlotKernel: RowStagedKernel {
    public let dimension: Int
    public let slots: Int
    public let parameters: KernelParameters
    public let threads: Int
    public var stateSize: Int { slots * dimension + slots }
    public let scratch = ScratchPool()
    private let address: PackedLinear, value: PackedLinear, gate: PackedLinear
    /// The output projection (`slot.output`).
    public let outputLayer: PackedLinear

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
        address = parameters.linear("slot.address")
        value = parameters.linear("slot.write_value")
        gate = parameters.linear("slot.write_gate")
        outputLayer = parameters.linear("slot.output")
    }

    public func initialRow(_ row: UnsafeMutablePointer<Float>) { row.update(repeating: 0, count: stateSize) }

    /// Planes: the address logits [N], the write value [D], the gate logit [1].
    public var stageWidths: StageWidths { StageWidths(projection: slots + dimension + 1, mixed: dimension) }

    public func project(_ hidden: UnsafePointer<Float>, rows: Int, into planes: UnsafeMutablePointer<Float>) {
        let d = dimension, n = slots
        apply(address, hidden, rows: rows, into: planes)
        apply(value, hidden, rows: rows, into: planes + rows * n)
        apply(gate, hidden, rows: rows, into: planes + rows * (n + d))
    }

    /// Floats one row of `advanceRow` reads, for splitting the batch over the cores.
    public var rowWork: Int { 3 * slots * dimension }

    /// The read of the slots as they were into mixed, then the write.
    public func advanceRow(_ context: StepContext, _ b: Int) {
        let d = dimension, n = slots, size = stateSize
        let address = context.plane(0, width: n), v = context.plane(n, width: d), gate = context.plane(n + d, width: 1)
        let memory = context.state + b * size, fill = memory + n * d
        let c = address + b * n, vb = v + b * d
        TensorMath.softmax(c, count: n)
        let g = TensorMath.sigmoid(gate[b]), out = context.mixed + b * d
        out.update(repeating: 0, count: d)
        var overlap: Float = 0, total: Float = 0
        for i in 0..<n {
            // The read takes the slot as it was, the write moves it, in one pass over it.
            let alpha = g * c[i], slot = memory + i * d
            TensorMath.readLerp(c[i], alpha, vb, slot, into: out, count: d)
            fill[i] = (1 - alpha) * fill[i] + alpha
            overlap += c[i] * c[i]
            total += fill[i]
        }
        if let logs = context.logs {
            let l = logs + b * 4
            l[0] = g
            l[1] = TensorMath.entropy(c, count: n)
            l[2] = g * overlap
            l[3] = total / Float(n)
        }
    }
}
