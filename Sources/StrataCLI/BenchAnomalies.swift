import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine

/// `strata bench anomalies`: the time `Engine.anomalies` takes to score every memory.
struct BenchAnomaliesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anomalies",
        abstract: "Time Engine.anomalies over stores of random vectors with two numeric metadata fields.",
        discussion: """
            For each size in --n: stores that many random unit vectors of --dim floats, each with \
            {"profit", "latency_ms"} metadata (not timed), then times anomalies() with the default \
            forest (100 trees, sample 256, vectors projected to 16 values, plus both fields): the \
            whole call (scan, features, fit, score, sort) and, apart, the forest alone (fit, then \
            score) on the same number of 18-value points. Best of --runs.
            """)

    @Option(name: .long, parsing: .unconditional, help: "Comma-separated store sizes.", transform: { text in
        try text.split(separator: ",").map { part in
            guard let v = Int(part), v >= 2 else { throw ValidationError("--n takes sizes of at least 2, like 10000,100000") }
            return v
        }
    })
    var n: [Int] = [100_000]

    @Option(name: .long, help: "Floats per vector.")
    var dim = 256

    @Option(name: .long, help: "Timed repetitions (the best is reported).")
    var runs = 3

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard dim >= 1, dim <= 4096 else { throw ValidationError("--dim must be in 1...4096") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        try withEngineErrors(json: output.json) { try measure() }
    }

    private func measure() throws(StrataError) {
        let config: JSONValue = [
            "embedder": ["backend": "hashing", "options": ["dimension": .number(Double(dim))]], "dedupe": ["enabled": false],
            "anomalies": ["numeric_fields": ["profit", "latency_ms"]],
        ]
        var rows: [JSONValue] = []
        if !output.json {
            print("strata bench anomalies: \(MachineBounds.cpuModel), \(MachineBounds.onlineCores) cores, dimension \(dim)")
            print(pad("measurement", 22) + " " + pad("n", 9, left: true) + "  " + pad("seconds", 9, left: true) + "  " + pad("rate", 14, left: true))
        }
        /// `perMemory` false for the fit, whose cost does not grow with n (it sees 256 points per tree).
        func report(_ name: String, _ size: Int, _ seconds: Double, perMemory: Bool = true) {
            var row: [String: JSONValue] = ["measurement": .string(name), "n": .number(Double(size)),
                                            "seconds": .number((seconds * 10_000).rounded() / 10_000)]
            if perMemory { row["memories_per_second"] = .number((Double(size) / seconds).rounded()) }
            rows.append(.object(row))
            if !output.json {
                print(pad(name, 22) + " " + pad(String(size), 9, left: true) + "  " + fmt("%9.3f", seconds) + "  "
                    + (perMemory ? fmt("%10.0f", Double(size) / seconds) + " mem/s" : pad("-", 10, left: true)))
            }
            fflush(nil)
        }
        func best(_ body: () throws(StrataError) -> Void) throws(StrataError) -> Double {
            var fastest = Double.infinity
            for _ in 0..<runs {
                let t0 = benchNow()
                try body()
                fastest = min(fastest, benchNow() - t0)
            }
            return fastest
        }
        var rng = SplitMix64(seed: 42)
        for size in n {
            let engine = try Engine(configuration: EngineConfiguration(json: config, source: "bench config"))
            let data = rng.normalizedGaussian(rows: size, dimension: dim)
            var s = 0
            while s < size {
                let e = min(size, s + 1000)
                let items = (s..<e).map { i in
                    NewMemory("", metadata: ["profit": .number(100 + 10 * (rng.uniform() - 0.5)), "latency_ms": .number(20 * rng.uniform())])
                }
                _ = try engine.store(items, vectors: (s..<e).map { data.row($0) })
                s = e
            }
            report("anomalies()", size, try best { () throws(StrataError) in _ = try engine.anomalies() })

            let width = 18
            let points = (0..<size * width).map { _ in rng.uniform() }
            var forest: IsolationForest?
            report("forest fit", size, try best { () throws(StrataError) in forest = IsolationForest(points: points, features: width) },
                   perMemory: false)
            report("forest score", size, try best { () throws(StrataError) in _ = forest!.scores(points) })
        }
        if output.json { printJSON(.object(["benchmark": "anomalies", "dimension": .number(Double(dim)), "results": .array(rows)])) }
    }
}
