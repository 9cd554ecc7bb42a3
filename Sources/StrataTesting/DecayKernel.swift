import StrataCore

/// A minimal memory kernel for tests of the kernel seam: an exponential moving average of the
/// hidden input, `state = decay * state + (1 - decay) * hidden`, read = state. Logs
/// `write_strength` (1 - decay) and `usage_mean` (mean absolute state).
public final class DecayKernel: MemoryKernel {
    public let dimension: Int
    public let decay: Float
    public var stateSize: Int { dimension }
    public let logNames = ["write_strength", "usage_mean"]
    public var parameterCount: Int { 1 }

    public init(dimension: Int, decay: Float = 0.9) throws(StrataError) {
        guard dimension >= 1, (0...1).contains(decay) else {
            throw StrataError(.invalidConfig, "decay kernel needs dimension >= 1 and decay in 0...1")
        }
        self.dimension = dimension
        self.decay = decay
    }

    public func initialState(batch: Int, into state: UnsafeMutableBufferPointer<Float>) throws(StrataError) {
        guard batch > 0, state.count == batch * stateSize else {
            throw StrataError(.dimension, "state has \(state.count) floats, expected \(batch) x \(stateSize)")
        }
        state.update(repeating: 0)
    }

    public func step(
        batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMask: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>, logs: UnsafeMutableBufferPointer<Float>?
    ) throws(StrataError) {
        try checkStep(batch: batch, state: state.count, hidden: hidden.count, doneMask: doneMask?.count, read: read.count, logs: logs?.count)
        for b in 0..<batch {
            let base = b * dimension
            let reset = (doneMask?[b] ?? 0) != 0
            var usage: Float = 0
            for j in 0..<dimension {
                let old = reset ? 0 : state[base + j]
                let new = decay * old + (1 - decay) * hidden[base + j]
                state[base + j] = new
                read[base + j] = new
                usage += abs(new)
            }
            if let logs {
                logs[b * 2] = 1 - decay
                logs[b * 2 + 1] = usage / Float(dimension)
            }
        }
    }

    public func reset(batch: Int, state: UnsafeMutableBufferPointer<Float>, keepMask: UnsafeBufferPointer<Float>) throws(StrataError) {
        guard batch > 0, state.count == batch * stateSize, keepMask.count == batch else {
            throw StrataError(.dimension, "reset needs \(batch) x \(stateSize) state floats and \(batch) mask values")
        }
        for b in 0..<batch where keepMask[b] == 0 {
            for j in 0..<dimension { state[b * dimension + j] = 0 }
        }
    }
}
