import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
import StrataWire
import StrataPlugins

/// `strata bench abi`: the same engine work through the Swift API and through libstrata.so's C
/// ABI, in one process, in alternating windows.
///
/// Why in one process: run as separate programs, the Swift, C and Python faces differ by more
/// than the ABI costs (this VM's bandwidth moves minute to minute, and each process gets its own
/// hash seeds and memory layout), so their ratios swing by 20% either way. Here both engines live
/// side by side on the same data, and the windows alternate, so what differs is the C ABI: the
/// request and answer as JSON, and the copies of vectors across the boundary.
struct BenchABICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abi",
        abstract: "Engine store and recall through the Swift API and the C ABI, in one process, alternating.",
        discussion: """
            Loads libstrata.so (next to this binary, or $STRATA_LIBRARY) with dlopen, opens one engine \
            through it and one through the Swift API with the same configuration as `bench engine`, \
            stores the same vectors in both (batches of 1000), then alternates --rounds windows of \
            recall_vector (k 10) between them and keeps each side's best window. Text store and \
            recall likewise at --text-n. Prints each figure and C / Swift.
            """)

    @OptionGroup var sizes: BenchSizes

    // Short windows, many of them: the two sides then share each minute of the VM's changing
    // bandwidth, and the best window of each is taken from the same spells.
    @Option(name: .long, help: "Seconds per window.")
    var seconds = 0.1

    @Option(name: .long, help: "Windows per side and measurement (store passes: half as many).")
    var rounds = 30

    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) { try measure() }
    }

    private func measure() throws(StrataError) {
        let c = try CEngineAPI.load()
        var rows: [JSONValue] = []
        if !output.json {
            print("strata bench abi: \(c.path), \(rounds) alternating windows of \(seconds) s per side")
            print(pad("measurement", 22) + pad("n", 9, left: true) + pad("Swift", 14, left: true) + pad("C ABI", 14, left: true)
                  + pad("C / Swift", 11, left: true))
        }
        func report(_ name: String, _ size: Int, _ swift: Double, _ cValue: Double, _ unit: String) {
            rows.append(.object(["measurement": .string(name), "n": .number(Double(size)), "unit": .string(unit),
                                 "swift": .number((swift * 100).rounded() / 100), "c": .number((cValue * 100).rounded() / 100),
                                 "c_over_swift": .number((cValue / swift * 1000).rounded() / 1000)]))
            if !output.json {
                print(pad(name, 22) + pad(String(size), 9, left: true) + fmt("%14.1f%14.1f%11.3f  ", swift, cValue, cValue / swift) + unit)
            }
            fflush(nil)
        }
        var rng = SplitMix64(seed: 42)
        let queries = rng.normalizedGaussian(rows: 100, dimension: 384)
        for size in sizes.n {
            let data = rng.normalizedGaussian(rows: size, dimension: 384)
            let swift = try Engine(configuration: EngineConfiguration(text: benchEngineConfig, source: "bench config"))
            let engine = try c.open(benchEngineConfig)
            defer { c.close(engine) }
            let (swiftStore, cStore) = try alternate(rounds: max(3, rounds / 2)) { (side: Int) throws(StrataError) -> Double in
                // Each pass stores into a fresh engine, dropped after; the measured pair is filled below.
                let t0 = benchNow()
                if side == 0 {
                    let e = try Engine(configuration: EngineConfiguration(text: benchEngineConfig, source: "bench config"))
                    try storeSwift(e, data, size)
                } else {
                    let e = try c.open(benchEngineConfig)
                    defer { c.close(e) }
                    try c.storeVectors(e, data, size)
                }
                return Double(size) / (benchNow() - t0)
            }
            report("store_vectors (/s)", size, swiftStore, cStore, "memories/s")
            try storeSwift(swift, data, size)
            try c.storeVectors(engine, data, size)
            let (swiftRecall, cRecall) = try alternate(rounds: rounds) { (side: Int) throws(StrataError) -> Double in
                try windowRate(seconds) { (i: Int) throws(StrataError) in
                    let q = queries.row(i % queries.rows)
                    if side == 0 { _ = try swift.recall(RecallQuery(vector: q, k: 10)) } else { try c.recallVector(engine, q) }
                }
            }
            report("recall_vector (QPS)", size, swiftRecall, cRecall, "QPS")
        }
        if sizes.textN > 0 {
            let swift = try Engine(configuration: EngineConfiguration(text: benchEngineConfig, source: "bench config"))
            let engine = try c.open(benchEngineConfig)
            defer { c.close(engine) }
            var s = 0
            while s < sizes.textN {
                let e = min(sizes.textN, s + 1000)
                _ = try swift.store((s..<e).map { NewMemory(benchContent($0)) })
                try c.storeText(engine, (s..<e).map(benchContent))
                s = e
            }
            let (swiftRecall, cRecall) = try alternate(rounds: rounds) { (side: Int) throws(StrataError) -> Double in
                try windowRate(seconds) { (i: Int) throws(StrataError) in
                    if side == 0 { _ = try swift.recall(RecallQuery(benchQuery(i), k: 10)) } else { try c.recall(engine, benchQuery(i)) }
                }
            }
            report("recall text (QPS)", sizes.textN, swiftRecall, cRecall, "QPS")
        }
        if output.json { printJSON(.object(["library": .string(c.path), "results": .array(rows)])) }
    }

    private func storeSwift(_ e: Engine, _ data: FloatMatrix, _ size: Int) throws(StrataError) {
        var s = 0
        while s < size {
            let end = min(size, s + 1000)
            _ = try e.store((s..<end).map { _ in NewMemory("") }, vectors: (s..<end).map { data.row($0) })
            s = end
        }
    }

    /// Runs `body(0)` (Swift) and `body(1)` (C) in turn `rounds` times; the best of each side.
    private func alternate(rounds: Int, _ body: (Int) throws(StrataError) -> Double) throws(StrataError) -> (Double, Double) {
        var best = (0.0, 0.0)
        for round in 0..<rounds {
            // Alternate who goes first, so neither side always follows the other.
            for side in round % 2 == 0 ? [0, 1] : [1, 0] {
                let rate = try body(side)
                if side == 0 { best.0 = max(best.0, rate) } else { best.1 = max(best.1, rate) }
            }
        }
        return best
    }

    /// Calls per second of `body` over one window.
    private func windowRate(_ seconds: Double, _ body: (Int) throws(StrataError) -> Void) throws(StrataError) -> Double {
        let t0 = benchNow()
        var calls = 0
        while benchNow() - t0 < seconds || calls < 3 {
            try body(calls)
            calls += 1
        }
        return Double(calls) / (benchNow() - t0)
    }
}

