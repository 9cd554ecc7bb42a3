import CStrataSIMD
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// Seconds on the monotonic clock.
func benchNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// This machine's limits, measured in the running process: the rates exact search is judged against.
enum MachineBounds {
    /// The CPU model from /proc/cpuinfo, or "unknown".
    static var cpuModel: String {
        guard let bytes = try? BenchFiles.readAll("/proc/cpuinfo") else { return "unknown" }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return String(line[line.index(after: colon)...].drop(while: { $0 == " " })) }
        }
        return "unknown"
    }

    static var onlineCores: Int { sysconf(Int32(_SC_NPROCESSORS_ONLN)) }
    /// OpenBLAS's threads, or nil without OpenBLAS.
    static var blasThreads: Int? { OpenBLASLibrary.shared.map { Int($0.threads()) } }

    /// Best GFLOP/s of C = A * B^T (A: m x k, B: n x k, row-major: the shape exact search runs)
    /// on OpenBLAS over `runs` runs; nil without OpenBLAS.
    static func sgemmGFLOPs(m: Int, n: Int, k: Int, runs: Int) -> Double? {
        guard let blas = OpenBLASLibrary.shared else { return nil }
        var rng = SplitMix64(seed: 7)
        let a = (0..<m * k).map { _ in Float(rng.uniform() - 0.5) }
        let b = (0..<n * k).map { _ in Float(rng.uniform() - 0.5) }
        var c = [Float](repeating: 0, count: m * n)
        var best = Double.infinity
        for run in 0...runs {  // run 0 warms up and is not counted
            let t0 = benchNow()
            c.withUnsafeMutableBufferPointer { cp in
                blas.sgemm(OpenBLASLibrary.rowMajor, OpenBLASLibrary.noTrans, OpenBLASLibrary.trans, Int32(m), Int32(n), Int32(k),
                           1, a, Int32(k), b, Int32(k), 0, cp.baseAddress, Int32(n))
            }
            let t = benchNow() - t0
            if run > 0 { best = min(best, t) }
        }
        blackHole(c[m * n / 2])
        return 2 * Double(m) * Double(n) * Double(k) / best / 1e9
    }

    /// Best GFLOP/s of the same product on Strata's packed-weight sgemm (`strata_gemm_packed`, the
    /// memory kernels' products), B packed once beforehand, the rows split in blocks of 8 over
    /// `threads` threads, over `runs` runs. The machine's sgemm bound is the better of this and
    /// OpenBLAS: a figure measured against a bound should not beat it only because one library
    /// was slower than the machine.
    static func packedSgemmGFLOPs(m: Int, n: Int, k: Int, threads: Int, runs: Int) -> Double {
        var rng = SplitMix64(seed: 7)
        let a = (0..<m * k).map { _ in Float(rng.uniform() - 0.5) }
        let b = (0..<n * k).map { _ in Float(rng.uniform() - 0.5) }
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: strata_gemm_packed_floats(n, k))
        defer { packed.deallocate() }
        strata_gemm_pack(b, n, k, packed)
        var c = [Float](repeating: 0, count: m * n)
        let blocks = (m + 7) / 8, parts = max(1, min(threads, blocks))
        var best = Double.infinity
        a.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { cp in
                let x = Int(bitPattern: ap.baseAddress!), y = Int(bitPattern: cp.baseAddress!), w = Int(bitPattern: packed)
                for run in 0...runs {
                    let t0 = benchNow()
                    DispatchQueue.concurrentPerform(iterations: parts) { p in
                        let lo = 8 * (blocks * p / parts), hi = min(m, 8 * (blocks * (p + 1) / parts))
                        let xs = UnsafePointer<Float>(bitPattern: x)! + lo * k, ys = UnsafeMutablePointer<Float>(bitPattern: y)! + lo * n
                        strata_gemm_packed(xs, hi - lo, k, k, UnsafePointer<Float>(bitPattern: w)!, n, nil, ys, n, 0, n, 0)
                    }
                    let t = benchNow() - t0
                    if run > 0 { best = min(best, t) }
                }
            }
        }
        blackHole(c[m * n / 2])
        return 2 * Double(m) * Double(n) * Double(k) / best / 1e9
    }

    /// Best GFLOP/s of numpy's float32 matmul (its own BLAS, often a newer OpenBLAS than
    /// Debian's) on C = A · Bᵀ, m x n x k, best of `runs` after a warm-up, in a python3 child;
    /// nil when python3 or numpy is not there.
    static func numpySgemmGFLOPs(m: Int, n: Int, k: Int, runs: Int) -> Double? {
        let script = """
            import time, numpy as np
            r = np.random.default_rng(7)
            a = r.standard_normal((\(m), \(k)), dtype=np.float32); b = r.standard_normal((\(n), \(k)), dtype=np.float32)
            a @ b.T
            best = min((lambda t0: (a @ b.T, time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(\(runs)))
            print(2 * \(m) * \(n) * \(k) / best / 1e9)
            """
        guard let child = try? ChildProcess.spawn(["-c", script], executable: "python3") else { return nil }
        let line = child.readLine(timeoutSeconds: 300)
        guard case .exited(0) = child.wait(), let line, let value = Double(line) else { return nil }
        return value
    }

    /// The machine's sgemm bound: the best of every sgemm on the machine (the packed kernel,
    /// Debian's OpenBLAS, numpy's when present), each at the given shape and at 2048³, so a
    /// figure is never judged against one slow library (issue 16: Debian's OpenBLAS 0.3.21 runs
    /// its SSE3 kernels on some Xeons).
    struct SgemmBound {
        let candidates: [(name: String, gflops: Double)]
        var best: (name: String, gflops: Double) { candidates.max { $0.gflops < $1.gflops }! }

        static func measure(m: Int, n: Int, k: Int, runs: Int = 3) -> SgemmBound {
            let threads = MachineBounds.onlineCores
            var c: [(String, Double)] = [
                ("packed sgemm \(m)x\(n)x\(k)", MachineBounds.packedSgemmGFLOPs(m: m, n: n, k: k, threads: threads, runs: runs)),
                ("packed sgemm 2048^3", MachineBounds.packedSgemmGFLOPs(m: 2048, n: 2048, k: 2048, threads: threads, runs: runs)),
            ]
            if let blas = MachineBounds.sgemmGFLOPs(m: m, n: n, k: k, runs: runs) { c.append(("OpenBLAS \(m)x\(n)x\(k)", blas)) }
            if let blas = MachineBounds.sgemmGFLOPs(m: 2048, n: 2048, k: 2048, runs: runs) { c.append(("OpenBLAS 2048^3", blas)) }
            if let numpy = MachineBounds.numpySgemmGFLOPs(m: 2048, n: 2048, k: 2048, runs: runs) { c.append(("numpy 2048^3", numpy)) }
            return SgemmBound(candidates: c)
        }

        var summary: String { candidates.map { "\($0.name) \(fmt("%.1f", $0.gflops))" }.joined(separator: ", ") }

        var json: JSONValue {
            .object(Dictionary(uniqueKeysWithValues: candidates.map { ($0.name, JSONValue.number(($0.gflops * 10).rounded() / 10)) }))
        }
    }

    /// Best streaming-read GB/s: `threads` threads each sum their share of a `bytes` buffer
    /// (16-float SIMD loads, 4 accumulators), best of `runs` runs after one warm-up.
    static func streamReadGBps(bytes: Int, threads: Int, runs: Int) -> Double {
        let chunk = 64  // floats per loop step: 4 x SIMD16
        let floats = bytes / 4 / (chunk * threads) * (chunk * threads)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64)
        defer { raw.deallocate() }
        let p = raw.bindMemory(to: Float.self, capacity: floats)
        p.initialize(repeating: 1e-6, count: floats)  // touches every page before timing
        return streamReadGBps(UnsafePointer(p), floats: floats, threads: threads, runs: runs)
    }

    /// The same over an existing buffer (e.g. the very vectors a benchmark searches), so the
    /// bound is measured on the same memory, close in time to the measurement it bounds.
    static func streamReadGBps(_ p: UnsafePointer<Float>, floats available: Int, threads: Int, runs: Int) -> Double {
        let chunk = 64
        let floats = available / (chunk * threads) * (chunk * threads)
        let raw = UnsafeRawPointer(p)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)
        defer { sums.deallocate() }
        let base = Int(bitPattern: raw), out = Int(bitPattern: sums)
        let share = floats / threads
        var best = Double.infinity
        for run in 0...runs {
            let t0 = benchNow()
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let start = UnsafeRawPointer(bitPattern: base)! + t * share * 4
                var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                var off = 0
                let end = share * 4
                while off < end {
                    a0 += start.load(fromByteOffset: off, as: SIMD16<Float>.self)
                    a1 += start.load(fromByteOffset: off + 64, as: SIMD16<Float>.self)
                    a2 += start.load(fromByteOffset: off + 128, as: SIMD16<Float>.self)
                    a3 += start.load(fromByteOffset: off + 192, as: SIMD16<Float>.self)
                    off += 256
                }
                UnsafeMutablePointer<Float>(bitPattern: out)![t] = (a0 + a1 + a2 + a3).sum()
            }
            let t = benchNow() - t0
            if run > 0 { best = min(best, t) }
            blackHole(sums[0])
        }
        return Double(floats * 4) / best / 1e9
    }

    /// Best streaming-read GB/s of OpenBLAS's own kernels over a `bytes` buffer: sasum (one
    /// vector) and sdot (two halves), each with OpenBLAS's threads. Returns (sasum, sdot); nil
    /// without OpenBLAS.
    static func blasReadGBps(bytes: Int, runs: Int) -> (sasum: Double, sdot: Double)? {
        guard let blas = OpenBLASLibrary.shared else { return nil }
        let floats = bytes / 4 / 2 * 2
        let p = UnsafeMutablePointer<Float>.allocate(capacity: floats)
        defer { p.deallocate() }
        p.initialize(repeating: 1e-6, count: floats)
        var bestAsum = Double.infinity, bestDot = Double.infinity
        for run in 0...runs {
            var t0 = benchNow()
            blackHole(blas.sasum(Int32(floats), p, 1))
            if run > 0 { bestAsum = min(bestAsum, benchNow() - t0) }
            t0 = benchNow()
            blackHole(blas.sdot(Int32(floats / 2), p, 1, p + floats / 2, 1))
            if run > 0 { bestDot = min(bestDot, benchNow() - t0) }
        }
        return (Double(floats * 4) / bestAsum / 1e9, Double(floats * 4) / bestDot / 1e9)
    }

    @inline(never)
    static func blackHole(_ x: Float) {
        if x == .infinity { printError("(unreachable)") }
    }
}
