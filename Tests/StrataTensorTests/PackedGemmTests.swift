#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS
import CStrataSIMD
import StrataTensor
import Testing

// strata_gemm_pack / strata_gemm_packed (Sources/CStrataSIMD/gemm.c) and PackedLinear, against a
// naive double-precision product. Inputs come from a seeded generator, so a failure reproduces.

/// xorshift64*: the same numbers on every run.
private struct Seeded {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(Double(next() >> 40) / Double(1 << 24) * 2 - 1) }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }
    /// Small integers in [-4, 4]: every product and sum below 2^24 is exact in Float.
    mutating func integers(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Int(next() % 9) - 4) } }
}

/// One product's inputs: x [m x k] (row stride ldx), W [n x k], bias, the starting y [m x ldy].
private struct Case {
    let m: Int, n: Int, k: Int, ldx: Int, ldy: Int
    let x: [Float], w: [Float], bias: [Float]?, y0: [Float], packed: [Float]

    init(m: Int, n: Int, k: Int, ldx: Int? = nil, ldy: Int? = nil, bias: Bool = true, seed: UInt64, integers: Bool = false) {
        self.m = m
        self.n = n
        self.k = k
        self.ldx = ldx ?? k
        self.ldy = ldy ?? n
        var g = Seeded(seed)
        func values(_ count: Int) -> [Float] { integers ? g.integers(count) : g.floats(count) }
        x = values(m * self.ldx)
        w = values(n * k)
        self.bias = bias ? values(n) : nil
        y0 = values(m * self.ldy)
        var p = [Float](repeating: .nan, count: strata_gemm_packed_floats(n, k))
        strata_gemm_pack(w, n, k, &p)
        packed = p
    }

    /// y after strata_gemm_packed over `rows` and `columns` on `path` (nil: the CPU's own), starting
    /// from `start` (y0 when nil). Returns nil when this CPU cannot run `path`.
    func run(accumulate: Bool, rows: Range<Int>? = nil, columns: Range<Int>? = nil, path: Int32? = nil,
             start: [Float]? = nil) -> [Float]? {
        let rows = rows ?? 0..<m, cols = columns ?? 0..<n
        var y = start ?? y0
        var status: Int32 = 0
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                let xr = xp.baseAddress! + rows.lowerBound * ldx, yr = yp.baseAddress! + rows.lowerBound * ldy
                let acc: Int32 = accumulate ? 1 : 0
                if let path {
                    status = strata_gemm_packed_on_path(path, xr, rows.count, k, ldx, packed, n, bias, yr, ldy,
                                                        cols.lowerBound, cols.upperBound, acc)
                } else {
                    strata_gemm_packed(xr, rows.count, k, ldx, packed, n, bias, yr, ldy, cols.lowerBound, cols.upperBound, acc)
                }
            }
        }
        return status == 0 ? y : nil
    }

    /// The exact result in double, with each element's scale (Σ of the magnitudes that went in).
    func reference(accumulate: Bool) -> (value: [Double], scale: [Double]) {
        var value = y0.map(Double.init), scale = y0.map { abs(Double($0)) }
        for r in 0..<m {
            for j in 0..<n {
                var s = accumulate ? Double(y0[r * ldy + j]) : 0, a = abs(s)
                if let bias { s += Double(bias[j]); a += abs(Double(bias[j])) }
                for kk in 0..<k {
                    let p = Double(x[r * ldx + kk]) * Double(w[j * k + kk])
                    s += p
                    a += abs(p)
                }
                value[r * ldy + j] = s
                scale[r * ldy + j] = a
            }
        }
        return (value, scale)
    }
}

/// Largest |got - want| / max(scale, 1) over y; elements outside [0, m) x [0, n) (the ldy
/// padding) must come back untouched.
private func relativeError(_ c: Case, _ got: [Float], accumulate: Bool) -> Double {
    let (want, scale) = c.reference(accumulate: accumulate)
    var worst = 0.0
    for i in got.indices {
        if i % c.ldy >= c.n {
            if got[i].bitPattern != c.y0[i].bitPattern { return .infinity }
            continue
        }
        worst = max(worst, abs(Double(got[i]) - want[i]) / max(scale[i], 1))
    }
    return worst
}

private let paths: [Int32] = [Int32(STRATA_GEMM_PATH_C), Int32(STRATA_GEMM_PATH_AVX2), Int32(STRATA_GEMM_PATH_AVX512)]

@Suite struct PackedGemmTests {
    /// (m, n, k, ldx, ldy): tails in all three, k past two 1024-step runs, strides above the minimum.
    static let shapes: [(Int, Int, Int, Int?, Int?)] = [
        (1, 1, 1, nil, nil), (7, 17, 33, nil, nil), (32, 256, 256, nil, nil), (33, 1000, 257, nil, nil),
        (2, 15, 3, 5, 21), (9, 49, 513, 520, 64), (16, 48, 1, nil, nil), (1, 300, 700, nil, nil),
        (13, 40, 300, 301, 47), (5, 33, 2100, nil, 40),
    ]

