import CStrataSIMD
import StrataCore

/// y = x · Wᵀ on the project's packed sgemm (CStrataSIMD's strata_gemm_*), split over the cores:
/// the products of exact search in batches and of the near-duplicate signatures.
///
/// Why not OpenBLAS: Debian's OpenBLAS 0.3.21 picks its CPU kernels from a table, and on newer
/// Xeons it falls back to its generic SSE3 ones, a fifth of the machine's speed (issue 16). The
/// packed sgemm chooses AVX-512, AVX2+FMA or plain C by what the CPU runs, at run time, and
/// every element comes out bit-identical however the product is split.
public struct PackedProduct {
    /// The packed copy of W, reused across calls (grown as needed).
    private var packed: UnsafeMutablePointer<Float>?
    private var capacity = 0

    public init() {}

    /// Frees the packed copy. Call when done (a struct cannot free in deinit).
    public mutating func release() {
        packed?.deallocate()
        packed = nil
        capacity = 0
    }

    /// y[m × n] (row stride n) = x[m × k] (row stride k) · W[n × k]ᵀ, W row-major.
    public mutating func multiply(x: UnsafePointer<Float>, m: Int, w: UnsafePointer<Float>, n: Int, k: Int,
                                  into y: UnsafeMutablePointer<Float>) {
        guard m > 0, n > 0, k > 0 else { return }
        let panel = strata_gemm_panel_width()
        let floats = strata_gemm_packed_floats(n, k)
        if floats > capacity {
            packed?.deallocate()
            packed = .allocate(capacity: floats)
            capacity = floats
        }
        let p = packed!
        let panels = (n + panel - 1) / panel
        let cores = ExactScan.threads(forFloats: (m + n) * k * 4)
        // Packing row range [16a, 16b) of W writes exactly panels a..<b of the packed copy, so
        // the cores pack disjoint panels.
        let packParts = max(1, min(cores, panels / 4))
        parallelFor(packParts) { part in
            let first = panels * part / packParts, last = panels * (part + 1) / packParts
            let r0 = first * panel, r1 = min(n, last * panel)
            if r1 > r0 { strata_gemm_pack(w + r0 * k, r1 - r0, k, p + r0 * k) }
        }
        // Wide W: split its panels (columns of y); narrow W: split the rows of x.
        if panels >= 4 * cores {
            parallelFor(cores) { part in
                let c0 = panels * part / cores * panel, c1 = min(n, panels * (part + 1) / cores * panel)
                if c1 > c0 { strata_gemm_packed(x, m, k, k, p, n, nil, y, n, c0, c1, 0) }
            }
        } else {
            let parts = max(1, min(cores, m / 8))
            parallelFor(parts) { part in
                let r0 = m * part / parts, r1 = m * (part + 1) / parts
                if r1 > r0 { strata_gemm_packed(x + r0 * k, r1 - r0, k, k, p, n, nil, y + r0 * n, n, 0, n, 0) }
            }
        }
    }
}
