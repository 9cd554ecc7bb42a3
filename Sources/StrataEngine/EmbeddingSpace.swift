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

    /// The error for a store holding vectors of `stored` (recorded `at`) opened with an embedder
    /// of this space, configured as `choice`: both spaces named, and the commands that mend it.
    func mismatch(stored: EmbeddingSpace, at: Timestamp?, store: String, choice: BackendChoice) -> StrataError {
        let recorded = at.map { " (recorded \($0.iso8601))" } ?? ""
        var options = ""
        if let o = choice.options.objectValue, !o.isEmpty { options = " --embedder-options '\(JSONWriter.string(choice.options))'" }
        return StrataError(.invalidConfig, "the store \(store) holds vectors of the embedding space \(stored)\(recorded), "
            + "but the configured embedder is \(self); mixing the two would make recall answer noise, so nothing was opened or changed. "
            + "Configure the embedder the store was made with (\(stored.embedder), model \(stored.modelID), \(stored.dimension) dimensions), "
            + "or move the store to the new one: with the old embedder configured, run `strata reembed --embedder \(choice.backend)\(options)` "
            + "(or call reembed from Swift, C or Python)")
    }

    /// The refusal of the store `choice` names, opened for vectors of this space, with
    /// the space the store holds when that is why. The SQLite and file stores check their
    /// dimension as they open, before the engine can read the space they record, so the store
    /// is opened once more with `"dimension_as_stored"` (read-only, with the dimension it
    /// holds; plugin.h, "Options"). That open differing from the refused one in the dimension
    /// only, its success says the dimension was the cause; its space row then names the space.
    /// - Returns: the mismatch error naming both spaces; `refusal` explained, for a store that
    ///   records no space (written before spaces were); `refusal` as it is when the second open
    ///   fails too (a store without the option, or another cause) or finds this very space.
    func explaining(_ refusal: StrataError, of choice: BackendChoice, configured: BackendChoice, backends: any BackendProvider, path: String) -> StrataError {
        guard refusal.code == .invalidConfig || refusal.code == .dimension else { return refusal }
        var probe = choice
        probe.options = (choice.options.objectValue == nil ? JSONValue.object([:]) : choice.options).setting("dimension_as_stored", .bool(true))
        let rows: [HistoryEntry], name: String
        do {
            let store = try backends.makeVectorStore(probe, dimension: dimension, path: path)
            name = store.name
            rows = store.keepsHistory ? try store.history(id: Self.historyID) : []
        } catch {
            return refusal
        }
        guard let last = rows.last else {
            return StrataError(refusal.code, "\(refusal.message): the store holds vectors of another dimension than the configured embedder's, \(self), "
                + "and records no embedding space (it was written before spaces were recorded); nothing was changed. "
                + "Configure the embedder the store was made with, or move the store to this one with `strata reembed`")
        }
        do {
            let stored = try EmbeddingSpace(text: last.reason, what: "embedding space row of \(last.at.iso8601) in \(name)")
            return stored.matches(self) ? refusal : mismatch(stored: stored, at: last.at, store: "\(name) (\(path))", choice: configured)
        } catch {
            return refusal
        }
    }
}

/// Where an engine's stores stand with their embedding space: recorded (and checked) at open,
/// or adopted on the first write. Thread-safe (a lock).
///
/// The space is kept as history rows of `EmbeddingSpace.historyID` in each store itself (each
/// row's reason is the space as JSON), written in the same atomic change as the first records:
/// so it is persisted beside the data by every store that keeps history (SQLite, file, any
/// plugin with `keepsHistory`), with no change to the plugin ABI, and a store can never hold
/// vectors without saying whose they are. A store that keeps no history (the in-memory store)
/// lives and dies with one engine, so there is nothing to check.
///
/// With per-tier stores (`TieredVectorStore`) every store records the space: the main store
/// with the first change, each tier's store in a change of its own just before (a crash in
/// between leaves a store with a space and no vectors, which is harmless). Each is checked at
/// open, so a tier's file that another configuration filled is refused by name too.
///
/// An old store, written before spaces were recorded, adopts the configured embedder's space
/// on its first write after this version opens it (`recording`); until then it is checked by
/// dimension only, as before.
final class EmbeddingSpaceLedger: Sendable {
    /// The configured embedder's space.
    let current: EmbeddingSpace

