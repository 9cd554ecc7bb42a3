import CStrataSIMD
import StrataCore
import Testing

// strata_simd_dots (Sources/CStrataSIMD/simd.c) computes many dot products in blocks of 4 rows x 4
// vectors, 2 x 4, 8 rows x 1 vector and 1 x 1; PMM's scores and its bit-for-bit guarantees (a sequence equals its
// steps, any thread split gives the same bits) rest on every block giving strata_simd_dot's bits.
@Suite struct SIMDDotsTests {
    /// Counts and vector numbers that reach every block and every tail; widths with and without a
    /// tail after the 16-float chunks.
    @Test(arguments: [1, 2, 3, 4, 5, 7, 8, 9, 17], [16, 40, 1024])
    func everyProductHasTheBitsOfOneDot(count: Int, d: Int) {
        var rng = SeededRandom(seed: UInt64(count * 1000 + d))
        for nvec in [1, 3, 4, 5, 8, 9] {
            let rows = (0..<(count * d)).map { _ in Float(rng.gaussian()) }
            let vectors = (0..<(nvec * d)).map { _ in Float(rng.gaussian()) }
            var out = [Float](repeating: .nan, count: count * nvec)
            strata_simd_dots(rows, count, vectors, nvec, d, &out)
            var mismatches = 0
            for k in 0..<nvec {
                for i in 0..<count {
                    let one = rows.withUnsafeBufferPointer { r in
                        vectors.withUnsafeBufferPointer { v in strata_simd_dot(r.baseAddress! + i * d, v.baseAddress! + k * d, d) }
                    }
                    if out[k * count + i].bitPattern != one.bitPattern { mismatches += 1 }
                }
            }
            #expect(mismatches == 0, "\(count) rows x \(nvec) vectors of \(d)")
        }
    }
}
