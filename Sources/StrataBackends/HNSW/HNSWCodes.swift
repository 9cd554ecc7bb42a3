import CStrataSIMD
import StrataCore

#if canImport(Glibc)
import Glibc
#endif

/// Compressed copies of a graph's rows, read by its walks instead of the float rows
/// (`"compression"` in `VectorIndexSettings`): a distance then reads a quarter (int8) or a half
/// (fp16) of the bytes, and the float rows are read only to re-rank the nodes a walk kept, so the
/// hits and their scores are exact for the nodes found.
///
/// - int8: each dimension's values map onto 0...255 between that dimension's smallest and
///   largest value in the rows (trained when the graph is built, and again each time the graph
///   has doubled, up to 65,536 rows); a value outside the trained range is clamped, which only
///   blurs the walk's distances, never the answer's.
/// - fp16: IEEE half precision, no training; values beyond ±65,504 are clamped.
///
/// The copies are derived data, never saved: they are encoded from the float rows when a graph
/// is built or restored, and when a node is linked (a mapped image's walk makes each from its
/// row when it reads the row, with the parameters the image saved: `CodesParameters`). Thread
/// safety as `HNSWGraph`'s: writes under the store's write lock (or one node per thread in a
/// parallel insert), reads side by side.
final class HNSWCodes: @unchecked Sendable {
    let kind: VectorIndexSettings.Compression
    let dimension: Int
    let l2: Bool
    /// Bytes from one row's codes to the next, chosen so no row straddles a cache line it need
    /// not: a power of two up to 64 bytes, whole lines beyond.
    let stride: Int
    private(set) var capacity = 0
    private(set) var data: UnsafeMutableRawPointer
    /// int8 with l2: Σ (step·c)² per row, the part of ‖q − x‖² that depends on the row only.
    private var rowTerm: UnsafeMutablePointer<Float>?
    /// int8: each dimension's smallest value and step (range / 255).
    private(set) var offset: [Float]
    private(set) var step: [Float]
    private var inverseStep: [Float]
    /// Live rows when the int8 ranges were last trained (0: never).
    private(set) var trainedOn = 0

    static let trainingSample = 65_536

    init(kind: VectorIndexSettings.Compression, dimension: Int, l2: Bool) {
        precondition(kind != .none, "HNSWCodes: no codes for compression none")
        self.kind = kind
        self.dimension = dimension
        self.l2 = l2
        let bytes = kind == .int8 ? dimension : dimension * 2
        stride = bytes > 64 ? (bytes + 63) / 64 * 64 : max(4, 1 << (Int.bitWidth - (bytes - 1).leadingZeroBitCount))
        data = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        offset = [Float](repeating: 0, count: dimension)
        step = [Float](repeating: 1, count: dimension)
        inverseStep = step
    }

    /// Whether int8 walks multiply bytes by bytes (AVX-512 VNNI), with the query rounded to int8.
    static let bytesTimesBytes = strata_graph_has_vnni() != 0

    deinit {
        data.deallocate()
        rowTerm?.deallocate()
    }

    /// The bytes the copies take.
    var bytes: Int { capacity * bytesPerRow }

    /// The bytes of one row's copy, with its l2 term for int8 (`rowTerm`).
    var bytesPerRow: Int { stride + (kind == .int8 && l2 ? 4 : 0) }

