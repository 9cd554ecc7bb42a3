import CStrataSIMD
import StrataCore

/// Seed 003's Ring memory: a circular buffer of the last N hidden states with an attention read.
///
/// Per batch row, the state is the buffer [N x D], a valid flag per slot [N] and the write
/// pointer [1] (N·D + N + 1 floats). One step, for hidden h:
///
///     buffer[ptr] = h; valid[ptr] = 1; w = ptr; ptr = (ptr + 1) mod N
///     q = h · Wqᵀ + bq
///     a = softmax over valid slots i of (q · buffer[i]) / √D
///     read = (Σ a_i buffer[i]) · Woᵀ + bo
///
/// Logs: write_strength 1 (every step writes), read_entropy H(a), overwrite_conflict a[w] (the
/// read's weight on the slot just written), usage_mean the share of valid slots.
/// Tensors: `ring.query.weight` [D, D], `ring.query.bias` [D], `ring.output.weight` [D, D],
/// `ring.output.bias` [D].
public final class RingKernel: RowStagedKernel {
    public let dimension: Int
    public let slots: Int
    public let parameters: KernelParameters
    public let threads: Int
    public var stateSize: Int { slots * dimension + slots + 1 }
    public let scratch = ScratchPool()
    private let query: PackedLinear
    /// The output projection (`ring.output`).
    public let outputLayer: PackedLinear

    public init(_ o: inout KernelOptions) throws(StrataError) {
        dimension = o.memoryDim
        slots = try o.int("buffer_size", default: try o.int("num_slots", default: 16, in: 1...1_000_000), in: 1...1_000_000)
        threads = o.threads
        try o.finish()
        let d = dimension
        parameters = try KernelParameters([
            .init("ring.query.weight", [d, d]), .init("ring.query.bias", [d]),
            .init("ring.output.weight", [d, d]), .init("ring.output.bias", [d]),
        ], seed: o.seed, weightsPath: o.weightsPath, kernel: "ring")
        query = parameters.linear("ring.query")
        outputLayer = parameters.linear("ring.output")
    }

    public func initialRow(_ row: UnsafeMutablePointer<Float>) { row.update(repeating: 0, count: stateSize) }

    public var stageWidths: StageWidths { StageWidths(projection: dimension, mixed: dimension, step: slots) }

    /// The query, q = h · Wqᵀ + bq.
    public func project(_ hidden: UnsafePointer<Float>, rows: Int, into planes: UnsafeMutablePointer<Float>) {
        apply(query, hidden, rows: rows, into: planes)
    }

    /// Floats one row of `advanceRow` reads, for splitting the batch over the cores.
    public var rowWork: Int { 2 * slots * dimension }

    /// The write, then the attention read of the buffer into mixed.
    public func advanceRow(_ c: StepContext, _ b: Int) {
        let d = dimension, n = slots, size = stateSize
        let q = c.plane(0, width: d), scale = 1 / Float(d).squareRoot()
        let row = c.state + b * size
        let buffer = row, valid = row + n * d, pointer = row + n * d + n
        let w = min(n - 1, max(0, Int(pointer.pointee)))
        (buffer + w * d).update(from: c.hidden + b * d, count: d)
        valid[w] = 1
        pointer.pointee = Float((w + 1) % n)
        // The weights (kept for the logs), then the read, the buffer still in the core's cache.
        let a = c.scratch + b * n
        strata_simd_attend(q + b * d, buffer, valid, n, d, scale, a, c.mixed + b * d)
        if let logs = c.logs { writeBufferLogs(logs, row: b, weights: a, valid: valid, slots: n, conflict: a[w]) }
    }
}
