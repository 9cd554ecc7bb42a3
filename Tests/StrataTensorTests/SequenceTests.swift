import StrataCore
@testable import StrataTensor
import Testing

/// A sequence batches the products of hidden over time (`StagedKernel`); it must still give,
/// bit for bit, what the same steps give one at a time, however it is cut into blocks.
@Suite struct SequenceTests {
    /// Widths that are not multiples of the vector or panel widths, so every tail runs.
    static let configs: [JSONValue] = [
        ["type": "ring", "memory_dim": 24, "buffer_size": 5, "seed": 3],
        ["type": "kv", "memory_dim": 24, "num_slots": 5, "key_dim": 10, "seed": 3],
        ["type": "pmm", "memory_dim": 24, "num_slots": 5, "num_heads": 3, "decay_rate": 0.9, "seed": 3],
        ["type": "slot", "memory_dim": 24, "num_slots": 5, "seed": 3],
        ["type": "fractal", "memory_dim": 24, "num_levels": 3, "compression_ratio": 0.6, "seed": 3],
    ]

    struct Run: Equatable {
        var state: [Float], read: [Float], logs: [Float]
    }

    /// Runs `steps` steps through `sequence` with at most `blockFloats` floats of stage buffers
    /// (nil: the public `sequence`), or one `step` at a time (`blockFloats` 0).
    func run(_ k: any StagedKernel, batch: Int, hidden: [Float], masks: [Float], blockFloats: Int?) throws -> Run {
        let steps = masks.count / batch, d = k.dimension
        var state = try initialStateArray(k, batch: batch)
        var read = [Float](repeating: .nan, count: steps * batch * d), logs = [Float](repeating: .nan, count: steps * batch * 4)
        if blockFloats == 0 {
            for t in 0..<steps {
                let r = try stepArrays(k, batch: batch, state: &state, hidden: Array(hidden[(t * batch * d)..<((t + 1) * batch * d)]),
                                       done: Array(masks[(t * batch)..<((t + 1) * batch)]))
                read.replaceSubrange((t * batch * d)..<((t + 1) * batch * d), with: r.read)
                logs.replaceSubrange((t * batch * 4)..<((t + 1) * batch * 4), with: r.logs)
            }
            return Run(state: state, read: read, logs: logs)
        }
        try state.withUnsafeMutableBufferPointer { s in
            try hidden.withUnsafeBufferPointer { h in
                try masks.withUnsafeBufferPointer { m in
                    try read.withUnsafeMutableBufferPointer { r in
                        try logs.withUnsafeMutableBufferPointer { l in
                            if let blockFloats {
                                try k.run(steps: steps, batch: batch, state: s, hidden: h, doneMasks: m, read: r, logs: l, blockFloats: blockFloats)
                            } else {
                                try k.sequence(steps: steps, batch: batch, state: s, hidden: h, doneMasks: m, read: r, logs: l)
                            }
                        }
                    }
                }
            }
        }
        return Run(state: state, read: read, logs: logs)
    }

    @Test(arguments: configs)
    func aSequenceInAnyBlocksEqualsItsStepsBitForBit(_ config: JSONValue) throws {
        let k = try #require(try KernelFactory.make(config) as? any StagedKernel)
        let batch = 3, steps = 17
        var rng = SeededRandom(seed: 11)
        let hidden = (0..<(steps * batch * k.dimension)).map { _ in Float(rng.gaussian()) }
        let masks = (0..<(steps * batch)).map { i in i >= batch && rng.uniform() < 0.15 ? Float(1) : 0 }
        let steps1 = try run(k, batch: batch, hidden: hidden, masks: masks, blockFloats: 0)
        #expect(!steps1.read.contains { !$0.isFinite } && !steps1.logs.contains { !$0.isFinite })
        #expect(try run(k, batch: batch, hidden: hidden, masks: masks, blockFloats: nil) == steps1, "one block")
        // Blocks of 1, 2 and 5 time steps (the last block shorter).
        let perStep = batch * max(1, k.stageWidths.projection + k.stageWidths.mixed + k.stageWidths.output)
        for stepsPerBlock in [1, 2, 5] {
            #expect(try run(k, batch: batch, hidden: hidden, masks: masks, blockFloats: stepsPerBlock * perStep) == steps1,
                    "blocks of \(stepsPerBlock) steps")
        }
    }

    /// Sizes at which the products and the row work are split over the cores: by blocks of 8
    /// rows at batch 40, by columns at batch 8.
    static let splitConfigs: [JSONValue] = [
        ["type": "ring", "memory_dim": 160, "buffer_size": 12, "seed": 5],
        ["type": "kv", "memory_dim": 160, "num_slots": 12, "seed": 5],
        ["type": "pmm", "memory_dim": 160, "num_slots": 12, "num_heads": 4, "seed": 5],
        ["type": "slot", "memory_dim": 160, "num_slots": 12, "seed": 5],
        ["type": "fractal", "memory_dim": 160, "num_levels": 3, "seed": 5],
    ]

    @Test(arguments: splitConfigs)
    func stepsSplitOverTheCoresGiveTheBitsOfOneThread(_ config: JSONValue) throws {
        guard case .object(var options) = config else { return }
        options["threads"] = 2
        let two = try #require(try KernelFactory.make(.object(options)) as? any StagedKernel)
        options["threads"] = 1
        let one = try #require(try KernelFactory.make(.object(options)) as? any StagedKernel)
        for batch in [40, 8] {
            var rng = SeededRandom(seed: UInt64(batch))
            let steps = 4
            let hidden = (0..<(steps * batch * two.dimension)).map { _ in Float(rng.gaussian()) }
            let masks = (0..<(steps * batch)).map { i in i >= batch && rng.uniform() < 0.2 ? Float(1) : 0 }
            let split = try run(two, batch: batch, hidden: hidden, masks: masks, blockFloats: 0)
            #expect(try run(one, batch: batch, hidden: hidden, masks: masks, blockFloats: 0) == split, "batch \(batch)")
            #expect(try run(two, batch: batch, hidden: hidden, masks: masks, blockFloats: nil) == split, "batch \(batch), sequence")
        }
    }

    @Test func stepsAndSequencesInTurnSettleOnOneScratchBuffer() throws {
        let k = try #require(try KernelFactory.make(["type": "ring", "memory_dim": 24, "buffer_size": 5]) as? RingKernel)
        let batch = 3
        var rng = SeededRandom(seed: 4)
        for round in 0..<20 {
            let steps = round % 2 == 0 ? 1 : 9 + round
            let hidden = (0..<(steps * batch * 24)).map { _ in Float(rng.gaussian()) }
            _ = try run(k, batch: batch, hidden: hidden, masks: [Float](repeating: 0, count: steps * batch), blockFloats: nil)
        }
        #expect(k.scratch.bufferCount == 1, "one call at a time needs one buffer, grown as the sizes grow")
    }
}