    @Test func packedCopyIsPanelsOf16ColumnsKMajorZeroPadded() {
        let n = 20, k = 3
        let w = (0..<(n * k)).map { Float($0 + 1) }
        #expect(strata_gemm_panel_width() == 16 && strata_gemm_packed_floats(n, k) == 2 * 16 * k)
        var p = [Float](repeating: .nan, count: strata_gemm_packed_floats(n, k))
        strata_gemm_pack(w, n, k, &p)
        for panel in 0..<2 {
            for kk in 0..<k {
                for c in 0..<16 {
                    let j = panel * 16 + c
                    #expect(p[panel * 16 * k + kk * 16 + c] == (j < n ? w[j * k + kk] : 0))
                }
            }
        }
        #expect(strata_gemm_packed_floats(0, 5) == 0 && strata_gemm_packed_floats(17, 0) == 0)
    }

    @Test(arguments: 0..<shapes.count)
    func matchesADoublePrecisionProduct(_ i: Int) throws {
        let (m, n, k, ldx, ldy) = Self.shapes[i]
        for (accumulate, bias) in [(false, true), (false, false), (true, true), (true, false)] {
            let c = Case(m: m, n: n, k: k, ldx: ldx, ldy: ldy, bias: bias, seed: UInt64(i * 4 + 1))
            let y = try #require(c.run(accumulate: accumulate))
            let err = relativeError(c, y, accumulate: accumulate)
            #expect(err <= 1e-4, "\(m)x\(n)x\(k) accumulate \(accumulate) bias \(bias): error \(err)")
        }
    }

    @Test(arguments: 0..<shapes.count)
    func isExactWhenNothingRounds(_ i: Int) throws {
        // Small integers: every partial sum is an integer far below 2^24, so the result is exact.
        let (m, n, k, ldx, ldy) = Self.shapes[i]
        for accumulate in [false, true] {
            let c = Case(m: m, n: n, k: k, ldx: ldx, ldy: ldy, seed: UInt64(100 + i), integers: true)
            let y = try #require(c.run(accumulate: accumulate))
            #expect(relativeError(c, y, accumulate: accumulate) == 0, "\(m)x\(n)x\(k) accumulate \(accumulate)")
        }
    }

    @Test func splitsByColumnsAndRowsGiveTheSameBits() throws {
        for (m, n, k) in [(32, 256, 256), (33, 1000, 257), (7, 100, 1500), (5, 17, 9)] {
            for accumulate in [false, true] {
                let c = Case(m: m, n: n, k: k, ldy: n + 3, seed: UInt64(m * n + k))
                let full = try #require(c.run(accumulate: accumulate))
                // Column cuts at panel multiples (the last range ends at n), and rows cut unevenly.
                for cuts in [[0, 16, n], [0, 48, 96, 160, n], [0, 32, 64, n], [0, 16 * (n / 32), n]] {
                    let bounds = cuts.map { min($0, n) }
                    var y = c.y0
                    for (a, b) in zip(bounds, bounds.dropFirst()) where a < b {
                        for rows in [0..<(m / 3), (m / 3)..<m] where !rows.isEmpty {
                            y = try #require(c.run(accumulate: accumulate, rows: rows, columns: a..<b, start: y))
                        }
                    }
                    #expect(y.map(\.bitPattern) == full.map(\.bitPattern), "\(m)x\(n)x\(k) cuts \(cuts)")
                }
                // A cut inside a panel is still correct (the panel is computed twice).
                var y = try #require(c.run(accumulate: accumulate, columns: 0..<(n / 2 | 1)))
                y = try #require(c.run(accumulate: accumulate, columns: (n / 2 | 1)..<n, start: y))
                #expect(y.map(\.bitPattern) == full.map(\.bitPattern), "\(m)x\(n)x\(k) cut mid-panel")
            }
        }
    }

    @Test func everyCodePathGivesTheSameBits() throws {
        // The C path, AVX2 and AVX-512 (those this CPU runs) sum each element in the same order.
        for (i, (m, n, k, ldx, ldy)) in Self.shapes.enumerated() {
            let c = Case(m: m, n: n, k: k, ldx: ldx, ldy: ldy, seed: UInt64(200 + i))
            let own = try #require(c.run(accumulate: true))
            var ran = 0
            for path in paths {
                guard let y = c.run(accumulate: true, path: path) else {
                    if i == 0 { SIMDCoverage.skipped(path) }
                    continue
                }
                ran += 1
                #expect(y.map(\.bitPattern) == own.map(\.bitPattern), "\(m)x\(n)x\(k) path \(path)")
            }
            #expect(ran >= 1 && c.run(accumulate: true, path: Int32(strata_gemm_path())) != nil)
        }
    }

