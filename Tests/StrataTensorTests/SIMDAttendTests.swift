import CStrataSIMD
import Foundation
import StrataCore
import Testing

// strata_simd_attend and strata_simd_weighted_sum (Sources/CStrataSIMD/simd.c) are Ring's and KV's
// attention reads. The sum takes the rows four at a time with a tail, so the row counts below
// reach every tail; masked rows (weight 0) must not be read, which NaN rows would show.
@Suite struct SIMDAttendTests {
    /// The attention in double precision: softmax over the unmasked rows, then the weighted sum.
    static func reference(q: [Float], rows: [Float], mask: [Float], n: Int, d: Int, scale: Float) -> (weights: [Double], out: [Double]) {
        var scores = [Double](repeating: -.infinity, count: n)
        for i in 0..<n where mask[i] != 0 {
            var s = 0.0
            for j in 0..<d { s += Double(q[j]) * Double(rows[i * d + j]) }
            scores[i] = s * Double(scale)
        }
        let top = scores.max() ?? -.infinity
        var weights = scores.map { $0 == -.infinity ? 0 : Foundation.exp($0 - top) }
        let total = weights.reduce(0, +)
        if total > 0 { weights = weights.map { $0 / total } }
        var out = [Double](repeating: 0, count: d)
        for i in 0..<n where weights[i] != 0 {
            for j in 0..<d { out[j] += weights[i] * Double(rows[i * d + j]) }
        }
        return (weights, out)
    }

    @Test(arguments: [1, 3, 4, 5, 8, 9, 64], [16, 40, 1024])
    func theReadMatchesADoublePrecisionSoftmaxAndSkipsMaskedRows(n: Int, d: Int) {
        var rng = SeededRandom(seed: UInt64(n * 10_000 + d))
        let q = (0..<d).map { _ in Float(rng.gaussian()) }
        var rows = (0..<(n * d)).map { _ in Float(rng.gaussian()) }
        // Every third row masked (but never all of them), and filled with NaN: reading it would show.
        let mask: [Float] = (0..<n).map { n > 1 && $0 % 3 == 1 ? 0 : 1 }
        for i in 0..<n where mask[i] == 0 { for j in 0..<d { rows[i * d + j] = .nan } }
        let scale = 1 / Float(d).squareRoot()
        var weights = [Float](repeating: .nan, count: n), out = [Float](repeating: .nan, count: d)
        strata_simd_attend(q, rows, mask, n, d, scale, &weights, &out)
        let expected = Self.reference(q: q, rows: rows, mask: mask, n: n, d: d, scale: scale)
        let weightError = zip(weights, expected.weights).map { abs(Double($0) - $1) }.max()!
        let readError = zip(out, expected.out).map { abs(Double($0) - $1) }.max()!
        #expect(weightError <= 1e-6, "weights of \(n) rows of \(d)")
        #expect(readError <= 1e-5, "read of \(n) rows of \(d)")
        for i in 0..<n where mask[i] == 0 { #expect(weights[i] == 0) }
    }

    @Test func noUnmaskedRowGivesZeroWeightsAndAZeroRead() {
        let d = 24, n = 5
        let rows = [Float](repeating: .nan, count: n * d), q = [Float](repeating: 1, count: d)
        var weights = [Float](repeating: .nan, count: n), out = [Float](repeating: .nan, count: d)
        strata_simd_attend(q, rows, [Float](repeating: 0, count: n), n, d, 1, &weights, &out)
        #expect(weights.allSatisfy { $0 == 0 })
        #expect(out.allSatisfy { $0 == 0 })
    }

    /// The weighted sum alone, with weights of 0 scattered so the groups of four skip rows.
    @Test(arguments: [1, 2, 4, 6, 7, 13])
    func theWeightedSumAddsEveryRowOfNonZeroWeightOnce(n: Int) {
        let d = 33
        var rng = SeededRandom(seed: UInt64(n))
        var rows = (0..<(n * d)).map { _ in Float(rng.gaussian()) }
        let weights: [Float] = (0..<n).map { $0 % 4 == 2 ? 0 : Float(rng.uniform()) }
        for i in 0..<n where weights[i] == 0 { for j in 0..<d { rows[i * d + j] = .nan } }
        var out = [Float](repeating: .nan, count: d)
        strata_simd_weighted_sum(weights, rows, n, d, &out)
        for j in 0..<d {
            var e = 0.0
            for i in 0..<n where weights[i] != 0 { e += Double(weights[i]) * Double(rows[i * d + j]) }
            #expect(abs(Double(out[j]) - e) <= 1e-5, "column \(j) of \(n) rows")
        }
    }
}
