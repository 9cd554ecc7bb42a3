import CStrataSIMD
import StrataCore

/// The exact-search kernels behind `InMemoryVectorStore`: fused score-and-select over rows of a
/// row-major matrix, split across cores.
///
/// Why fused: a query against 100k x 384 floats reads 150 MB and does little arithmetic per byte,
/// so the scan is bound by memory bandwidth. Writing every score to a buffer and selecting after
/// costs a second pass; here each row's score is compared with the running k-th best while the
/// row is still in registers, and the (optional) acceptance test, such as a metadata filter, runs
/// only for rows that would enter the top k. The result is identical to filtering first.
enum ExactScan {
    /// Below this many floats a scan stays on the calling thread: splitting costs more than it saves.
    static let parallelThreshold = 1 << 18

    /// How many threads to use for a scan of `floats` floats.
    static func threads(forFloats floats: Int) -> Int {
        guard floats >= parallelThreshold else { return 1 }
        return max(1, min(cores, floats / parallelThreshold))
    }

    static let cores = max(1, sysconfCores())

    /// Matrices of at most this many bytes are scored eight rows side by side
    /// (`strata_simd_dots`), larger ones row after row (`strata_simd_dot`): half the last-level
    /// cache, so the rows a scan reads are likely still there from the last one. See
    /// `strata_simd_dots` for the measurements.
    static let sideBySideBytes = LastLevelCache.bytes / 2

    /// Scores rows `rows` against `query` and keeps the k best that `accept` lets through.
    ///
    /// - Parameters:
    ///   - matrix: row-major, `dimension` floats per row.
    ///   - norms: squared row norms, read only when `l2`.
    ///   - queryNorm: squared query norm, used only when `l2`.
    ///   - allowed: a bitmap of rows that may match (one bit per row); other rows are skipped
    ///     without reading their vectors. nil: every row may match.
    ///   - accept: called only for rows whose score beats the current k-th best; nil accepts all.
    ///     Must be safe to call from several threads at once.
    /// - Returns: row indices with scores. Ties keep the lower row, as a sequential scan would.
    static func topK(
        matrix: UnsafePointer<Float>, norms: UnsafePointer<Float>, rows: Int, dimension: Int,
        query: UnsafePointer<Float>, queryNorm: Float, l2: Bool, k: Int,
        allowed: UnsafePointer<UInt64>? = nil, accept: ((Int) -> Bool)?
    ) -> [(item: Int, score: Double)] {
        let parts = threads(forFloats: rows * dimension)
        let sideBySide = rows * dimension * 4 <= sideBySideBytes
        if parts == 1 {
            return scanRange(matrix, norms, 0..<rows, dimension, query, queryNorm, l2, k, allowed, accept, sideBySide: sideBySide)
                .sortedDescending()
        }
        var partial = [TopK<Int>](repeating: TopK<Int>(k: k), count: parts)
        partial.withUnsafeMutableBufferPointer { out in
            let share = (rows + parts - 1) / parts
            parallelFor(parts) { p in
                let range = min(rows, p * share)..<min(rows, (p + 1) * share)
                out[p] = scanRange(matrix, norms, range, dimension, query, queryNorm, l2, k, allowed, accept, sideBySide: sideBySide)
            }
        }
        // Merge in row order so that among equal scores the earlier row wins.
        var merged = TopK<Int>(k: k)
        for part in partial {
            for hit in part.sortedDescending().sorted(by: { $0.item < $1.item }) { merged.insert(hit.item, score: hit.score) }
        }
        return merged.sortedDescending()
    }

