import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
import StrataWire

/// The configuration every engine benchmark opens (Swift, C and Python alike).
let benchEngineConfig = """
    {"embedder": {"backend": "hashing", "options": {"dimension": 384}}, "dedupe": {"enabled": false}, "recall": {"track_access": false}}
    """

/// Store figures are the best of this many passes, each into a fresh engine (in every face).
let benchStorePasses = 3

/// The text of memory i and of query j in the text benchmarks (the same formula in C and Python).
func benchContent(_ i: Int) -> String {
    "note \(i) about topic \(i % 97) with word\(i % 1013) and word\((i * 7) % 2003) at site \(i % 31)"
}

func benchQuery(_ j: Int) -> String { "topic \(j % 97) word\(j % 1013)" }

/// Recall rates are the best of this many equal windows (in every face): the machine's noise
/// only ever slows a window down, so the best window is the steadiest estimate.
let benchRateWindows = 3

/// Calls `body` (with a running index) in `benchRateWindows` windows, each until `seconds / windows`
/// have passed and at least `minimum / windows` calls were made (at most `maximum` calls in all);
/// returns the best window's calls per second.
func benchRate(seconds: Double, minimum: Int = 10, maximum: Int = 1_000_000, _ body: (Int) throws(StrataError) -> Void)
    throws(StrataError) -> Double
{
    var calls = 0
    var best = 0.0
    for _ in 0..<benchRateWindows {
        let t0 = benchNow()
        var windowCalls = 0
        var elapsed = 0.0
        repeat {
            try body(calls)
            calls += 1
            windowCalls += 1
            elapsed = benchNow() - t0
        } while (elapsed < seconds / Double(benchRateWindows) || windowCalls < max(1, minimum / benchRateWindows))
            && calls < maximum
        best = max(best, Double(windowCalls) / elapsed)
    }
    return best
}

/// `strata bench engine`: the Swift face of the engine benchmarks in bench/engine_bench.c and bench/python_bench.py.
struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Engine store and recall throughput through the Swift API (the Swift face of bench/engine_bench.c).",
        discussion: """
            Opens the engine with \(benchEngineConfig) and, for each size in --n: stores that many \
            random unit vectors with store(_:vectors:) in batches of 1000 (memories/s, best of 3 fresh engines), then recalls \
            with one query vector at a time (QPS, k 10, best of 3 windows over --seconds). Also the cost of one \
            recall on a 1-memory engine (per-call cost without the C ABI), and text store and recall \
            (hashing embedder, batches of 1000) at --text-n memories.
            """)

    @OptionGroup var sizes: BenchSizes

    @Option(name: .long, help: "Minimum seconds per recall measurement.")
    var seconds = 2.0

    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) { try measure() }
    }

    private func openEngine() throws(StrataError) -> Engine {
        try Engine(configuration: EngineConfiguration(text: benchEngineConfig, source: "bench config"))
    }

    private func measure() throws(StrataError) {
        let dim = 384
        var rows: [JSONValue] = []
        if !output.json {
            print("strata bench engine (Swift API): \(MachineBounds.cpuModel), \(MachineBounds.onlineCores) cores")
            print(pad("measurement", 28) + " " + pad("n", 9, left: true) + "  " + pad("rate", 12, left: true))
        }
        func report(_ name: String, _ size: Int, _ value: Double, _ unit: String) {
            rows.append(.object(["measurement": .string(name), "n": .number(Double(size)),
                                 "value": .number((value * 100).rounded() / 100), "unit": .string(unit)]))
            if !output.json { print(pad(name, 28) + " " + pad(String(size), 9, left: true) + "  " + fmt("%12.1f ", value) + unit) }
            fflush(nil)
        }
        var rng = SplitMix64(seed: 42)
        let queries = rng.normalizedGaussian(rows: 100, dimension: dim)
        let queryRows = (0..<queries.rows).map { queries.row($0) }

        // Per-call cost: recall on a 1-memory engine.
        do {
            let engine = try openEngine()
            _ = try engine.store([NewMemory("")], vectors: [queryRows[0]])
            let rate = try benchRate(seconds: seconds / 2, minimum: 1000) { (i: Int) throws(StrataError) in
                _ = try engine.recall(RecallQuery(vector: queryRows[i % queryRows.count], k: 10))
            }
            report("recall_vector 1 row (ns)", 1, 1e9 / rate, "ns/call")
        }

        for size in sizes.n {
            var engine = try openEngine()
            let data = rng.normalizedGaussian(rows: size, dimension: dim)
            // Best of three fresh engines: one pass is short and moves with the machine's noise.
            var best = Double.infinity
            for pass in 0..<benchStorePasses {
                if pass > 0 { engine = try openEngine() }
                // The batches are built inside the timing, from the flat matrix, as the C and
                // Python faces build theirs from a float pointer: the same work on each side.
                let t0 = benchNow()
                var s = 0
                while s < size {
                    let e = min(size, s + 1000)
                    _ = try engine.store((s..<e).map { _ in NewMemory("") }, vectors: (s..<e).map { data.row($0) })
                    s = e
                }
                best = min(best, benchNow() - t0)
            }
            report("store_vectors", size, Double(size) / best, "memories/s")
            _ = try engine.recall(RecallQuery(vector: queryRows[0], k: 10))
            let qps = try benchRate(seconds: seconds) { (i: Int) throws(StrataError) in
                _ = try engine.recall(RecallQuery(vector: queryRows[i % queryRows.count], k: 10))
            }
            report("recall_vector", size, qps, "QPS")
        }

        if sizes.textN > 0 {
            var engine = try openEngine()
            var best = Double.infinity
            for pass in 0..<benchStorePasses {
                if pass > 0 { engine = try openEngine() }
                let t0 = benchNow()
                var s = 0
                while s < sizes.textN {
                    let e = min(sizes.textN, s + 1000)
                    _ = try engine.store((s..<e).map { NewMemory(benchContent($0)) })
                    s = e
                }
                best = min(best, benchNow() - t0)
            }
            report("store text", sizes.textN, Double(sizes.textN) / best, "memories/s")
            let qps = try benchRate(seconds: seconds) { (i: Int) throws(StrataError) in
                _ = try engine.recall(RecallQuery(benchQuery(i), k: 10))
            }
            report("recall text", sizes.textN, qps, "QPS")
        }
        if output.json {
            printJSON(.object(["face": .string("swift"), "cpu": .string(MachineBounds.cpuModel),
                               "cores": .number(Double(MachineBounds.onlineCores)), "results": .array(rows)]))
        }
    }
}

/// Pads `text` to `width` columns.
func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return left ? fill + text : text + fill
}

/// printf-style formatting of numbers (no Foundation here): `fmt("%.1f", x)`.
func fmt(_ format: String, _ args: CVarArg...) -> String {
    withVaList(args) { list in
        var buffer = [CChar](repeating: 0, count: 512)
        _ = vsnprintf(&buffer, buffer.count, format, list)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