/// The few C ABI functions the benchmark calls, looked up in libstrata.so with dlsym.
struct CEngineAPI {
    typealias Open = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, UnsafePointer<CChar>?) -> Int32
    typealias Close = @convention(c) (OpaquePointer?) -> Void
    typealias Verb = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32
    typealias StoreVectors = @convention(c) (
        OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<Float>?, Int, Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    ) -> Int32
    typealias RecallVector = @convention(c) (
        OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<Float>?, Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    ) -> Int32
    typealias Free = @convention(c) (UnsafeMutablePointer<CChar>?) -> Void
    typealias LastError = @convention(c) () -> UnsafePointer<CChar>?

    let path: String
    let openFn: Open, closeFn: Close, storeFn: Verb, recallFn: Verb
    let storeVectorsFn: StoreVectors, recallVectorFn: RecallVector, freeFn: Free, lastError: LastError

    static func load() throws(StrataError) -> CEngineAPI {
        let path = getenv("STRATA_LIBRARY").map { String(cString: $0) } ?? (PluginLoader.libraryDirectory ?? ".") + "/libstrata.so"
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw StrataError(.io, "cannot load \(path): \(dlerror().map { String(cString: $0) } ?? "unknown error")")
        }
        func symbol<T>(_ name: String, _: T.Type) throws(StrataError) -> T {
            guard let p = dlsym(handle, name) else { throw StrataError(.plugin, "\(path) has no \(name)") }
            return unsafeBitCast(p, to: T.self)
        }
        return CEngineAPI(
            path: path, openFn: try symbol("strata_engine_open", Open.self), closeFn: try symbol("strata_engine_close", Close.self),
            storeFn: try symbol("strata_engine_store", Verb.self), recallFn: try symbol("strata_engine_recall", Verb.self),
            storeVectorsFn: try symbol("strata_engine_store_vectors", StoreVectors.self),
            recallVectorFn: try symbol("strata_engine_recall_vector", RecallVector.self),
            freeFn: try symbol("strata_string_free", Free.self), lastError: try symbol("strata_error_last", LastError.self))
    }

    private func check(_ status: Int32, _ what: String) throws(StrataError) {
        guard status == 0 else {
            throw StrataError(StrataError.Code(rawValue: status) ?? .internal, "\(what): \(lastError().map { String(cString: $0) } ?? "")")
        }
    }

    func open(_ config: String) throws(StrataError) -> OpaquePointer {
        var engine: OpaquePointer?
        try check(config.withCString { openFn(&engine, $0) }, "strata_engine_open")
        return engine!
    }

    func close(_ engine: OpaquePointer) { closeFn(engine) }

    func storeVectors(_ engine: OpaquePointer, _ data: FloatMatrix, _ size: Int) throws(StrataError) {
        var s = 0
        while s < size {
            let end = min(size, s + 1000)
            var out: UnsafeMutablePointer<CChar>?
            let status = data.values.withUnsafeBufferPointer { storeVectorsFn(engine, nil, $0.baseAddress! + s * data.dimension, end - s, data.dimension, &out) }
            freeFn(out)
            try check(status, "strata_engine_store_vectors")
            s = end
        }
    }

    func recallVector(_ engine: OpaquePointer, _ query: [Float]) throws(StrataError) {
        var out: UnsafeMutablePointer<CChar>?
        let status = query.withUnsafeBufferPointer { recallVectorFn(engine, "{\"k\": 10}", $0.baseAddress, $0.count, &out) }
        freeFn(out)
        try check(status, "strata_engine_recall_vector")
    }

    func storeText(_ engine: OpaquePointer, _ texts: [String]) throws(StrataError) {
        let request = JSONWriter.string(.object(["items": .array(texts.map { .object(["content": .string($0)]) })]))
        var out: UnsafeMutablePointer<CChar>?
        let status = request.withCString { storeFn(engine, $0, &out) }
        freeFn(out)
        try check(status, "strata_engine_store")
    }

    func recall(_ engine: OpaquePointer, _ query: String) throws(StrataError) {
        let request = JSONWriter.string(.object(["query": .string(query), "k": 10]))
        var out: UnsafeMutablePointer<CChar>?
        let status = request.withCString { recallFn(engine, $0, &out) }
        freeFn(out)
        try check(status, "strata_engine_recall")
    }
}