    /// Makes room for rows `0 ..< rows` (the graph's capacity).
    func reserve(rows: Int) {
        guard rows > capacity else { return }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: max(rows * stride, 64), alignment: 64)
        grown.copyMemory(from: data, byteCount: capacity * stride)
        data.deallocate()
        data = grown
        if kind == .int8, l2 {
            let terms = UnsafeMutablePointer<Float>.allocate(capacity: rows)
            if let rowTerm { terms.update(from: rowTerm, count: capacity) }
            rowTerm?.deallocate()
            rowTerm = terms
        }
        capacity = rows
    }

    /// Whether the int8 ranges should be trained again before `live` rows are encoded: never
    /// trained, or the rows have doubled since, while under the training sample's size.
    func wantsTraining(live: Int) -> Bool {
        kind == .int8 && (trainedOn == 0 || (trainedOn < Self.trainingSample && live >= 2 * trainedOn))
    }

    /// int8: sets each dimension's range from `nodes` (at most `trainingSample` of them, spread
    /// evenly). The caller encodes every row again afterwards.
    func train(nodes: [Int], rows: GraphRows) {
        guard kind == .int8, !nodes.isEmpty else { return }
        var low = [Float](repeating: .infinity, count: dimension)
        var high = [Float](repeating: -.infinity, count: dimension)
        let every = max(1, nodes.count / Self.trainingSample)
        var i = 0
        while i < nodes.count {
            let row = rows.row(UInt32(nodes[i]))
            for j in 0..<dimension {
                low[j] = min(low[j], row[j])
                high[j] = max(high[j], row[j])
            }
            i += every
        }
        for j in 0..<dimension {
            let range = high[j] - low[j]
            offset[j] = low[j]
            step[j] = range > 0 && range.isFinite ? range / 255 : 1
            inverseStep[j] = 1 / step[j]
        }
        trainedOn = nodes.count
    }

    /// What these copies are made with, as the store image saves it.
    var parameters: CodesParameters {
        kind == .int8 ? CodesParameters(kind: kind, offset: offset, step: step, trainedOn: trainedOn)
            : CodesParameters(kind: kind, offset: [], step: [], trainedOn: 0)
    }

    /// Makes copies with saved parameters instead of training (a mapped image's walk).
    func use(_ p: CodesParameters) {
        precondition(p.kind == kind && (kind != .int8 || p.offset.count == dimension), "HNSWCodes: parameters of another kind")
        guard kind == .int8 else { return }
        offset = p.offset
        step = p.step
        // As `train` computes it, so a copy made here has the same bytes as one made there.
        inverseStep = step.map { 1 / $0 }
        trainedOn = p.trainedOn
    }

    /// Writes row n's codes from its float row.
    func encode(_ n: Int, from row: UnsafePointer<Float>) {
        let out = data + n * stride
        switch kind {
        case .int8:
            let codes = out.assumingMemoryBound(to: UInt8.self)
            strata_encode_u8(row, offset, inverseStep, dimension, codes)
            if let rowTerm {
                var term: Float = 0
                for j in 0..<dimension {
                    let x = step[j] * Float(codes[j])
                    term += x * x
                }
                rowTerm[n] = term
            }
        case .fp16:
            let halves = out.assumingMemoryBound(to: UInt16.self)
            for j in 0..<dimension { halves[j] = Float16(min(65_504, max(-65_504, row[j]))).bitPattern }
        case .none:
            break
        }
    }

    /// A query made ready for the codes: for int8, the weights and constant that fold each
    /// dimension's offset and step and the metric into one dot product per row.
    struct Query {
        var weights: [Float]
        var constant: Float
        /// With `bytesTimesBytes`: the weights rounded to int8, and what one unit of them is.
        var bytes: [Int8] = []
        var scale: Float = 0
    }

    func prepare(_ q: UnsafePointer<Float>) -> Query {
        guard kind == .int8 else { return Query(weights: Array(UnsafeBufferPointer(start: q, count: dimension)), constant: 0) }
        var weights = [Float](repeating: 0, count: dimension)
        var constant: Float = 0
        if l2 {
            // ‖q − (o + s·c)‖² = ‖q − o‖² − 2 Σ (q − o)·s·c + Σ (s·c)²; the last sum is rowTerm.
            for j in 0..<dimension {
                let u = q[j] - offset[j]
                constant += u * u
                weights[j] = -2 * u * step[j]
            }
        } else {
            // −q·(o + s·c) = −q·o − Σ q·s·c.
            for j in 0..<dimension {
                constant -= q[j] * offset[j]
                weights[j] = -q[j] * step[j]
            }
        }
        var prepared = Query(weights: weights, constant: constant)
        if Self.bytesTimesBytes {
            var largest: Float = 0
            for w in weights { largest = max(largest, abs(w)) }
            let scale = largest > 0 ? largest / 127 : 1
            prepared.scale = scale
            prepared.bytes = weights.map { Int8(($0 / scale).rounded()) }
        }
        return prepared
    }

    /// Calls `body` with a walk from `query` on these codes, the query prepared for them (its
    /// weights, or with `bytesTimesBytes` and int8 its weights rounded to bytes).
    func withWalk<T>(from query: UnsafePointer<Float>, rows: GraphRows, _ body: (GraphWalk) -> T) -> T {
        let prepared = prepare(query)
        func walk(_ weights: UnsafeRawBufferPointer) -> GraphWalk {
            GraphWalk(rows: rows, query: weights.baseAddress!, codes: self, constant: prepared.constant, scale: prepared.scale,
                      l2: l2 ? 1 : 0)
        }
        return prepared.bytes.isEmpty
            ? prepared.weights.withUnsafeBytes { body(walk($0)) }
            : prepared.bytes.withUnsafeBytes { body(walk($0)) }
    }

    /// out[i] = the walk's distance from the prepared query to row ids[i] (smaller is closer).
    /// - Parameters:
    ///   - query: the prepared weights (floats), or with `bytesTimesBytes` and int8 the rounded
    ///     weights (`Query.bytes`, as raw memory).
    ///   - scale: `Query.scale` (int8 with `bytesTimesBytes` only).
    @inline(__always)
    func distances(_ query: UnsafeRawPointer, _ constant: Float, _ scale: Float, _ ids: UnsafePointer<UInt32>, _ count: Int,
                   _ out: UnsafeMutablePointer<Float>) {
        switch kind {
        case .int8 where Self.bytesTimesBytes:
            strata_graph_distances_u8s8(query.assumingMemoryBound(to: Int8.self), scale, constant,
                                        data.assumingMemoryBound(to: UInt8.self), stride, dimension, rowTerm, ids, count, out)
        case .int8:
            strata_graph_distances_u8(query.assumingMemoryBound(to: Float.self), constant, data.assumingMemoryBound(to: UInt8.self),
                                      stride, dimension, rowTerm, ids, count, out)
        case .fp16:
            strata_graph_distances_f16(query.assumingMemoryBound(to: Float.self), data.assumingMemoryBound(to: UInt16.self), stride, dimension,
                                       ids, count, l2 ? 1 : 0, out)
        case .none:
            break
        }
    }
}
