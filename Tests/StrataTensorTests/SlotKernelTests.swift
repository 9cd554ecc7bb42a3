import Glibc
import StrataCore
import StrataTensor
import StrataTesting
import Testing

@Suite struct SlotKernelTests {
    func kernel(_ json: JSONValue) throws -> any TensorKernel { try KernelFactory.make(json) }

    @Test func sizesFollowTheConfiguration() throws {
        let k = try kernel(["type": "slot", "memory_dim": 8, "num_slots": 4, "seed": 1])
        #expect(k.stateSize == 4 * 8 + 4)
        #expect(k.parameterCount == 2 * 64 + 3 * 8 + 4 * 8 + 4 + 1)
        #expect(try initialStateArray(k, batch: 3).allSatisfy { $0 == 0 })
        #expect(try kernel(["type": "slot", "memory_dim": 8]).stateSize == 8 * 8 + 8)
    }

    /// D 2, 2 slots; the address is softmax(0, ln 3) = (¼, ¾) whatever h, the gate σ(0) = ½, the
    /// write value h and the output the identity: slot i moves toward h by ½·c_i.
    @Test func slotsMoveTowardTheWriteValueByGateTimesAddress() throws {
        let path = scratchFolder("tensor-tests", "slot-hand") + "/w.safetensors"
        let identity = Safetensors.Tensor(shape: [2, 2], values: [1, 0, 0, 1]), zero2 = Safetensors.Tensor(shape: [2], values: [0, 0])
        try Safetensors.write([
            "slot.address.weight": .init(shape: [2, 2], values: [0, 0, 0, 0]), "slot.address.bias": .init(shape: [2], values: [0, logf(3)]),
            "slot.output.weight": identity, "slot.output.bias": zero2,
            "slot.write_gate.weight": .init(shape: [1, 2], values: [0, 0]), "slot.write_gate.bias": .init(shape: [1], values: [0]),
            "slot.write_value.weight": identity, "slot.write_value.bias": zero2,
        ], to: path)
        let k = try kernel(["type": "slot", "memory_dim": 2, "num_slots": 2, "weights": .string(path)])
        var state = try initialStateArray(k, batch: 1)
        let entropy = -(0.25 * logf(0.25) + 0.75 * logf(0.75))
        var (read, logs) = try stepArrays(k, batch: 1, state: &state, hidden: [4, 8])
        expectClose(read, [0, 0], "empty slots read zero")
        expectClose(state, [0.5, 1, 1.5, 3, 1.0 / 8, 3.0 / 8], "step 1: α = (1/8, 3/8)", tolerance: 1e-5)
        expectClose(logs, [0.5, entropy, 0.5 * (1.0 / 16 + 9.0 / 16), 0.25], "step 1 logs", tolerance: 1e-5)
        (read, logs) = try stepArrays(k, batch: 1, state: &state, hidden: [0, 0])
        expectClose(read, [1.25, 2.5], "¼ slot 0 + ¾ slot 1", tolerance: 1e-5)
        expectClose(state, [0.4375, 0.875, 0.9375, 1.875, 15.0 / 64, 39.0 / 64], "step 2: toward zero", tolerance: 1e-5)
        expectClose([logs[3]], [27.0 / 64], "fill mean", tolerance: 1e-5)
    }

    @Test func logsStayInTheirRangesAndADoneRowStartsAgain() throws {
        let k = try kernel(["type": "slot", "memory_dim": 16, "num_slots": 5, "seed": 4])
        let batch = 3
        var state = try initialStateArray(k, batch: batch)
        for t in 0..<30 {
            let hidden = (0..<(batch * 16)).map { sinf(Float($0 * 5 + t)) * 3 }
            let (read, logs) = try stepArrays(k, batch: batch, state: &state, hidden: hidden, done: t == 20 ? [0, 1, 0] : nil)
            #expect(read.allSatisfy { $0.isFinite })
            for b in 0..<batch {
                let l = Array(logs[(b * 4)..<(b * 4 + 4)])
                #expect(l[0] > 0 && l[0] < 1, "write strength is a gate")
                #expect(l[1] >= 0 && l[1] <= logf(5) + 1e-5, "entropy of 5 slots")
                #expect(l[2] >= l[0] / 5 - 1e-6 && l[2] <= l[0], "g/N ≤ g Σ c² ≤ g")
                #expect(l[3] > 0 && l[3] < 1, "fill is a share")
            }
            if t == 20 {
                var fresh = try initialStateArray(k, batch: 1)
                let one = try stepArrays(k, batch: 1, state: &fresh, hidden: Array(hidden[16..<32]))
                #expect(Array(read[16..<32]) == one.read && Array(state[k.stateSize..<(2 * k.stateSize)]) == fresh)
            }
        }
    }

    @Test func badConfigurationsAreErrorsNamingTheKey() throws {
        let cases: [(JSONValue, String)] = [
            (["type": "slot", "memory_dim": 8, "num_slots": 0], "num_slots"),
            (["type": "slot", "memory_dim": 8, "num_slots": 2.5], "num_slots"),
            (["type": "slot", "memory_dim": 8, "num_heads": 2], "num_heads"),
            (["type": "slot", "memory_dim": 0], "memory_dim"),
        ]
        for (json, key) in cases {
            #expect { _ = try kernel(json) } throws: { ($0 as! StrataError).message.contains(key) }
        }
    }

    @Test func weightsWrittenOutLoadBackToTheSameKernel() throws {
        let path = scratchFolder("tensor-tests", "slot-roundtrip") + "/slot.safetensors"
        let a = try kernel(["type": "slot", "memory_dim": 8, "num_slots": 3, "seed": 3])
        try a.writeWeights(to: path)
        let b = try kernel(["type": "slot", "memory_dim": 8, "num_slots": 3, "weights": .string(path)])
        for s in a.parameters.specs { #expect(a.parameters[s.name] == b.parameters[s.name], "\(s.name)") }
        #expect { _ = try kernel(["type": "slot", "memory_dim": 8, "num_slots": 4, "weights": .string(path)]) } throws: {
            let e = $0 as! StrataError
            return e.code == .dimension && e.message.contains("slot.address")
        }
    }
}
