import StrataCore
import StrataTensor
import Testing

@Suite struct KernelParametersTests {
    @Test func seededBiasesTakeTheirLayersFanInAsPyTorchDoes() throws {
        // kv.key.bias has 4 values but its layer reads 64: PyTorch draws it from ±1/√64.
        let kv = try KernelFactory.make(["type": "kv", "memory_dim": 64, "key_dim": 4, "seed": 3])
        let bias = kv.parameters["kv.key.bias"]
        #expect(bias.count == 4 && bias.allSatisfy { abs($0) <= 0.125 })
        #expect(bias.contains { abs($0) > 0.01 }, "drawn, not zero")
        // An LSTM's biases (4w long) take the hidden size w.
        let fractal = try KernelFactory.make(["type": "fractal", "memory_dim": 16, "num_levels": 1, "seed": 3])
        let lstm = fractal.parameters["fractal.0.lstm.bias_ih"]
        #expect(lstm.count == 64 && lstm.allSatisfy { abs($0) <= 0.25 } && lstm.contains { abs($0) > 0.125 })
    }

    @Test func theSameSeedGivesTheSameWeightsAndAnotherSeedOthers() throws {
        let a = try KernelFactory.make(["type": "slot", "memory_dim": 8, "seed": 1])
        let b = try KernelFactory.make(["type": "slot", "memory_dim": 8, "seed": 1])
        let c = try KernelFactory.make(["type": "slot", "memory_dim": 8, "seed": 2])
        #expect(a.parameters["slot.output.weight"] == b.parameters["slot.output.weight"])
        #expect(a.parameters["slot.output.weight"] != c.parameters["slot.output.weight"])
    }
}
