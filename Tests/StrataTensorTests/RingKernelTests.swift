import StrataCore
import StrataTensor
import StrataTesting
import Testing

@Suite struct RingKernelTests {
    func kernel(_ json: JSONValue) throws -> any TensorKernel { try KernelFactory.make(json) }

    @Test func theStateHoldsTheLastNHiddenStatesAndTheReadAttendsToThem() throws {
        let k = try kernel(["type": "ring", "memory_dim": 4, "buffer_size": 3, "seed": 1])
        #expect(k.stateSize == 3 * 4 + 3 + 1 && k.parameterCount == 2 * 16 + 2 * 4)
        var state = [Float](repeating: 9, count: 2 * k.stateSize)
        try state.withUnsafeMutableBufferPointer { try k.initialState(batch: 2, into: $0) }
        #expect(state.allSatisfy { $0 == 0 })
        var read = [Float](repeating: 0, count: 8), logs = [Float](repeating: 0, count: 8)
        for t in 0..<4 {
            let hidden = (0..<8).map { Float($0 + t * 8) }
            try state.withUnsafeMutableBufferPointer { s in
                try hidden.withUnsafeBufferPointer { h in
                    try read.withUnsafeMutableBufferPointer { r in
                        try logs.withUnsafeMutableBufferPointer { l in
                            try k.step(batch: 2, state: s, hidden: h, doneMask: nil, read: r, logs: l)
                        }
                    }
                }
            }
        }
        // After 4 steps in a ring of 3, slot 0 holds step 3, slots 1 and 2 steps 1 and 2; the pointer is 1.
        #expect(Array(state[0..<4]) == [24, 25, 26, 27])
        #expect(Array(state[4..<8]) == [8, 9, 10, 11])
        #expect(state[15] == 1)
        #expect(logs[0] == 1 && logs[3] == 1, "write strength 1, every slot used")
        #expect(logs[1] >= 0 && logs[1] <= Float(3).squareRoot() * 2)
        #expect(read.allSatisfy { $0.isFinite })
    }

    @Test func unknownKeysAndBadWeightsAreErrorsNamingTheCulprit() throws {
        #expect { _ = try kernel(["type": "ring", "memory_dim": 4, "colour": 1]) } throws: {
            ($0 as! StrataError).message.contains("colour")
        }
        #expect { _ = try kernel(["type": "tape", "memory_dim": 4]) } throws: {
            ($0 as! StrataError).message.contains("\"tape\"")
        }
        let dir = scratchFolder("tensor-tests", "ring-weights")
        let path = dir + "/w.safetensors"
        try Safetensors.write(["ring.query.weight": .init(shape: [2, 2], values: [1, 0, 0, 1])], to: path)
        #expect { _ = try kernel(["type": "ring", "memory_dim": 4, "weights": .string(path)]) } throws: {
            let e = $0 as! StrataError
            return e.code == .invalidConfig && e.message.contains("ring.query.bias")
        }
    }

    @Test func weightsWrittenOutLoadBackToTheSameKernel() throws {
        let dir = scratchFolder("tensor-tests", "ring-roundtrip")
        let path = dir + "/ring.safetensors"
        let a = try kernel(["type": "ring", "memory_dim": 8, "seed": 3])
        try a.writeWeights(to: path)
        let b = try kernel(["type": "ring", "memory_dim": 8, "weights": .string(path)])
        for s in a.parameters.specs { #expect(a.parameters[s.name] == b.parameters[s.name], "\(s.name)") }
        #expect { _ = try kernel(["type": "ring", "memory_dim": 4, "weights": .string(path)]) } throws: {
            ($0 as! StrataError).code == .dimension
        }
    }
}