    @Test func emptyCallsTouchNothing() throws {
        let c = Case(m: 3, n: 20, k: 5, seed: 7)
        let bits = c.y0.map(\.bitPattern)
        #expect(try #require(c.run(accumulate: false, columns: 16..<16)).map(\.bitPattern) == bits)
        #expect(try #require(c.run(accumulate: false, rows: 1..<1)).map(\.bitPattern) == bits)
        // Columns 0..<3 of every row change, nothing else.
        let y = try #require(c.run(accumulate: false, columns: 0..<3))
        for i in y.indices where i % 20 >= 3 { #expect(y[i].bitPattern == bits[i]) }
    }

    @Test func packedLinearMatchesTheProductAndOpenBLAS() throws {
        let (rows, outputs, inputs) = (33, 70, 45)
        var g = Seeded(11)
        let w = g.floats(outputs * inputs), b = g.floats(outputs), x = g.floats(rows * inputs), y0 = g.floats(rows * outputs)
        #expect(PackedLinear.panelWidth == 16)
        for bias in [b, nil] {
            let layer = PackedLinear(weight: w, outputs: outputs, inputs: inputs, bias: bias)
            #expect(layer.outputs == outputs && layer.inputs == inputs && layer.bias == bias)
            for accumulate in [false, true] {
                var got = y0, blas = y0
                layer.apply(x, rows: rows, into: &got, accumulate: accumulate)
                w.withUnsafeBufferPointer { wp in
                    x.withUnsafeBufferPointer { xp in
                        b.withUnsafeBufferPointer { bp in
                            blas.withUnsafeMutableBufferPointer { yp in
                                // OpenBLAS, as the kernels computed their products before: bias first, then += x · wᵀ.
                                if bias != nil {
                                    for r in 0..<rows {
                                        for j in 0..<outputs { yp[r * outputs + j] = (accumulate ? yp[r * outputs + j] : 0) + bp[j] }
                                    }
                                }
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
                                            xp.baseAddress, Int32(inputs), wp.baseAddress, Int32(inputs),
                                            bias == nil && !accumulate ? 0 : 1, yp.baseAddress, Int32(outputs))
                            }
                        }
                    }
                }
                for i in got.indices {
                    let r = i / outputs, j = i % outputs
                    var want = accumulate ? Double(y0[i]) : 0, scale = abs(want)
                    if let bias { want += Double(bias[j]); scale += abs(Double(bias[j])) }
                    for kk in 0..<inputs {
                        let p = Double(x[r * inputs + kk]) * Double(w[j * inputs + kk])
                        want += p
                        scale += abs(p)
                    }
                    #expect(abs(Double(got[i]) - want) <= 1e-4 * max(scale, 1))
                    #expect(abs(got[i] - blas[i]) <= 1e-4 * Float(max(scale, 1)))
                }
                // Two column ranges (at a panel multiple) give the same bits as one call.
                var split = y0
                layer.apply(x, rows: rows, into: &split, accumulate: accumulate, columns: 0..<32)
                layer.apply(x, rows: rows, into: &split, accumulate: accumulate, columns: 32..<outputs)
                #expect(split.map(\.bitPattern) == got.map(\.bitPattern))
            }
        }
        // From pointers too, and the layer keeps its own copies of weights and bias.
        var wCopy = w, bCopy = b
        let layer = wCopy.withUnsafeBufferPointer { wp in
            bCopy.withUnsafeBufferPointer { PackedLinear(weight: wp.baseAddress!, outputs: outputs, inputs: inputs, bias: $0.baseAddress) }
        }
        var before = y0
        layer.apply(x, rows: rows, into: &before)
        for i in wCopy.indices { wCopy[i] = 0 }
        for i in bCopy.indices { bCopy[i] = 0 }
        var after = y0
        layer.apply(x, rows: rows, into: &after)
        #expect(after.map(\.bitPattern) == before.map(\.bitPattern) && after.contains { $0 != 0 })
    }
}

/// Says out loud which code paths this CPU could not run, and fails where the run asks for one
/// (`STRATA_REQUIRE_SIMD=avx512` or `avx2`): a path skipped without a word is a path untested.
enum SIMDCoverage {
    static func skipped(_ path: Int32) {
        let name = path == Int32(STRATA_GEMM_PATH_AVX512) ? "avx512" : path == Int32(STRATA_GEMM_PATH_AVX2) ? "avx2" : "c"
        FileHandleStderr.write("PackedGemmTests: the \(name) code path was NOT tested: this CPU does not run it\n")
        let required = (getenv("STRATA_REQUIRE_SIMD").map { String(cString: $0) } ?? "").split(separator: ",").map(String.init)
        #expect(!required.contains(name), "STRATA_REQUIRE_SIMD asks for \(name), which this CPU does not run")
    }
}

/// Writes to standard error without Foundation.
enum FileHandleStderr {
    static func write(_ text: String) {
        var t = text
        t.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
