import Foundation
import StrataCore
import StrataTensor
import StrataTesting
import Testing

@Suite struct KVKernelTests {
    func kernel(_ json: JSONValue) throws -> any TensorKernel { try KernelFactory.make(json) }

    /// One step; returns (read, logs). (The shared `stepArrays` with the batch taken from the state.)
    func step(_ k: any TensorKernel, _ state: inout [Float], _ hidden: [Float], done: [Float]? = nil) throws -> ([Float], [Float]) {
        let r = try stepArrays(k, batch: state.count / k.stateSize, state: &state, hidden: hidden, done: done)
        return (r.read, r.logs)
    }

    /// A weights file whose key and value projections copy hidden (key_dim = D).
    func copyingWeights(d: Int, seed: UInt64) throws -> String {
        let seeded = try kernel(["type": "kv", "memory_dim": .number(Double(d)), "seed": .number(Double(seed))])
        var tensors: [String: Safetensors.Tensor] = [:]
        for s in seeded.parameters.specs { tensors[s.name] = .init(shape: s.shape, values: seeded.parameters[s.name]) }
        let identity = (0..<d * d).map { Float($0 / d == $0 % d ? 1 : 0) }
        tensors["kv.key.weight"] = .init(shape: [d, d], values: identity)
        tensors["kv.value.weight"] = .init(shape: [d, d], values: identity)
        tensors["kv.key.bias"] = .init(shape: [d], values: Array(repeating: 0, count: d))
        tensors["kv.value.bias"] = .init(shape: [d], values: Array(repeating: 0, count: d))
        let path = scratchFolder("tensor-tests", "kv-copying") + "/kv.safetensors"
        try Safetensors.write(tensors, to: path)
        return path
    }

    @Test func stateSizeAndParameterCountFollowSlotsKeyDimAndD() throws {
        let k = try kernel(["type": "kv", "memory_dim": 4, "num_slots": 3, "key_dim": 2, "seed": 1])
        #expect(k.stateSize == 3 * 2 + 3 * 4 + 3 + 1)
        #expect(k.parameterCount == 2 * 2 * 4 + 2 * 2 + 2 * 16 + 2 * 4)
        #expect(k.logNames == ["write_strength", "read_entropy", "overwrite_conflict", "usage_mean"])
        let defaults = try kernel(["type": "kv", "memory_dim": 8])
        #expect(defaults.stateSize == 16 * 8 + 16 * 8 + 16 + 1, "16 slots, key_dim D by default")
        var state = [Float](repeating: 9, count: 2 * k.stateSize)
        try state.withUnsafeMutableBufferPointer { try k.initialState(batch: 2, into: $0) }
        #expect(state.allSatisfy { $0 == 0 })
    }

    @Test func pairsAreEvictedOldestFirstAndTheLogsTrackTheRing() throws {
        let d = 4, n = 3
        let k = try kernel(["type": "kv", "memory_dim": 4, "num_slots": 3, "weights": .string(try copyingWeights(d: d, seed: 2))])
        var state = [Float](repeating: 0, count: k.stateSize)
        for t in 0..<5 {
            let (read, logs) = try step(k, &state, (0..<d).map { Float($0 + 1) * (t % 2 == 0 ? 0.1 : -0.2) + Float(t) * 0.01 })
            #expect(read.allSatisfy { $0.isFinite })
            #expect(logs[0] == 1)
            #expect(logs[1] >= 0 && logs[1] <= log(Float(n)) + 1e-6)
            #expect(logs[3] == Float(min(t + 1, n)) / Float(n), "usage at step \(t)")
            if t < n {
                #expect(logs[2] == 0, "nothing evicted while the slots fill")
            } else {
                #expect(logs[2] > 0 && logs[2] <= 1, "the evicted pair had weight, step \(t)")
            }
        }
        // After 5 steps in 3 slots: slot 0 holds step 3, slot 1 step 4, slot 2 step 2; the pointer is 2.
        let values = n * d
        func stored(_ slot: Int) -> [Float] { Array(state[(values + slot * d)..<(values + (slot + 1) * d)]) }
        func hiddenAt(_ t: Int) -> [Float] { (0..<d).map { Float($0 + 1) * (t % 2 == 0 ? 0.1 : -0.2) + Float(t) * 0.01 } }
        #expect(stored(0) == hiddenAt(3) && stored(1) == hiddenAt(4) && stored(2) == hiddenAt(2))
        #expect(Array(state[0..<d]) == hiddenAt(3), "keys follow the same order")
        #expect(state[values + n * d..<values + n * d + n].allSatisfy { $0 == 1 })
        #expect(state.last == 2)
    }

    @Test func aDoneRowStartsAfreshAndTheOthersKeepTheirPairs() throws {
        let k = try kernel(["type": "kv", "memory_dim": 4, "num_slots": 2, "seed": 5])
        var state = [Float](repeating: 0, count: 2 * k.stateSize)
        _ = try step(k, &state, (0..<8).map { Float($0) / 8 })
        let (read, logs) = try step(k, &state, (0..<8).map { Float($0) / 4 }, done: [0, 1])
        #expect(logs[3] == 1 && logs[7] == 0.5)
        var fresh = [Float](repeating: 0, count: k.stateSize)
        let (freshRead, _) = try step(k, &fresh, (4..<8).map { Float($0) / 4 })
        #expect(Array(read[4..<8]) == freshRead)
        #expect(Array(state[k.stateSize...]) == fresh)
    }

    @Test func badConfigurationsAreErrorsNamingTheKey() throws {
        for (json, key) in [
            (["type": "kv", "memory_dim": 4, "key_dim": 0] as JSONValue, "key_dim"),
            (["type": "kv", "memory_dim": 4, "num_slots": 2.5], "num_slots"),
            (["type": "kv", "memory_dim": 4, "buffer_size": 4], "buffer_size"),
        ] {
            #expect { _ = try kernel(json) } throws: { ($0 as! StrataError).message.contains(key) }
        }
        let path = scratchFolder("tensor-tests", "kv-bad-weights") + "/w.safetensors"
        try kernel(["type": "kv", "memory_dim": 4, "seed": 1]).writeWeights(to: path)
        #expect { _ = try kernel(["type": "kv", "memory_dim": 4, "key_dim": 2, "weights": .string(path)]) } throws: {
            let e = $0 as! StrataError
            return e.code == .dimension && e.message.contains("kv.key")
        }
    }

    @Test func weightsWrittenOutLoadBackToTheSameKernel() throws {
        let path = scratchFolder("tensor-tests", "kv-roundtrip") + "/kv.safetensors"
        let a = try kernel(["type": "kv", "memory_dim": 6, "key_dim": 3, "num_slots": 4, "seed": 3])
        try a.writeWeights(to: path)
        let b = try kernel(["type": "kv", "memory_dim": 6, "key_dim": 3, "num_slots": 4, "weights": .string(path)])
        for s in a.parameters.specs { #expect(a.parameters[s.name] == b.parameters[s.name], "\(s.name)") }
        let hidden = (0..<12).map { Float($0) / 12 - 0.5 }
        var sa = [Float](repeating: 0, count: 2 * a.stateSize), sb = sa
        let ra = try step(a, &sa, hidden), rb = try step(b, &sb, hidden)
        #expect(ra == rb)
    }
}
