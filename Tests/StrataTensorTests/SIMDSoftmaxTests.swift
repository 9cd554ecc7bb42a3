import CStrataSIMD
import Foundation
import StrataCore
import Testing

// strata_simd_softmax and strata_simd_entropy (Sources/CStrataSIMD/simd.c) compute e^x and ln x
// with polynomials so their loops vectorise; every kernel's attention weights and its
// read_entropy log come from them. Checked against float64 libm, with the 16-lane body and the
// tail both reached, masked (−∞) entries, large scores and zeros.
@Suite struct SIMDSoftmaxTests {
    @Test(arguments: [1, 5, 15, 16, 17, 64, 100])
    func softmaxMatchesFloat64AndGivesMaskedEntriesZero(n: Int) {
        var rng = SeededRandom(seed: UInt64(n))
        for spread in [1.0, 20.0, 300.0] {
            var v = (0..<n).map { _ in Float(rng.gaussian() * spread) }
            if n > 2 { v[1] = -.infinity }
            let top = Double(v.max()!)
            let e = v.map { $0 == -.infinity ? 0 : Foundation.exp(Double($0) - top) }
            let total = e.reduce(0, +)
            strata_simd_softmax(&v, n)
            let error = zip(v, e).map { abs(Double($0) - $1 / total) }.max()!
            #expect(error <= 1e-6, "n \(n), spread \(spread)")
            #expect(abs(v.reduce(0, +) - 1) <= 1e-5)
            if n > 2 { #expect(v[1] == 0) }
        }
    }

    @Test func aScoreFarBelowTheMaximumGetsZeroAndTheRestStillSumToOne() {
        var v: [Float] = [0, -50, -90, -200, 3]
        strata_simd_softmax(&v, 5)
        #expect(v[2] == 0 && v[3] == 0)
        #expect(v[1] > 0, "e^-53 is still a normal float")
        #expect(abs(v.reduce(0, +) - 1) <= 1e-6)
    }

    @Test func allMaskedGivesZeros() {
        var v = [Float](repeating: -.infinity, count: 20)
        strata_simd_softmax(&v, 20)
        #expect(v.allSatisfy { $0 == 0 })
    }

    @Test(arguments: [1, 7, 16, 33, 64])
    func entropyMatchesFloat64AndCountsZerosAsZero(n: Int) {
        var rng = SeededRandom(seed: UInt64(100 + n))
        var p = (0..<n).map { _ in Float(rng.uniform()) }
        if n > 3 { p[2] = 0; p[3] = 1e-30 }
        let total = p.reduce(0, +)
        p = p.map { $0 / total }
        let expected = -p.reduce(0.0) { $0 + ($1 > 0 ? Double($1) * Foundation.log(Double($1)) : 0) }
        let h = strata_simd_entropy(p, n)
        #expect(abs(Double(h) - expected) <= 1e-5 * max(1, expected), "n \(n): \(h) against \(expected)")
    }

    /// ln over the whole normal range, where the polynomial and the exponent split must agree.
    @Test func entropyOfOneValueIsMinusXLnXAcrossTheRange() {
        for exponent in stride(from: -125, through: 0, by: 5) {
            for mantissa: Float in [1, 1.2, 1.41, 1.42, 1.9] {
                let x = mantissa * Float(sign: .plus, exponent: exponent, significand: 1)
                guard x <= 1 else { continue }
                let h = strata_simd_entropy([x], 1)
                let expected = -Double(x) * Foundation.log(Double(x))
                #expect(abs(Double(h) - expected) <= 4e-7 * abs(expected) + 1e-45, "x \(x)")
            }
        }
    }
}
