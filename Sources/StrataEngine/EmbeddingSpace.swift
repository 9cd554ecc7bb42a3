import StrataCore
import Synchronization

/// The embedding space a store's vectors live in: which embedder made them (`embedder`, the
/// configured backend), with which model and settings (`modelID`, for minilm the digest of its
/// weights), how many floats, and whether they are unit length.
///
/// Vectors of two spaces cannot be compared: a cosine between a hashing vector and a MiniLM
/// vector of the same length is a number that means nothing, so a store opened with another
/// embedder than the one that filled it would recall noise without a word. Each store records
/// its space (`EmbeddingSpaceLedger`) and the engine refuses to open it with another one.
public struct EmbeddingSpace: Sendable, Hashable, CustomStringConvertible {
    /// The history id the space's rows are kept under (like `LifecycleLedger.id`).
    public static let historyID = "strata:space"

    /// The embedder's backend as configured ("hashing", "minilm").
    public var embedder: String
    /// The embedder's `modelID` ("hashing-v1-256", "minilm:...@crc32c:1234abcd").
    public var modelID: String
    public var dimension: Int
    /// Whether the vectors are unit length (measured on the first vectors the store got), nil
    /// before any vector was written.
    public var normalized: Bool?

    public init(embedder: String, modelID: String, dimension: Int, normalized: Bool? = nil) {
        self.embedder = embedder
        self.modelID = modelID
        self.dimension = dimension
        self.normalized = normalized
    }

    /// The space `embedder`, configured as `choice`, embeds into.
    public init(choice: BackendChoice, embedder: any Embedder) {
        self.init(embedder: choice.backend, modelID: embedder.modelID, dimension: embedder.dimension)
    }

    /// Whether vectors of the two spaces can be compared: same embedder, model and dimension.
    /// Normalisation follows from the model and its settings, so it is reported, not compared.
    public func matches(_ other: EmbeddingSpace) -> Bool {
        embedder == other.embedder && modelID == other.modelID && dimension == other.dimension
    }

    /// "minilm (minilm:sentence-transformers/all-MiniLM-L6-v2@crc32c:..., 384 dimensions, unit length)".
    public var description: String {
        let unit = normalized.map { $0 ? ", unit length" : ", not normalised" } ?? ""
        return "\(embedder) (\(modelID), \(dimension) dimensions\(unit))"
    }

    public var json: JSONValue {
        .object([
            "embedder": .string(embedder), "model_id": .string(modelID), "dimension": .number(Double(dimension)),
            "normalized": normalized.map { .bool($0) } ?? .null,
        ])
    }

    /// Reads a space back from a ledger row's reason; `what` names it in errors.
    public init(text: String, what: String) throws(StrataError) {
        var r = try JSONObjectReader(try JSONParser.parse(text, what: what), path: what, code: .corrupt)
        embedder = try r.string("embedder")
        modelID = try r.string("model_id")
        dimension = try r.optionalInt("dimension", in: 1...65536) ?? 0
        normalized = try r.optionalBool("normalized")
        try r.finish()
    }

    /// Whether every vector is unit length (within float rounding), measured on a batch.
    static func unitLength(_ vectors: [[Float]]) -> Bool {
        vectors.allSatisfy { v in abs(v.reduce(Float(0)) { $0 + $1 * $1 } - 1) < 1e-3 }
    }

    /// `error`, from opening a store with this space's dimension, with what it means when the
    /// store refused the dimension: the store was filled by another embedder (the SQLite and
    /// file stores check their dimension before the engine can read the recorded space).
    func explaining(_ error: StrataError) -> StrataError {
        guard error.code == .invalidConfig || error.code == .dimension, error.message.contains("dimension") else { return error }
        return StrataError(error.code, "\(error.message): the store holds vectors of another embedding space than the configured embedder's, "
            + "\(self); nothing was changed. Configure the embedder the store was made with, or move the store to this one with `strata reembed`")
    }
}

/// Where an engine's store stands with its embedding space: recorded (and checked) at open,
/// or adopted on the first write. Thread-safe (a lock).
///
/// The space is kept as history rows of `EmbeddingSpace.historyID` in the store itself (each
/// row's reason is the space as JSON), written in the same atomic change as the first records:
/// so it is persisted beside the data by every store that keeps history (SQLite, file, any
/// plugin with `keepsHistory`), with no change to the plugin ABI, and a store can never hold
/// vectors without saying whose they are. A store that keeps no history (the in-memory store)
/// lives and dies with one engine, so there is nothing to check.
///
/// An old store, written before spaces were recorded, adopts the configured embedder's space
/// on its first write after this version opens it (`needsRecording`); until then it is
/// checked by dimension only, as before.
final class EmbeddingSpaceLedger: Sendable {
    /// The configured embedder's space.
    let current: EmbeddingSpace
    /// The space the store records (normalisation included), nil until it records one.
    private let recorded: Mutex<EmbeddingSpace?>

    /// Reads the store's recorded space and checks it against `current`.
    /// - Throws: `.invalidConfig` naming both spaces when they differ (nothing is written);
    ///   `.corrupt` for a ledger row that does not decode.
    init(store: any VectorStore, current: EmbeddingSpace) throws(StrataError) {
        self.current = current
        guard store.keepsHistory else {
            recorded = Mutex(nil)
            return
        }
        let rows = try store.history(id: EmbeddingSpace.historyID)
        guard let last = rows.last else {
            recorded = Mutex(nil)
            return
        }
        let stored = try EmbeddingSpace(text: last.reason, what: "embedding space row of \(last.at.iso8601) in \(store.name)")
        guard stored.matches(current) else {
            throw StrataError(.invalidConfig, "the store \(store.name) holds vectors of the embedding space \(stored) "
                + "(recorded \(last.at.iso8601)), but the configured embedder is \(current); mixing the two would make recall "
                + "answer noise, so nothing was opened or changed. Configure the embedder the store was made with, "
                + "or move the store to the new one with `strata reembed`")
        }
        recorded = Mutex(stored)
    }

    /// The history row recording the space, when `change` is the first with vectors this store
    /// gets from this engine and the store has none yet; the caller commits it with `change`.
    /// Call with the writer lock held; `committed()` after the commit succeeded.
    func row(for change: StoreChange, at: Timestamp) -> (row: HistoryEntry, space: EmbeddingSpace)? {
        guard !change.upserts.isEmpty, recorded.withLock({ $0 == nil }) else { return nil }
        var space = current
        space.normalized = EmbeddingSpace.unitLength(change.upserts.map(\.vector))
        return (HistoryEntry(event: .update, memoryID: EmbeddingSpace.historyID, at: at, old: nil, new: nil, reason: JSONWriter.string(space.json)),
                space)
    }

    func committed(_ space: EmbeddingSpace) { recorded.withLock { $0 = space } }

    /// The space the store records, else the configured embedder's (adopted on the first write).
    var space: EmbeddingSpace { recorded.withLock { $0 } ?? current }
}
