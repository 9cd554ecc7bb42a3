import CStrataSIMD
@testable import StrataBackends
import StrataCore
import StrataTesting
import Testing

/// ExactScan scores rows with CStrataSIMD's kernels: eight rows side by side for a matrix that
/// fits the cache, row after row for a larger one, one by one for a word of the allowed bitmap
/// that lets only some rows through. Every way must give the same rows and the same score bits
/// as a plain loop over `strata_simd_dot` (which the HNSW walk uses too).
@Suite struct ExactScanTests {
    /// The reference: each allowed row's dot by `strata_simd_dot`, the k best, ties to the lower row.
    func reference(_ m: [Float], _ q: [Float], rows: Range<Int>, d: Int, k: Int, l2: Bool, norms: [Float], qNorm: Float,
                   allowed: [UInt64]?) -> [(item: Int, score: Double)] {
        var scored: [(Int, Float)] = []
        for r in rows where allowed.map({ $0[r >> 6] & (1 << UInt64(r & 63)) != 0 }) ?? true {
            let dot = m.withUnsafeBufferPointer { mp in q.withUnsafeBufferPointer { strata_simd_dot(mp.baseAddress! + r * d, $0.baseAddress!, d) } }
            scored.append((r, l2 ? -(norms[r] - 2 * dot + qNorm) : dot))
        }
        return scored.sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }.prefix(k).map { (item: $0.0, score: Double($0.1)) }
    }

    @Test(arguments: [false, true], [17, 384])
    func everyKernelAndBitmapGivesThePlainLoopsRowsAndBits(l2: Bool, d: Int) {
        var rng = SeededRandom(seed: UInt64(d) * 2 + (l2 ? 1 : 0))
        let n = 1000
        let m = (0..<(n * d)).map { _ in Float(rng.gaussian()) }
        let q = (0..<d).map { _ in Float(rng.gaussian()) }
        let norms = (0..<n).map { r in m[(r * d)..<((r + 1) * d)].reduce(Float(0)) { $0 + $1 * $1 } }
        let qNorm = q.reduce(Float(0)) { $0 + $1 * $1 }
        // Bitmaps: none; every row; about one row in three (every word partial); whole words on
        // and off, with a partial word between.
        var sparse = [UInt64](repeating: 0, count: (n + 63) / 64)
        for r in 0..<n where rng.next() % 3 == 0 { sparse[r >> 6] |= 1 << UInt64(r & 63) }
        var blocks = [UInt64](repeating: 0, count: (n + 63) / 64)
        for w in blocks.indices { blocks[w] = w % 3 == 0 ? 0 : (w % 3 == 1 ? ~0 : 0x00FF_F0F0_0000_FFFF) }
        let bitmaps: [[UInt64]?] = [nil, [UInt64](repeating: ~0, count: (n + 63) / 64), sparse, blocks]
        // Ranges that start and end inside a word, on word boundaries, and shorter than one word.
        let ranges = [0..<n, 5..<997, 64..<640, 70..<100, 999..<1000]
        for allowed in bitmaps {
            for range in ranges {
                let want = reference(m, q, rows: range, d: d, k: 12, l2: l2, norms: norms, qNorm: qNorm, allowed: allowed)
                for sideBySide in [false, true] {
                    let got = m.withUnsafeBufferPointer { mp in
                        norms.withUnsafeBufferPointer { np in
                            q.withUnsafeBufferPointer { qp in
                                (allowed ?? []).withUnsafeBufferPointer { bits in
                                    ExactScan.scanRange(mp.baseAddress!, np.baseAddress!, range, d, qp.baseAddress!, qNorm, l2, 12,
                                                        allowed == nil ? nil : bits.baseAddress, nil, sideBySide: sideBySide)
                                }
                            }
                        }
                    }.sortedDescending()
                    let label = "range \(range), side by side \(sideBySide), bitmap \(allowed == nil ? "none" : "set")"
                    #expect(got.map(\.item) == want.map(\.item), "\(label)")
                    #expect(got.map { $0.score.bitPattern } == want.map { $0.score.bitPattern }, "\(label)")
                }
            }
        }
    }

    @Test func readsTheCacheSizeInSysfsForm() {
        #expect(LastLevelCache.parse("32768K\n") == 32 << 20)
        #expect(LastLevelCache.parse("2M") == 2 << 20)
        #expect(LastLevelCache.parse("1G") == 1 << 30)
        #expect(LastLevelCache.parse("4096") == 4096)
        for bad in ["", "K", "-5K", "12Q", "abc"] { #expect(LastLevelCache.parse(bad) == nil, "\(bad)") }
        #expect(LastLevelCache.bytes >= 1 << 20, "a last-level cache of at least 1 MiB, or the 8 MiB fallback")
    }
}
