import Foundation
import StrataCore
import StrataTensor
import StrataTesting
import Testing

@Suite struct FractalKernelTests {
    func kernel(_ json: JSONValue) throws -> any TensorKernel { try KernelFactory.make(json) }

    /// One step; returns (read, logs). (The shared `stepArrays` with the batch taken from the state.)
    func step(_ k: any TensorKernel, _ state: inout [Float], _ hidden: [Float], done: [Float]? = nil) throws -> ([Float], [Float]) {
        let r = try stepArrays(k, batch: state.count / k.stateSize, state: &state, hidden: hidden, done: done)
        return (r.read, r.logs)
    }

    @Test func levelsShrinkByTheRatioDownToWidthOne() throws {
        func widths(_ json: JSONValue) throws -> [Int] { try #require(try kernel(json) as? FractalKernel).widths }
        #expect(try widths(["type": "fractal", "memory_dim": 10, "num_levels": 4]) == [10, 5, 2, 1])
        #expect(try widths(["type": "fractal", "memory_dim": 4, "num_levels": 5, "compression_ratio": 0.5]) == [4, 2, 1, 1, 1])
        #expect(try widths(["type": "fractal", "memory_dim": 9, "num_levels": 3, "compression_ratio": 1]) == [9, 9, 9])
        #expect(try widths(["type": "fractal", "memory_dim": 32]) == [32, 16, 8], "3 levels, ratio 0.5 by default")
        #expect(try widths(["type": "fractal", "memory_dim": 10, "num_levels": 3, "compression_ratio": 0.3]) == [10, 3, 1], "⌊0.9⌋ = 0, raised to 1")
    }

    @Test func stateSizeAndParameterCountFollowTheWidths() throws {
        let d = 10
        let k = try kernel(["type": "fractal", "memory_dim": 10, "num_levels": 4, "seed": 1])
        #expect(k.stateSize == 3 * (10 + 5 + 2 + 1))
        var count = 0, input = d
        for w in [10, 5, 2, 1] {
            count += w * input + w + 2 * 4 * w * w + 2 * 4 * w + d * w + d + w
            input = w
        }
        #expect(k.parameterCount == count)
        var state = [Float](repeating: 9, count: 3 * k.stateSize)
        try state.withUnsafeMutableBufferPointer { try k.initialState(batch: 3, into: $0) }
        #expect(state.allSatisfy { $0 == 0 })
    }

    @Test func theMemoryBlendsTheLSTMOutputThroughThePersistenceGate() throws {
        let k = try kernel(["type": "fractal", "memory_dim": 8, "num_levels": 3, "seed": 4])
        var state = [Float](repeating: 0, count: 2 * k.stateSize)
        let (_, logs) = try step(k, &state, (0..<16).map { sin(Float($0)) })
        // Seeded persistence is 0, so σ(p) = ½: from an empty memory, m = h / 2 at every level.
        var offset = 0
        for w in [8, 4, 2] {
            for b in 0..<2 {
                let row = b * k.stateSize + offset
                #expect((0..<w).allSatisfy { state[row + 2 * w + $0] == state[row + $0] / 2 })
                #expect((0..<w).contains { state[row + $0] != 0 })
            }
            offset += 3 * w
        }
        for b in 0..<2 {
            let l = Array(logs[(b * 4)..<(b * 4 + 4)])
            #expect(l[0] == 0.5)
            #expect(l[1] > 0 && l[1] <= log(Float(3)) + 1e-6)
            #expect(l[2] > 0 && l[2] < 1 && l[3] > 0 && l[3] < 1)
            #expect(abs(l[2] - l[3] / 2) < 1e-6, "from an empty memory the change is the memory itself")
        }
    }

    @Test func aClosedPersistenceGateKeepsTheMemoryEmpty() throws {
        let seeded = try kernel(["type": "fractal", "memory_dim": 6, "num_levels": 2, "seed": 2])
        var tensors: [String: Safetensors.Tensor] = [:]
        for s in seeded.parameters.specs {
            let closed = s.name.hasSuffix("persistence")
            tensors[s.name] = .init(shape: s.shape, values: closed ? Array(repeating: 40, count: s.shape[0]) : seeded.parameters[s.name])
        }
        let path = scratchFolder("tensor-tests", "fractal-closed") + "/fractal.safetensors"
        try Safetensors.write(tensors, to: path)
        let k = try kernel(["type": "fractal", "memory_dim": 6, "num_levels": 2, "weights": .string(path)])
        var state = [Float](repeating: 0, count: k.stateSize)
        var last: ([Float], [Float]) = ([], [])
        for t in 0..<3 { last = try step(k, &state, (0..<6).map { Float($0 - t) / 3 }) }
        // Widths 6 and 3: level 0's m is floats 12..<18, level 1's 24..<27; the LSTMs still run.
        #expect(Array(12..<18).allSatisfy { state[$0] == 0 } && Array(24..<27).allSatisfy { state[$0] == 0 })
        #expect(Array(0..<6).contains { state[$0] != 0 })
        let (read, logs) = last
        let bias0 = seeded.parameters["fractal.0.decoder.bias"], bias1 = seeded.parameters["fractal.1.decoder.bias"]
        #expect(zip(read, zip(bias0, bias1)).allSatisfy { abs($0 - ($1.0 + $1.1) / 2) < 1e-6 }, "an empty memory reads the decoders' biases")
        #expect(logs[0] == 0 && logs[2] == 0 && logs[3] == 0)
    }

    @Test func aDoneRowStartsAfresh() throws {
        let k = try kernel(["type": "fractal", "memory_dim": 4, "num_levels": 2, "seed": 5])
        var state = [Float](repeating: 0, count: 2 * k.stateSize)
        _ = try step(k, &state, (0..<8).map { Float($0) / 8 })
        let (read, _) = try step(k, &state, (0..<8).map { Float($0) / 4 }, done: [0, 1])
        var fresh = [Float](repeating: 0, count: k.stateSize)
        let (freshRead, _) = try step(k, &fresh, (4..<8).map { Float($0) / 4 })
        #expect(Array(read[4..<8]) == freshRead)
        #expect(Array(state[k.stateSize...]) == fresh)
    }

    @Test func badConfigurationsAreErrorsNamingTheKey() throws {
        for (json, key) in [
            (["type": "fractal", "memory_dim": 4, "compression_ratio": 0] as JSONValue, "compression_ratio"),
            (["type": "fractal", "memory_dim": 4, "compression_ratio": 1.5], "compression_ratio"),
            (["type": "fractal", "memory_dim": 4, "num_levels": 0], "num_levels"),
            (["type": "fractal", "memory_dim": 4, "num_slots": 8], "num_slots"),
        ] {
            #expect { _ = try kernel(json) } throws: { ($0 as! StrataError).message.contains(key) }
        }
        let path = scratchFolder("tensor-tests", "fractal-bad-weights") + "/w.safetensors"
        try kernel(["type": "fractal", "memory_dim": 8, "num_levels": 2, "seed": 1]).writeWeights(to: path)
        #expect { _ = try kernel(["type": "fractal", "memory_dim": 8, "num_levels": 3, "weights": .string(path)]) } throws: {
            let e = $0 as! StrataError
            return e.code == .invalidConfig && e.message.contains("fractal.2.")
        }
    }

    @Test func weightsWrittenOutLoadBackToTheSameKernel() throws {
        let path = scratchFolder("tensor-tests", "fractal-roundtrip") + "/fractal.safetensors"
        let a = try kernel(["type": "fractal", "memory_dim": 6, "num_levels": 3, "compression_ratio": 0.7, "seed": 3])
        try a.writeWeights(to: path)
        let b = try kernel(["type": "fractal", "memory_dim": 6, "num_levels": 3, "compression_ratio": 0.7, "weights": .string(path)])
        for s in a.parameters.specs { #expect(a.parameters[s.name] == b.parameters[s.name], "\(s.name)") }
        let hidden = (0..<12).map { Float($0) / 12 - 0.5 }
        var sa = [Float](repeating: 0, count: 2 * a.stateSize), sb = sa
        let ra = try step(a, &sa, hidden), rb = try step(b, &sb, hidden)
        #expect(ra == rb)
    }
}
