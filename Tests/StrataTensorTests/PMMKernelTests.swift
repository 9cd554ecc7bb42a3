import Glibc
import StrataCore
import StrataTensor
import StrataTesting
import Testing

@Suite struct PMMKernelTests {
    func kernel(_ json: JSONValue) throws -> any TensorKernel { try KernelFactory.make(json) }

    /// D 2, one head, 3 slots, γ 0.5; zero query and key weights (uniform attention), identity
    /// output and write value, write gate σ(0) = 1/2.
    func handKernel(heads: Int = 1) throws -> any TensorKernel {
        let path = scratchFolder("tensor-tests", "pmm-hand") + "/w.safetensors"
        let zero2x2 = Safetensors.Tensor(shape: [2, 2], values: [0, 0, 0, 0])
        let identity = Safetensors.Tensor(shape: [2, 2], values: [1, 0, 0, 1]), zero2 = Safetensors.Tensor(shape: [2], values: [0, 0])
        try Safetensors.write([
            "pmm.query.weight": zero2x2, "pmm.query.bias": zero2, "pmm.key.weight": zero2x2, "pmm.key.bias": zero2,
            "pmm.output.weight": identity, "pmm.output.bias": zero2,
            "pmm.write_gate.weight": .init(shape: [1, 2], values: [0, 0]), "pmm.write_gate.bias": .init(shape: [1], values: [0]),
            "pmm.write_value.weight": identity, "pmm.write_value.bias": zero2,
        ], to: path)
        return try kernel(["type": "pmm", "memory_dim": 2, "num_slots": 3, "num_heads": .number(Double(heads)), "decay_rate": 0.5,
                           "weights": .string(path)])
    }

    @Test func sizesFollowTheConfiguration() throws {
        let k = try kernel(["type": "pmm", "memory_dim": 8, "num_slots": 5, "num_heads": 2, "seed": 1])
        #expect(k.stateSize == 5 * 8 + 5)
        #expect(k.parameterCount == 4 * 64 + 5 * 8 + 1)
        #expect(try initialStateArray(k, batch: 2).allSatisfy { $0 == 0 })
        let defaults = try kernel(["type": "pmm", "memory_dim": 8])
        #expect(defaults.stateSize == 16 * 8 + 16)
    }

    @Test func writesGoToTheLeastUsedSlotAndTheMemoryDecays() throws {
        for heads in [1, 2] {  // zero keys: every head attends uniformly, so the heads change nothing
            let k = try handKernel(heads: heads)
            var state = try initialStateArray(k, batch: 1)
            // Step 1: usage 1/3 each, all tied: slot 0 takes ½h; its usage 1/3 + ½.
            var (read, logs) = try stepArrays(k, batch: 1, state: &state, hidden: [2, 4])
            expectClose(read, [0, 0], "empty memory reads zero")
            expectClose(state, [1, 2, 0, 0, 0, 0, 5.0 / 6, 1.0 / 3, 1.0 / 3], "step 1")
            expectClose(logs, [0.5, logf(3), 0.5 / 3, 0.5], "step 1 logs")
            // Step 2: the read is the mean slot; usage ½·usage + 1/3 = (3/4, ½, ½): slot 1 (lowest index).
            (read, logs) = try stepArrays(k, batch: 1, state: &state, hidden: [4, 8])
            expectClose(read, [1.0 / 3, 2.0 / 3], "step 2 read")
            expectClose(state, [0.5, 1, 2, 4, 0, 0, 0.75, 1, 0.5], "step 2")
            expectClose(logs, [0.5, logf(3), 0.5 / 3, 0.75], "step 2 logs")
            // Step 3: usage (3/8 + 1/3, ½ + 1/3, ¼ + 1/3): slot 2, the one never written.
            (read, logs) = try stepArrays(k, batch: 1, state: &state, hidden: [6, 6])
            expectClose(read, [2.5 / 3, 5.0 / 3], "step 3 read")
            expectClose(state, [0.25, 0.5, 1, 2, 3, 3, 3.0 / 8 + 1.0 / 3, 0.5 + 1.0 / 3, 0.25 + 1.0 / 3 + 0.5], "step 3")
            // Step 4: usage ½·(17/24, 5/6, 13/12) + 1/3 puts slot 0, the oldest, least used.
            _ = try stepArrays(k, batch: 1, state: &state, hidden: [0, 0])
            expectClose(Array(state[0..<6]), [0.0625, 0.125, 0.5, 1, 1.5, 1.5], "step 4 overwrites slot 0 with ½·0 and decays the rest")
        }
    }

