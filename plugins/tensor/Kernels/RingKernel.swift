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
public final class RingKernel: TensorKernel {
    public let dimension: Int
    public let slots: Int
    public let parameters: KernelParameters
    public let threads: Int
    public var stateSize: Int { slots * dimension + slots + 1 }
    private let scratch = ScratchPool()

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
    }

    public func initialRow(_ row: UnsafeMutablePointer<Float>) { row.update(repeating: 0, count: stateSize) }

    public func step(
        batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMask: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>, logs: UnsafeMutableBufferPointer<Float>?
    ) throws(StrataError) {
        try checkStep(batch: batch, state: state.count, hidden: hidden.count, doneMask: doneMask?.count, read: read.count, logs: logs?.count)
        resetDone(batch: batch, state: state, doneMask: doneMask)
        let d = dimension, n = slots, size = stateSize
        let wq = parameters["ring.query.weight"], bq = parameters["ring.query.bias"]
        let wo = parameters["ring.output.weight"], bo = parameters["ring.output.bias"]
        try scratch.with(2 * batch * d + batch * n) { (work: UnsafeMutablePointer<Float>) throws(StrataError) in
            let q = work, mixed = work + batch * d, weights = work + 2 * batch * d
            TensorMath.linear(hidden.baseAddress!, rows: batch, inputs: d, weight: wq, bias: bq, outputs: d, into: q)
            let scale = 1 / Float(d).squareRoot()
            forEachRow(batch, work: 2 * n * d) { b in
                let row = state.baseAddress! + b * size
                let buffer = row, valid = row + n * d, pointer = row + n * d + n
                let w = min(n - 1, max(0, Int(pointer.pointee)))
                (buffer + w * d).update(from: hidden.baseAddress! + b * d, count: d)
                valid[w] = 1
                pointer.pointee = Float((w + 1) % n)
                let a = weights + b * n, qb = q + b * d
                for i in 0..<n { a[i] = valid[i] != 0 ? TensorMath.dot(qb, buffer + i * d, count: d) * scale : -.infinity }
                TensorMath.softmax(a, count: n)
                let out = mixed + b * d
                TensorMath.weightedSum(a, rows: buffer, count: n, width: d, into: out)
                if let logs {
                    var used: Float = 0
                    for i in 0..<n { used += valid[i] }
                    let l = logs.baseAddress! + b * 4
                    l[0] = 1
                    l[1] = TensorMath.entropy(a, count: n)
                    l[2] = a[w]
                    l[3] = used / Float(n)
                }
            }
            TensorMath.linear(mixed, rows: batch, inputs: d, weight: wo, bias: bo, outputs: d, into: read.baseAddress!)
        }
    }
}