    /// One thread's share of `topK`.
    ///
    /// Rows are scored 64 at a time (one word of `allowed`) by CStrataSIMD's kernels, which the
    /// loader picks for the CPU (AVX-512, AVX2 or baseline): with `sideBySide` (a matrix that
    /// stays in cache) eight rows at once, otherwise row after row. A word with only some rows
    /// allowed scores just those. All give `strata_simd_dot`'s bits (the HNSW walk's too), and
    /// rows are offered to the top k in row order.
    static func scanRange(
        _ matrix: UnsafePointer<Float>, _ norms: UnsafePointer<Float>, _ range: Range<Int>, _ dimension: Int,
        _ query: UnsafePointer<Float>, _ queryNorm: Float, _ l2: Bool, _ k: Int,
        _ allowed: UnsafePointer<UInt64>?, _ accept: ((Int) -> Bool)?, sideBySide: Bool
    ) -> TopK<Int> {
        var top = TopK<Int>(k: k)
        var threshold = -Float.infinity
        @inline(__always) func offer(_ row: Int, _ dot: Float) {
            let score = l2 ? -(norms[row] - 2 * dot + queryNorm) : dot
            if score > threshold, accept?(row) ?? true {
                top.insert(row, score: Double(score))
                threshold = Float(top.threshold)  // exact: every kept score came from a Float
            }
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 64) { scores in
            var row = range.lowerBound
            while row < range.upperBound {
                let end = min(range.upperBound, (row | 63) + 1)  // to the end of row's word
                let count = end - row
                if let allowed {
                    let all: UInt64 = count == 64 ? ~0 : (1 << UInt64(count)) - 1
                    var bits = (allowed[row >> 6] >> UInt64(row & 63)) & all
                    if bits != all {
                        while bits != 0 {
                            let i = row + bits.trailingZeroBitCount
                            offer(i, strata_simd_dot(matrix + i * dimension, query, dimension))
                            bits &= bits - 1
                        }
                        row = end
                        continue
                    }
                }
                if sideBySide {
                    strata_simd_dots(matrix + row * dimension, count, query, 1, dimension, scores.baseAddress!)
                    for i in 0..<count { offer(row + i, scores[i]) }
                } else {
                    for i in row..<end { offer(i, strata_simd_dot(matrix + i * dimension, query, dimension)) }
                }
                row = end
            }
        }
        return top
    }

    /// Adds the scores of one block to each query's top k: `scores` holds `queries` rows of
    /// `rows` scores (query-major), for matrix rows `firstRow ..< firstRow + rows`. The queries
    /// are split across cores; most scores fail the threshold test and cost one compare.
    static func selectBlock(
        scores: UnsafePointer<Float>, queries: Int, rows: Int, firstRow: Int,
        norms: UnsafePointer<Float>, queryNorms: UnsafePointer<Float>, l2: Bool,
        tops: UnsafeMutableBufferPointer<TopK<Int>>, allowed: UnsafePointer<UInt64>? = nil
    ) {
        let parts = threads(forFloats: queries * rows * 4)  // selection is cheaper per float than a scan
        let share = (queries + parts - 1) / parts
        let body = { (p: Int) in
            for q in min(queries, p * share)..<min(queries, (p + 1) * share) {
                let line = scores + q * rows
                let qNorm = queryNorms[q]
                var threshold = Float(tops[q].threshold)
                var r = 0
                // Sixteen scores at a time: once the top k fills, nearly every chunk fails one
                // vector compare and is skipped.
                while r < rows {
                    let end = min(rows, r + 16)
                    if end - r == 16, !l2 {
                        let raw = UnsafeRawPointer(line + r)
                        let t = SIMD4<Float>(repeating: threshold)
                        let m = (raw.loadUnaligned(as: SIMD4<Float>.self) .> t) .| (raw.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self) .> t)
                            .| (raw.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self) .> t)
                            .| (raw.loadUnaligned(fromByteOffset: 48, as: SIMD4<Float>.self) .> t)
                        if !any(m) {
                            r = end
                            continue
                        }
                    }
                    while r < end {
                        let score = l2 ? -(norms[firstRow + r] - 2 * line[r] + qNorm) : line[r]
                        let row = firstRow + r
                        if score > threshold, allowed.map({ $0[row >> 6] & (1 << UInt64(row & 63)) != 0 }) ?? true {
                            tops[q].insert(firstRow + r, score: Double(score))
                            threshold = Float(tops[q].threshold)
                        }
                        r += 1
                    }
                }
            }
        }
        parallelFor(parts, body)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func sysconfCores() -> Int { sysconf(Int32(_SC_NPROCESSORS_ONLN)) }
