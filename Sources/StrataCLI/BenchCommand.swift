import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataBackends
import StrataCore
import StrataEngine

/// `strata bench`: throughput of exact search and of the engine verbs, next to this machine's limits.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure exact search and engine throughput (see bench/README.md).",
        discussion: """
            Benchmarks are measurements, not checks: they exit 0 whatever the figures. Build with \
            `swift build -c release` before measuring; a debug build is many times slower.
            """,
        subcommands: [BenchSearchCommand.self, BenchAnnCommand.self, BenchGenerateCommand.self, BenchEngineCommand.self, BenchMachineCommand.self, BenchABICommand.self, BenchAnomaliesCommand.self, BenchKeywordCommand.self])
}

// MARK: - bench search

struct BenchSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Exact search on the built-in store over vectors read from files, next to sgemm and memory-bandwidth bounds.",
        discussion: """
            Loads --base into the built-in in-memory store (metric dot) and measures:
              batch   searchBatch over blocks of --batch queries: QPS and GFLOP/s (2 n d per query),
                      against the sgemm GFLOP/s of this machine (A x B^T, measured in the same run);
              single  search one query at a time: QPS and GB/s (n d 4 bytes read per query),
                      against the streaming-read GB/s of this machine (one thread and every core).
            recall@k is measured against --truth when given, otherwise against an exact brute-force \
            scan of the first 100 queries. Files: .fvecs / .ivecs (int32 dimension, then the row) or \
            .npy (2-D, C order; float32 vectors, int32/int64 neighbour ids).
            """)

    @Option(name: .long, help: "Base vectors to store (.fvecs or .npy float32).")
    var base: String

    @Option(name: .long, help: "Query vectors (.fvecs or .npy float32).")
    var queries: String

    @Option(name: .long, help: "Ground-truth neighbour ids, one row per query (.ivecs or .npy int32/int64).")
    var truth: String?

    @Option(name: .customShort("k"), help: "Neighbours per query.")
    var k = 10

    @Option(name: .long, help: "Queries per searchBatch call.")
    var batch = 1000

    @Option(name: .long, help: "Queries searched one at a time (0: skip the single-query measurement).")
    var single = 200

    @Option(name: .long, help: "Timed repetitions of the batch pass (the best and the median are reported).")
    var runs = 3

    @Option(name: .long, help: "Size of the streaming-read buffer in MiB.")
    var streamMib = 1024

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard k >= 1, k <= 10_000 else { throw ValidationError("-k must be in 1...10000") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard single >= 0, runs >= 1 else { throw ValidationError("--single must be >= 0 and --runs >= 1") }
        guard streamMib >= 64 else { throw ValidationError("--stream-mib must be at least 64") }
    }

    func run() throws {
        try withEngineErrors(json: output.json) { try measure() }
    }

    private func say(_ text: String) {
        if !output.json { print(text) }
        fflush(nil)
    }

    private func measure() throws(StrataError) {
        let baseM = try BenchFiles.readFloats(base)
        let queryM = try BenchFiles.readFloats(queries)
        guard baseM.dimension == queryM.dimension else {
            throw StrataError(.dimension, "\(base) has dimension \(baseM.dimension) but \(queries) has \(queryM.dimension)")
        }
        let n = baseM.rows, d = baseM.dimension, q = queryM.rows
        var truthRows: [[Int]]? = nil
        if let truth {
            let t = try BenchFiles.readInts(truth)
            guard t.rows >= q, t.columns >= k else {
                throw StrataError(.invalidArgument, "\(truth) holds \(t.rows) x \(t.columns) ids; need at least \(q) x \(k)")
            }
            truthRows = (0..<q).map { i in Array(t.values[i * t.columns..<i * t.columns + k]) }
        }
        say("strata bench search: \(n) base x \(q) queries, dimension \(d), k \(k)")
        say("machine: \(MachineBounds.cpuModel), \(MachineBounds.onlineCores) cores, OpenBLAS threads \(OpenBLASLibrary.threadsText)")

        // Store.
        let store = try InMemoryVectorStore(dimension: d, metric: .dot, name: "bench", index: .exact)
        let at = Timestamp(milliseconds: 0)
        let t0 = benchNow()
        var start = 0
        while start < n {
            let end = min(n, start + 1000)
            try store.upsert((start..<end).map { i in
                StoredRecord(memory: Memory(id: String(i), content: "", createdAt: at), vector: baseM.row(i))
            })
            start = end
        }
        let storeSeconds = benchNow() - t0
        say(fmt("store      %9.0f vectors/s  (%d upserts of 1000)", Double(n) / storeSeconds, (n + 999) / 1000))

        // Batch search.
        var batchTimes: [Double] = []
        var batchHits: [[Int]] = []
        for run in 0...runs {  // run 0 warms up
            var hits: [[Int]] = []
            hits.reserveCapacity(q)
            let t = benchNow()
            var s = 0
            while s < q {
                let e = min(q, s + batch)
                let block = Array(queryM.values[s * d..<e * d])
                for row in try store.searchBatch(block, count: e - s, k: k) { hits.append(row.map { Int($0.id) ?? -1 }) }
                s = e
            }
            let elapsed = benchNow() - t
            if run > 0 { batchTimes.append(elapsed) } else { batchHits = hits }
        }
        batchTimes.sort()
        let flopsPerQuery = 2 * Double(n) * Double(d)
        let batchBest = Double(q) / batchTimes[0], batchMedian = Double(q) / batchTimes[batchTimes.count / 2]

        // One query at a time.
        let singleCount = min(single, q)
        var singleTimes: [Double] = []
        var singleHits: [[Int]] = []
        if singleCount > 0 {
            let vectors = (0..<singleCount).map { queryM.row($0) }
            _ = try store.search(vectors[0], k: k, filter: nil)  // warm-up
            for run in 0..<2 {
                var hits: [[Int]] = []
                let t = benchNow()
                for v in vectors { hits.append(try store.search(v, k: k, filter: nil).map { Int($0.record.memory.id) ?? -1 }) }
                singleTimes.append(benchNow() - t)
                if run == 0 { singleHits = hits }
            }
            singleTimes.sort()
        }
        let bytesPerQuery = Double(n) * Double(d) * 4
        let singleBest = singleTimes.isEmpty ? 0 : Double(singleCount) / singleTimes[0]
        // Right after the single-query runs, on a buffer of the same size: this VM's bandwidth
        // moves by 2x from minute to minute, so a bound taken later alone can land below the
        // measurement it bounds.
        let streamNear = baseM.values.withUnsafeBufferPointer {
            MachineBounds.streamReadGBps($0.baseAddress!, floats: $0.count, threads: MachineBounds.onlineCores, runs: 5)
        }

        // Recall.
        var truthSource = "file \(truth ?? "")"
        let reference: [[Int]]
        if let truthRows {
            reference = truthRows
        } else {
            let sample = min(100, q)
            truthSource = "exact scan of the first \(sample) queries"
            reference = (0..<sample).map { bruteForce(baseM, queryM.row($0), k: k) }
        }
        let batchRecall = recall(batchHits, reference)
        let singleRecall = singleHits.isEmpty ? nil : recall(singleHits, reference)

        // Machine bounds, measured after the search so the store's pages are warm and equal for both.
        let block = InMemoryVectorStore.batchBlockRows(rows: n, queries: min(batch, q))
        let sgemm = MachineBounds.SgemmBound.measure(m: min(batch, q), n: block, k: d)
        let sgemmBound = sgemm.best.gflops
        let bytes = streamMib << 20
        let stream1 = MachineBounds.streamReadGBps(bytes: bytes, threads: 1, runs: 3)
        let streamAll = MachineBounds.streamReadGBps(bytes: bytes, threads: MachineBounds.onlineCores, runs: 3)
        let blas = MachineBounds.blasReadGBps(bytes: bytes, runs: 3)
        let streamBound = max(stream1, streamAll, blas?.sasum ?? 0, blas?.sdot ?? 0, streamNear)

        let batchGF = batchBest * flopsPerQuery / 1e9
        let singleGB = singleBest * bytesPerQuery / 1e9
        if !output.json {
            print(fmt("batch      %9.1f QPS best, %.1f median (%d runs, blocks of %d)  %.1f GFLOP/s  recall@%d %.4f",
                         batchBest, batchMedian, runs, min(batch, q), batchGF, k, batchRecall))
            if singleCount > 0 {
                print(fmt("single     %9.1f QPS (%d queries, best of 2)  %.2f GB/s  recall@%d %.4f",
                             singleBest, singleCount, singleGB, k, singleRecall ?? 0))
            }
            print(fmt("sgemm      %9.1f GFLOP/s bound, the best sgemm on this machine: ", sgemmBound) + sgemm.best.name
                  + " (of: \(sgemm.summary); OpenBLAS threads \(OpenBLASLibrary.threadsText))")
            print(fmt("stream     %9.2f GB/s bound, best of: SIMD sum 1 thread %.2f, %d threads %.2f; OpenBLAS sasum %.2f, sdot %.2f (%d MiB buffer); SIMD sum over the base vectors right after the single queries %.2f",
                         streamBound, stream1, MachineBounds.onlineCores, streamAll, blas?.sasum ?? .nan, blas?.sdot ?? .nan, streamMib, streamNear))
            print(fmt("ratio      batch %.1f%% of sgemm bound; single %.1f%% of stream bound", 100 * batchGF / sgemmBound,
                         100 * singleGB / streamBound))
            print("recall     against \(truthSource)")
        } else {
            func num(_ x: Double) -> JSONValue { .number((x * 1000).rounded() / 1000) }
            var singleJSON: JSONValue = .null
            if singleCount > 0 {
                singleJSON = .object([
                    "queries": .number(Double(singleCount)), "qps": num(singleBest), "gb_per_s": num(singleGB),
                    "bytes_per_query": .number(bytesPerQuery), "recall": num(singleRecall ?? 0),
                    "fraction_of_stream_bound": num(singleGB / streamBound),
                ])
            }
            printJSON(.object([
                "base": .string(base), "queries": .string(queries), "truth": truth.map { .string($0) } ?? .null,
                "n": .number(Double(n)), "dimension": .number(Double(d)), "query_count": .number(Double(q)), "k": .number(Double(k)),
                "recall_reference": .string(truthSource),
                "store": .object(["vectors_per_s": num(Double(n) / storeSeconds), "seconds": num(storeSeconds)]),
                "batch": .object([
                    "block": .number(Double(min(batch, q))), "runs": .number(Double(runs)), "qps": num(batchBest),
                    "qps_median": num(batchMedian), "gflop_per_s": num(batchGF), "flops_per_query": .number(flopsPerQuery),
                    "recall": num(batchRecall), "fraction_of_sgemm_bound": num(batchGF / sgemmBound),
                ]),
                "single": singleJSON,
                "machine": .object([
                    "cpu": .string(MachineBounds.cpuModel), "cores": .number(Double(MachineBounds.onlineCores)),
                    "openblas_threads": MachineBounds.blasThreads.map { .number(Double($0)) } ?? .null,
                    "sgemm_gflop_per_s": num(sgemmBound), "sgemm_best": .string(sgemm.best.name), "sgemm_candidates": sgemm.json,
                    "stream_read_gb_per_s": num(streamBound), "stream_read_1_thread_gb_per_s": num(stream1),
                    "stream_read_all_cores_gb_per_s": num(streamAll), "stream_read_openblas_sasum_gb_per_s": blas.map { num($0.sasum) } ?? .null,
                    "stream_read_openblas_sdot_gb_per_s": blas.map { num($0.sdot) } ?? .null, "stream_buffer_mib": .number(Double(streamMib)),
                    "stream_read_base_vectors_gb_per_s": num(streamNear),
                ]),
            ]))
        }
    }

    /// Exact top-k ids by a plain scalar loop: an independent reference for the store's answers.
    private func bruteForce(_ m: FloatMatrix, _ query: [Float], k: Int) -> [Int] {
        var scored: [(Float, Int)] = []
        scored.reserveCapacity(m.rows)
        m.values.withUnsafeBufferPointer { v in
            for r in 0..<m.rows {
                var s: Float = 0
                for j in 0..<m.dimension { s += v[r * m.dimension + j] * query[j] }
                scored.append((s, r))
            }
        }
        return scored.sorted { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }.prefix(k).map(\.1)
    }

    /// Mean fraction of the reference ids found, over the queries both lists cover.
    private func recall(_ found: [[Int]], _ reference: [[Int]]) -> Double {
        let count = min(found.count, reference.count)
        guard count > 0 else { return 0 }
        var total = 0.0
        for i in 0..<count {
            let want = Set(reference[i].prefix(k))
            total += Double(found[i].prefix(k).filter { want.contains($0) }.count) / Double(max(1, want.count))
        }
        return total / Double(count)
    }
}

