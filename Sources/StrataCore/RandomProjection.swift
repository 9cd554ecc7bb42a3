/// A seeded Gaussian random projection: a fixed `outputDimension` x `inputDimension` matrix of
/// N(0, 1 / outputDimension) entries that maps long vectors to short ones.
///
/// By the Johnson-Lindenstrauss lemma such a map keeps the distances between points within a
/// small factor with high probability, so points far from the rest stay far from the rest.
/// What it keeps is geometry, not meaning: use it where only distances matter (anomaly scoring,
/// say), never to compare vectors of different projections.
///
///     let p = RandomProjection(inputDimension: 256, outputDimension: 16, seed: 42)
///     let short = p.project(rows: vectors)   // vectors.count * 16 values, row-major
public struct RandomProjection: Sendable {
    public let inputDimension: Int
    public let outputDimension: Int
    /// One row per output value.
    private let rows: [[Float]]

    /// - Precondition: both dimensions are at least 1.
    public init(inputDimension: Int, outputDimension: Int, seed: UInt64) {
        precondition(inputDimension >= 1 && outputDimension >= 1, "projection dimensions must be at least 1")
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        var rng = SeededRandom(seed: seed)
        let scale = 1 / Double(outputDimension).squareRoot()
        rows = (0..<outputDimension).map { _ in (0..<inputDimension).map { _ in Float(rng.gaussian() * scale) } }
    }

    /// Projects vectors of `inputDimension` floats, spread over the cores.
    /// - Returns: `vectors.count * outputDimension` values, row-major.
    /// - Complexity: O(count * inputDimension * outputDimension).
    public func project(rows vectors: [[Float]]) -> [Double] {
        precondition(vectors.allSatisfy { $0.count == inputDimension }, "every vector must have \(inputDimension) floats")
        let n = vectors.count, k = outputDimension
        let chunk = 512
        return [Double](unsafeUninitializedCapacity: n * k) { out, initialized in
            // Each chunk writes the rows of its own vectors: disjoint, as parallelFor requires.
            parallelFor((n + chunk - 1) / chunk) { c in
                for i in c * chunk..<min(n, (c + 1) * chunk) {
                    for j in 0..<k { (out.baseAddress! + i * k + j).initialize(to: Double(Vectors.dot(rows[j], vectors[i]))) }
                }
            }
            initialized = n * k
        }
    }
}
