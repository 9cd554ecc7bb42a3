import CStrataSIMD
import Glibc
import StrataCore

/// The few vector operations the kernels are built from besides their matrix products
/// (`PackedLinear`): most are CStrataSIMD's loops, built for AVX-512, AVX2 and baseline x86-64.
public enum TensorMath {
    /// Softmax of `count` values in place (max-subtracted, so large scores do not overflow; −∞
    /// gives 0). CStrataSIMD's vector loop: e^x within a few ulp of libm's.
    public static func softmax(_ v: UnsafeMutablePointer<Float>, count: Int) {
        strata_simd_softmax(v, count)
    }

    /// -Σ p log p over `count` probabilities (0 log 0 = 0). CStrataSIMD's vector loop.
    public static func entropy(_ p: UnsafePointer<Float>, count: Int) -> Float {
        strata_simd_entropy(p, count)
    }

    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    /// σ of `count` values in place (CStrataSIMD's vector loop; within a few ulp of 1 / (1 + expf(−x))).
    public static func sigmoid(_ v: UnsafeMutablePointer<Float>, count: Int) {
        strata_simd_sigmoid(v, count)
    }

    /// tanh of `count` values in place (CStrataSIMD: Cephes' polynomial below |x| 0.625,
    /// 1 − 2 / (e^{2|x|} + 1) above; within a few ulp of libm). Each value's result does not
    /// depend on its place in the buffer.
    public static func tanh(_ v: UnsafeMutablePointer<Float>, count: Int) {
        strata_simd_tanh(v, count)
    }

    /// Σ a·b over `count` floats (AVX-512, AVX2 or SSE, as the CPU has: CStrataSIMD).
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        strata_simd_dot(a, b, count)
    }

    /// out[width] = Σᵢ weights[i] · rows[i], over `count` rows of `width` floats (an attention
    /// read); rows of weight 0 (masked slots) are skipped. One row after another, for rows read
    /// from memory once (KV's values): `strata_simd_weighted_sum` takes four side by side, which
    /// suits rows already in cache but ran 0.85-1.06x this in a C model of KV's pass.
    public static func weightedSum(
        _ weights: UnsafePointer<Float>, rows: UnsafePointer<Float>, count: Int, width: Int, into out: UnsafeMutablePointer<Float>
    ) {
        out.update(repeating: 0, count: width)
        for i in 0..<count where weights[i] != 0 { strata_simd_axpy(weights[i], rows + i * width, out, width) }
    }

    /// y += alpha · x over `count` floats.
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        strata_simd_axpy(alpha, x, y, count)
    }

    /// x *= alpha over `count` floats.
    public static func scale(_ alpha: Float, _ x: UnsafeMutablePointer<Float>, count: Int) {
        strata_simd_scale(alpha, x, count)
    }

    /// out += weight · y, then y = (1 − t) · y + t · x, over `count` floats in one pass.
    public static func readLerp(
        _ weight: Float, _ t: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        into out: UnsafeMutablePointer<Float>, count: Int
    ) {
        strata_simd_read_lerp(weight, t, x, y, out, count)
    }

    /// y = (1 − t) · y + t · x over `count` floats.
    public static func lerp(_ t: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        strata_simd_lerp(t, x, y, count)
    }
}

/// Reusable scratch buffers, so a step allocates nothing once the pool is warm. Concurrent calls
/// (different states, one kernel) each take their own buffer.
public final class ScratchPool: @unchecked Sendable {
    /// Idle buffers and their capacities in floats.
    private var free: [UnsafeMutablePointer<Float>: Int] = [:]
    private var made = 0
    private let lock = ReadWriteLock()

    public init() {}

    /// Buffers made so far (idle or in use): as many as calls ever ran at once, once warm, however
    /// the sizes asked for alternate.
    public var bufferCount: Int { lock.withReadLock { made } }

    /// Runs `body` with a buffer of at least `count` floats (contents undefined): the smallest idle
    /// buffer that is large enough; else the largest idle one grown to `count` (so alternating
    /// sizes, a step then a sequence, settle on one buffer); else a new one.
    public func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws(StrataError) -> R) throws(StrataError) -> R {
        let want = max(count, 1)
        let (buffer, capacity): (UnsafeMutablePointer<Float>, Int) = lock.withWriteLock {
            // A plain loop: filter or sorted would allocate.
            var fit: (UnsafeMutablePointer<Float>, Int)?, largest: (UnsafeMutablePointer<Float>, Int)?
            for (p, c) in free {
                if c >= want, c < fit?.1 ?? Int.max { fit = (p, c) }
                if c > largest?.1 ?? -1 { largest = (p, c) }
            }
            if let fit {
                free[fit.0] = nil
                return fit
            }
            if let largest {
                free[largest.0] = nil
                largest.0.deallocate()
            } else {
                made += 1
            }
            return (UnsafeMutablePointer<Float>.allocate(capacity: want), want)
        }
        defer { lock.withWriteLock { free[buffer] = capacity } }
        return try body(buffer)
    }

    deinit { for (p, _) in free { p.deallocate() } }
}
