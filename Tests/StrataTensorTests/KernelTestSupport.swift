import StrataTensor
import Testing

// Array wrappers over the kernel calls, for the kernels' tests.

/// One kernel step over arrays; returns the read and the logs.
func stepArrays(_ k: any TensorKernel, batch: Int, state: inout [Float], hidden: [Float], done: [Float]? = nil) throws -> (read: [Float], logs: [Float]) {
    var read = [Float](repeating: .nan, count: batch * k.dimension), logs = [Float](repeating: .nan, count: batch * 4)
    try state.withUnsafeMutableBufferPointer { s in
        try hidden.withUnsafeBufferPointer { h in
            try read.withUnsafeMutableBufferPointer { r in
                try logs.withUnsafeMutableBufferPointer { l in
                    if let done {
                        try done.withUnsafeBufferPointer { try k.step(batch: batch, state: s, hidden: h, doneMask: $0, read: r, logs: l) }
                    } else {
                        try k.step(batch: batch, state: s, hidden: h, doneMask: nil, read: r, logs: l)
                    }
                }
            }
        }
    }
    return (read, logs)
}

func initialStateArray(_ k: any TensorKernel, batch: Int) throws -> [Float] {
    var state = [Float](repeating: 9, count: batch * k.stateSize)
    try state.withUnsafeMutableBufferPointer { try k.initialState(batch: batch, into: $0) }
    return state
}

func expectClose(_ got: [Float], _ want: [Float], _ what: String, tolerance: Float = 1e-6, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.count == want.count && zip(got, want).allSatisfy { abs($0 - $1) <= tolerance }, "\(what): \(got) != \(want)",
            sourceLocation: sourceLocation)
}