    private struct State {
        /// The space the stores record (normalisation included), nil until one records one.
        var recorded: EmbeddingSpace?
        /// Whether the main store records no space yet.
        var mainUnrecorded: Bool
        /// Tier stores that keep history and record no space yet.
        var tiersUnrecorded: [any VectorStore]
    }

    private let state: Mutex<State>

    /// Reads the space each store records and checks it against `current`.
    /// - Parameters:
    ///   - main: the main store (for a single store, the engine's store).
    ///   - tiers: the tiers' own stores, by tier name.
    ///   - choice: the configured embedder, for the command the error names.
    /// - Throws: `.invalidConfig` naming both spaces and the store when a store records another
    ///   (nothing is written); `.corrupt` for a ledger row that does not decode.
    init(main: any VectorStore, tiers: [String: any VectorStore], current: EmbeddingSpace, choice: BackendChoice) throws(StrataError) {
        self.current = current
        var recorded: EmbeddingSpace?
        func read(_ store: any VectorStore, _ label: String) throws(StrataError) -> Bool {
            guard store.keepsHistory, let last = try store.history(id: EmbeddingSpace.historyID).last else { return false }
            let stored = try EmbeddingSpace(text: last.reason, what: "embedding space row of \(last.at.iso8601) in \(store.name)")
            guard stored.matches(current) else { throw current.mismatch(stored: stored, at: last.at, store: label, choice: choice) }
            if recorded == nil { recorded = stored }
            return true
        }
        let mainRecorded = try read(main, tiers.isEmpty ? main.name : "\(main.name) (config.store)")
        var unrecorded: [any VectorStore] = []
        for name in tiers.keys.sorted() {
            let s = tiers[name]!
            if try !read(s, "\(s.name) (the store of tier \"\(name)\")"), s.keepsHistory { unrecorded.append(s) }
        }
        // A main store without history gets the row too, kept by the engine for this process.
        state = Mutex(State(recorded: recorded, mainUnrecorded: !mainRecorded, tiersUnrecorded: unrecorded))
    }

    /// What recording the space takes: `row` goes into each of `tiers` (each its own change,
    /// committed first) and, when `main`, into the main change itself.
    struct Recording {
        let row: HistoryEntry
        let space: EmbeddingSpace
        let main: Bool
        let tiers: [any VectorStore]
    }

    /// The recording to make with `change`, when it is the first with vectors this engine
    /// writes and a store records no space yet. Call with the writer lock held;
    /// `tiersCommitted()` after the tiers' commits succeeded, `committed()` after the main one did.
    func recording(for change: StoreChange, at: Timestamp) -> Recording? {
        guard !change.upserts.isEmpty else { return nil }
        return state.withLock { s -> Recording? in
            guard s.mainUnrecorded || !s.tiersUnrecorded.isEmpty else { return nil }
            var space = s.recorded ?? current
            if s.recorded == nil { space.normalized = EmbeddingSpace.unitLength(change.upserts.map(\.vector)) }
            let row = HistoryEntry(event: .update, memoryID: EmbeddingSpace.historyID, at: at, old: nil, new: nil, reason: JSONWriter.string(space.json))
            return Recording(row: row, space: space, main: s.mainUnrecorded, tiers: s.tiersUnrecorded)
        }
    }

    /// After the tiers' rows were committed: a failing main change then writes no second row
    /// into them, and the next try records the same space.
    func tiersCommitted(_ r: Recording) {
        state.withLock { s in
            s.recorded = r.space
            s.tiersUnrecorded = []
        }
    }

    /// After the main change (with its row, when `r.main`) was committed.
    func committed(_ r: Recording) {
        state.withLock { s in
            s.recorded = r.space
            s.mainUnrecorded = false
            s.tiersUnrecorded = []
        }
    }

    /// The space the stores record, else the configured embedder's (adopted on the first write).
    var space: EmbeddingSpace { state.withLock { $0.recorded } ?? current }
}
