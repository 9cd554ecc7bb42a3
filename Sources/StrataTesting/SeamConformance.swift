import StrataCore

/// The cases every embedder must pass.
public enum EmbedderConformance {
    /// - Parameter suite: the name results carry ("embedder via host" after the raw contract).
    @discardableResult
    public static func run(suite: String = "embedder", session: CheckSession = CheckSession(),
                           make: () throws -> any Embedder) -> [ConformanceResult] {
        let runner = CaseRunner(suite: suite, session: session)
        runner.run("gives one finite vector of the declared dimension per text") {
            let e = try make()
            try expect(e.dimension >= 1, "dimension is \(e.dimension)")
            try expect(!e.modelID.isEmpty, "model id is empty")
            let texts = ["hello world", "", "ünïcödé 文字 🙂", String(repeating: "long text ", count: 500)]
            let vs = try e.embed(texts)
            try expect(vs.count == texts.count, "\(texts.count) texts gave \(vs.count) vectors")
            for (i, v) in vs.enumerated() {
                try expect(v.count == e.dimension, "vector \(i) has \(v.count) floats, dimension is \(e.dimension)")
                try expect(v.allSatisfy(\.isFinite), "vector \(i) is not finite")
            }
        }
        runner.run("is deterministic for the same text") {
            let e = try make()
            let a = try e.embed(["the same text"]), b = try e.embed(["the same text"])
            try expect(a == b, "two embeddings of one text differ")
        }
        runner.run("an empty batch gives no vectors") {
            let e = try make()
            try expect(try e.embed([]).isEmpty, "empty batch gave vectors")
        }
        runner.run("related texts are closer than unrelated ones") {
            let e = try make()
            let v = try e.embed(["the cat sat on the mat", "a cat sat on a mat", "quarterly revenue grew by ten percent"])
            let near = Vectors.cosine(v[0], v[1]), far = Vectors.cosine(v[0], v[2])
            try expect(near > far, "cosine(related) \(near) <= cosine(unrelated) \(far)")
        }
        return runner.results
    }
}

/// The cases every summarizer must pass.
public enum SummarizerConformance {
    /// - Parameter suite: the name results carry ("summarizer via host" after the raw contract).
    @discardableResult
    public static func run(suite: String = "summarizer", session: CheckSession = CheckSession(),
                           make: () throws -> any Summarizer) -> [ConformanceResult] {
        let runner = CaseRunner(suite: suite, session: session)
        let texts = [
            "The team met on Monday to plan the launch. The launch is set for March.",
            "Marketing will prepare the launch announcement. Sales wants a demo before the launch.",
            "Lunch was pizza.",
        ]
        runner.run("stays within the length budget and says something") {
            let s = try make()
            let out = try s.summarize(texts, maxCharacters: 120)
            try expect(!out.isEmpty, "summary is empty")
            try expect(out.count <= 120, "summary has \(out.count) characters, budget 120")
        }
        runner.run("an empty input gives an empty or short summary without failing") {
            let s = try make()
            let out = try s.summarize([], maxCharacters: 100)
            try expect(out.count <= 100, "summary of nothing has \(out.count) characters")
        }
        runner.run("a negative budget is refused") {
            let s = try make()
            try expectError(.invalidArgument, "max_chars -1") { _ = try s.summarize(texts, maxCharacters: -1) }
        }
        return runner.results
    }
}

/// The cases every memory kernel must pass.
public enum MemoryKernelConformance {
    /// - Parameter suite: the name results carry ("memory_kernel via host" after the raw contract).
    @discardableResult
    public static func run(suite: String = "memory_kernel", session: CheckSession = CheckSession(),
                           make: () throws -> any MemoryKernel) -> [ConformanceResult] {
        let runner = CaseRunner(suite: suite, session: session)
        runner.run("initial state and a step give finite outputs of the declared shapes") {
            let k = try make()
            let batch = 3
            var state = [Float](repeating: .nan, count: batch * k.stateSize)
            try state.withUnsafeMutableBufferPointer { try k.initialState(batch: batch, into: $0) }
            try expect(state.allSatisfy(\.isFinite), "initial state is not finite")
            var rng = SeededGenerator(state: 3)
            let hidden = rng.vector(batch * k.dimension)
            var read = [Float](repeating: .nan, count: batch * k.dimension)
            var logs: [Float]? = [Float](repeating: .nan, count: batch * k.logNames.count)
            try step(k, batch, &state, hidden, &read, &logs)
            try expect(read.allSatisfy(\.isFinite), "read is not finite")
            try expect(logs!.allSatisfy(\.isFinite), "logs are not finite")
            try expect(state.allSatisfy(\.isFinite), "state after a step is not finite")
        }
        runner.run("a done mask resets exactly the masked rows") {
            let k = try make()
            let batch = 2
            var initial = [Float](repeating: 0, count: batch * k.stateSize)
            try initial.withUnsafeMutableBufferPointer { try k.initialState(batch: batch, into: $0) }
            var state = initial
            var rng = SeededGenerator(state: 5)
            var read = [Float](repeating: 0, count: batch * k.dimension)
            var logs: [Float]? = nil
            for _ in 0..<3 { try step(k, batch, &state, rng.vector(batch * k.dimension), &read, &logs) }
            var keep: [Float] = [0, 1]
            let before = state
            try state.withUnsafeMutableBufferPointer { s in
                try keep.withUnsafeMutableBufferPointer { m in try k.reset(batch: batch, state: s, keepMask: UnsafeBufferPointer(m)) }
            }
            let n = k.stateSize
            try expect(Array(state[0..<n]) == Array(initial[0..<n]), "row 0 (keep 0) was not reset")
            try expect(Array(state[n..<2 * n]) == Array(before[n..<2 * n]), "row 1 (keep 1) changed")
        }
        runner.run("wrong buffer sizes are refused") {
            let k = try make()
            var state = [Float](repeating: 0, count: k.stateSize)
            var read = [Float](repeating: 0, count: k.dimension)
            var logs: [Float]? = nil
            try expectError(.dimension, "hidden one float short") {
                try step(k, 1, &state, [Float](repeating: 0, count: k.dimension - 1), &read, &logs)
            }
        }
        return runner.results
    }

    /// One step over Swift arrays; `logs` nil passes NULL logs.
    static func step(_ k: any MemoryKernel, _ batch: Int, _ state: inout [Float], _ hidden: [Float],
                     _ read: inout [Float], _ logs: inout [Float]?) throws {
        try state.withUnsafeMutableBufferPointer { s in
            try hidden.withUnsafeBufferPointer { h in
                try read.withUnsafeMutableBufferPointer { r in
                    if logs == nil {
                        try k.step(batch: batch, state: s, hidden: h, doneMask: nil, read: r, logs: nil)
                    } else {
                        try logs!.withUnsafeMutableBufferPointer { l in
                            try k.step(batch: batch, state: s, hidden: h, doneMask: nil, read: r, logs: l)
                        }
                    }
                }
            }
        }
    }
}