// MARK: - bench generate

struct BenchGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write random base and query vectors (normalised Gaussian) as .fvecs, so benchmarks need no download.",
        discussion: "Writes DIR/base.fvecs and DIR/queries.fvecs; the same --seed gives the same files.")

    @Option(name: .long, help: "Folder to write into (created if missing).")
    var out: String

    @Option(name: .long, help: "Base vectors.")
    var n = 100_000

    @Option(name: .long, help: "Query vectors.")
    var queries = 1000

    @Option(name: .long, help: "Floats per vector.")
    var dim = 384

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 1

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard n >= 1, queries >= 1, dim >= 1, dim <= 65536 else {
            throw ValidationError("--n and --queries must be at least 1, --dim in 1...65536")
        }
    }

    func run() throws {
        try withEngineErrors(json: output.json) { () throws(StrataError) in
            if mkdir(out, 0o755) != 0 && errno != EEXIST {
                throw StrataError(.io, "cannot create \(out): \(String(cString: strerror(errno)))")
            }
            var rng = SplitMix64(seed: seed)
            let basePath = out + "/base.fvecs", queryPath = out + "/queries.fvecs"
            try BenchFiles.writeFvecs(basePath, rng.normalizedGaussian(rows: n, dimension: dim))
            try BenchFiles.writeFvecs(queryPath, rng.normalizedGaussian(rows: queries, dimension: dim))
            if output.json {
                printJSON(.object(["base": .string(basePath), "queries": .string(queryPath), "n": .number(Double(n)),
                                   "query_count": .number(Double(queries)), "dimension": .number(Double(dim))]))
            } else {
                print("wrote \(basePath) (\(n) x \(dim)) and \(queryPath) (\(queries) x \(dim))")
            }
        }
    }
}
