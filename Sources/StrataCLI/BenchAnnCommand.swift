import ArgumentParser
import CStrataSIMD
#if canImport(Glibc)
import Glibc
#endif
import StrataBackends
import StrataCore

/// `strata bench ann`: the HNSW index on a prepared data folder (bench/ann_peers.py writes it and
/// runs hnswlib and faiss on the same files), one thread per query.
struct BenchAnnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract: "The HNSW index of the in-memory store on a data folder from bench/ann_peers.py: build time, memory, recall@10 and QPS per ef.",
        discussion: """
            The folder holds meta.json ({"n", "dim", "metric", "queries"}), base.f32 and queries.f32 \
            (row-major little-endian float32), truth.i32 (queries x 100 int32 rows of the exact top 100) \
            and, per filter percentage p, truth_f{p}.i32, where row r passes the filter when \
            r % 1000 < 10 p. The build links every row on every core; searches run one query at a \
            time on one thread.
            """)

    @Option(name: .long, help: "The data folder.")
    var data: String

    @Option(name: .long, help: "Links per node and layer.")
    var m = 16

    @Option(name: .long, help: "Candidates kept while linking.")
    var efConstruction = 200

    @Option(name: .long, help: "Threads for the build (the store uses every online core; recorded only).")
    var buildThreads = 2

    @Option(name: .long, help: "ef values to sweep, comma-separated.")
    var efSearch = "16,24,32,48,64,96,128,192,256"

    @Option(name: .long, help: "What the walks read, comma-separated: none (the float rows), fp16, int8 (each re-ranked on the float rows). The first one also runs the filters.")
    var compression = "none,int8"

    @Option(name: .long, help: "A graph file: restored from when it matches the data (the build is then skipped and reported as 0), written after a build otherwise. For repeated search runs.")
    var graphFile: String?

    @Option(name: .long, help: "Filter percentages, comma-separated (empty: none).")
    var filters = "10,1"

    @Option(name: .customShort("k"), help: "Neighbours per query.")
    var k = 10

    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) { try measure() }
    }

    private func say(_ text: String) {
        if !output.json { print(text) }
        fflush(nil)
    }

    private func raw<T>(_ name: String, as: T.Type) throws(StrataError) -> [T] {
        let bytes = try BenchFiles.readAll(data + "/" + name)
        guard bytes.count % MemoryLayout<T>.size == 0 else {
            throw StrataError(.corrupt, "\(data)/\(name): \(bytes.count) bytes is not a whole number of \(MemoryLayout<T>.size)-byte values")
        }
        return bytes.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
    }

    private func measure() throws(StrataError) {
        let meta = try JSONParser.parse(String(decoding: try BenchFiles.readAll(data + "/meta.json"), as: UTF8.self), what: "\(data)/meta.json")
        guard case .object(let fields) = meta, case .number(let nd)? = fields["n"], case .number(let dd)? = fields["dim"],
              case .string(let metricName)? = fields["metric"], let metric = Metric(rawValue: metricName) else {
            throw StrataError(.invalidArgument, "\(data)/meta.json needs n, dim and metric (cosine, dot or l2)")
        }
        let n = Int(nd), d = Int(dd)
        let base: [Float] = try raw("base.f32", as: Float.self)
        let queries: [Float] = try raw("queries.f32", as: Float.self)
        let truth: [Int32] = try raw("truth.i32", as: Int32.self)
        guard base.count == n * d, queries.count % d == 0 else {
            throw StrataError(.dimension, "\(data): base.f32 holds \(base.count) floats, expected \(n) x \(d)")
        }
        let q = queries.count / d
        guard truth.count == q * 100 else { throw StrataError(.invalidArgument, "\(data)/truth.i32 must hold \(q) x 100 ids") }
        let percents = filters.split(separator: ",").compactMap { Double(String($0).filter { $0 != " " }) }
        let efs = efSearch.split(separator: ",").compactMap { Int(String($0).filter { $0 != " " }) }
        var kinds: [VectorIndexSettings.Compression] = []
        for name in compression.split(separator: ",") {
            guard let kind = VectorIndexSettings.Compression(rawValue: String(name).filter { $0 != " " }) else {
                throw StrataError(.invalidArgument, "--compression: \"\(name)\" is not none, fp16 or int8")
            }
            kinds.append(kind)
        }
        guard let firstKind = kinds.first else { throw StrataError(.invalidArgument, "--compression: name at least one of none, fp16, int8") }
        say("strata bench ann: \(n) x \(d) \(metric.rawValue), \(q) queries, m \(m), ef_construction \(efConstruction); \(MachineBounds.cpuModel), \(MachineBounds.onlineCores) cores")

        let settings = VectorIndexSettings(kind: .hnsw, m: m, efConstruction: max(efConstruction, m), efSearch: 64, compression: firstKind)
        let store = try InMemoryVectorStore(dimension: d, metric: metric, name: "bench", keywordSearch: false, index: settings)
        let at = Timestamp(milliseconds: 0)
        let records = (0..<n).map { i in
            var metadata: [String: JSONValue] = [:]
            for p in percents { metadata[key(p)] = .bool(i % 1000 < Int(p * 10)) }
            return StoredRecord(memory: Memory(id: String(i), content: "", metadata: metadata, createdAt: at),
                                vector: Array(base[i * d..<(i + 1) * d]))
        }
        // The baseline is taken with the loading's freed memory handed back to the kernel: the
        // store trims the heap after a build (`strata_heap_trim`), which would otherwise release
        // this command's own garbage (files read, each record's metadata as it grew) inside the
        // measured span and credit it to the store.
        strata_heap_trim()
        let rssBefore = residentBytes()
        let t0 = benchNow()
        if let graphFile {
            store.beginRestore(graphFile: graphFile)
            try store.upsert(records)
            if let report = store.endRestore(graphFile: graphFile) { say(report) }
        } else {
            try store.upsert(records)
        }
        let buildSeconds = benchNow() - t0
        if let graphFile { try store.saveGraph(to: graphFile) }
        let graph = store.graphStats ?? (nodes: 0, bytes: 0)
        let indexBytes = store.vectorBytes + graph.bytes  // vectors (and norms for l2), links
        say(fmt("build      %.1f s on %d cores; vectors + graph %.1f MB (graph %.1f MB); store RSS +%.1f MB",
                buildSeconds, MachineBounds.onlineCores, Double(indexBytes) / 1e6, Double(graph.bytes) / 1e6,
                Double(residentBytes() - rssBefore) / 1e6))

        let vectors = (0..<q).map { Array(queries[$0 * d..<($0 + 1) * d]) }
        // QPS by this thread's CPU time too: on a busy 2-core machine the wall clock also counts
        // the time other processes held the core.
        func sweep(ef: Int, filter: Filter?, truthRows: [Int32], passes: Int = 2) throws(StrataError) -> (recall: Double, qps: Double, cpuQPS: Double) {
            var best = Double.infinity, bestCPU = Double.infinity
            var found = 0, expected = 0
            for pass in 0..<passes {
                var hitsFound = 0, hitsExpected = 0
                let t = benchNow(), c = threadCPUSeconds()
                for (i, v) in vectors.enumerated() {
                    let hits = try store.search(v, k: k, filter: filter, ef: ef)
                    if pass == 0 {
                        let want = Set(truthRows[i * 100..<i * 100 + k].filter { $0 >= 0 })
                        hitsExpected += want.count
                        hitsFound += hits.filter { want.contains(Int32($0.record.memory.id) ?? -1) }.count
                    }
                }
                best = min(best, benchNow() - t)
                bestCPU = min(bestCPU, threadCPUSeconds() - c)
                if pass == 0 { found = hitsFound; expected = hitsExpected }
            }
            return (Double(found) / Double(max(expected, 1)), Double(q) / best, Double(q) / max(bestCPU, 1e-9))
        }

        var searches: [JSONValue] = []
        var compressed: [String: JSONValue] = [:]
        var codeBytes: [String: JSONValue] = [:]
        // The store's resident growth while each kind of walk is in use: the compressed copies
        // live only while a walk reads them, so a single figure at the end would leave them out.
        var residentByKind: [String: JSONValue] = [:]
        for kind in kinds {
            store.useCompression(kind)
            let bytes = store.graphCodeBytes
            if kind != .none {
                codeBytes[kind.rawValue] = .number(Double(bytes))
                say("walks on \(kind.rawValue): " + fmt("copies %.1f MB (the float rows: %.1f MB)", Double(bytes) / 1e6, Double(n * d * 4) / 1e6))
            }
            var rows: [JSONValue] = []
            for ef in efs {
                let r = try sweep(ef: ef, filter: nil, truthRows: truth)
                say(fmt("ef %4d ", ef) + kind.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)
                    + fmt(" recall@%d %.4f   %8.0f QPS (one thread; %8.0f per CPU second)", k, r.recall, r.qps, r.cpuQPS))
                rows.append(.object(["ef": .number(Double(ef)), "recall_at_10": .number(r.recall), "qps": .number(r.qps),
                                     "cpu_qps": .number(r.cpuQPS)]))
            }
            residentByKind[kind.rawValue] = .number(Double(residentBytes() - rssBefore))
            if kind == firstKind { searches = rows } else { compressed[kind.rawValue] = .array(rows) }
        }
        store.useCompression(firstKind)
        var filtered: [JSONValue] = []
        for p in percents {
            let name = "truth_f\(p == p.rounded() ? String(Int(p)) : String(p)).i32"
            let t: [Int32] = try raw(name, as: Int32.self)
            let filter = Filter.condition(path: ["metadata", key(p)], .eq(.bool(true)))
            let plan = store.plan(k: k, filter: filter)
            let r = try sweep(ef: 64, filter: filter, truthRows: t)
            say(fmt("filter %5.1f%%  plan ", p) + plan + fmt("  recall@%d %.4f   %8.0f QPS (%8.0f per CPU second)", k, r.recall, r.qps, r.cpuQPS))
            filtered.append(.object(["percent": .number(p), "plan": .string(plan), "recall_at_10": .number(r.recall), "qps": .number(r.qps),
                                     "cpu_qps": .number(r.cpuQPS)]))
        }
        // Exact batched search on every core, for reference.
        let block = Array(queries[0..<min(q, 1000) * d])
        let tb = benchNow()
        _ = try store.searchBatch(block, count: min(q, 1000), k: k)
        let batchQPS = Double(min(q, 1000)) / (benchNow() - tb)
        say(fmt("exact      %8.0f QPS batched (searchBatch, every core)", batchQPS))
        if output.json {
            printJSON(.object([
                "index": "hnsw", "cpu": .string(MachineBounds.cpuModel), "cores": .number(Double(MachineBounds.onlineCores)),
                "n": .number(Double(n)), "dim": .number(Double(d)), "metric": .string(metric.rawValue),
                "m": .number(Double(m)), "ef_construction": .number(Double(efConstruction)),
                "build_seconds": .number(buildSeconds), "memory_bytes": .number(Double(indexBytes)),
                "graph_bytes": .number(Double(graph.bytes)), "store_rss_bytes": .number(Double(residentBytes() - rssBefore)),
                "store_rss_bytes_by_compression": .object(residentByKind),
                "compression": .string(firstKind.rawValue), "searches": .array(searches),
                "compressed": .object(compressed), "code_bytes": .object(codeBytes), "filtered": .array(filtered),
                "exact": .object(["qps_batch": .number(batchQPS)]),
            ]))
        }
        // The data stays alive through the last resident figure: an array may be freed after its
        // last use, and its pages leaving inside the measured span would be taken off the store's
        // growth (the base rows alone are as big as the store's matrix).
        withExtendedLifetime(base) {}
        withExtendedLifetime(records) {}
    }

    private func key(_ p: Double) -> String { "pass_\(p)" }
}

/// CPU seconds this thread has run (user and system).
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// This process's resident set in bytes (VmRSS of /proc/self/status), 0 where unknown.
func residentBytes() -> Int {
    guard let bytes = try? BenchFiles.readAll("/proc/self/status") else { return 0 }
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}