    @Test func aDoneRowStartsAgainAndTheOthersGoOn() throws {
        let k = try kernel(["type": "pmm", "memory_dim": 8, "num_slots": 4, "num_heads": 2, "seed": 5])
        var state = try initialStateArray(k, batch: 2)
        let hidden = (0..<16).map { sinf(Float($0)) }
        _ = try stepArrays(k, batch: 2, state: &state, hidden: hidden)
        var fresh = try initialStateArray(k, batch: 1)
        let one = try stepArrays(k, batch: 1, state: &fresh, hidden: Array(hidden[0..<8]))
        let after = try stepArrays(k, batch: 2, state: &state, hidden: hidden, done: [1, 0])
        #expect(Array(after.read[0..<8]) == one.read && Array(state[0..<k.stateSize]) == fresh)
        #expect(Array(state[k.stateSize...]) != Array(fresh), "row 1 kept its memory")
    }

    @Test func logsStayInTheirRangesAndTheThreadsAgree() throws {
        let config: JSONValue = ["type": "pmm", "memory_dim": 16, "num_slots": 6, "num_heads": 4, "decay_rate": 0.9, "seed": 2]
        var single = config
        if case .object(var o) = single { o["threads"] = 1; single = .object(o) }
        let k = try kernel(config), k1 = try kernel(single)
        let batch = 5
        var state = try initialStateArray(k, batch: batch), state1 = state
        for t in 0..<30 {
            let hidden = (0..<(batch * 16)).map { cosf(Float($0 * 7 + t * 3)) * 2 }
            let (read, logs) = try stepArrays(k, batch: batch, state: &state, hidden: hidden)
            let (read1, logs1) = try stepArrays(k1, batch: batch, state: &state1, hidden: hidden)
            #expect(read == read1 && logs == logs1 && state == state1)
            for b in 0..<batch {
                let l = Array(logs[(b * 4)..<(b * 4 + 4)])
                #expect(l[0] > 0 && l[0] < 1, "write strength is a gate")
                #expect(l[1] >= 0 && l[1] <= logf(6) + 1e-5, "entropy of 6 slots")
                #expect(l[2] >= 0 && l[2] <= l[0], "conflict ≤ the write")
                #expect(l[3] >= 0 && l[3] <= 2 / (1 - 0.9) + 1e-3, "usage bounded by (1 + 1) / (1 − γ)")
            }
        }
    }

    @Test func badConfigurationsAreErrorsNamingTheKey() throws {
        let cases: [(JSONValue, String)] = [
            (["type": "pmm", "memory_dim": 10, "num_heads": 4], "num_heads"),
            (["type": "pmm", "memory_dim": 8, "num_heads": 0], "num_heads"),
            (["type": "pmm", "memory_dim": 8, "num_slots": 0], "num_slots"),
            (["type": "pmm", "memory_dim": 8, "decay_rate": 1.5], "decay_rate"),
            (["type": "pmm", "memory_dim": 8, "decay_rate": "slow"], "decay_rate"),
            (["type": "pmm", "memory_dim": 8, "buffer_size": 4], "buffer_size"),
            (["type": "pmm", "num_slots": 4], "memory_dim"),
        ]
        for (json, key) in cases {
            #expect { _ = try kernel(json) } throws: {
                let e = $0 as! StrataError
                return e.code == .invalidConfig && e.message.contains(key)
            }
        }
    }

    @Test func weightsWrittenOutLoadBackToTheSameKernel() throws {
        let path = scratchFolder("tensor-tests", "pmm-roundtrip") + "/pmm.safetensors"
        let a = try kernel(["type": "pmm", "memory_dim": 8, "num_slots": 4, "seed": 3])
        try a.writeWeights(to: path)
        let b = try kernel(["type": "pmm", "memory_dim": 8, "num_slots": 4, "weights": .string(path)])
        for s in a.parameters.specs { #expect(a.parameters[s.name] == b.parameters[s.name], "\(s.name)") }
        #expect { _ = try kernel(["type": "pmm", "memory_dim": 4, "weights": .string(path)]) } throws: {
            ($0 as! StrataError).code == .dimension
        }
    }
}
