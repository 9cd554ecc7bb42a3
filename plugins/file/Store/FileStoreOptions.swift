import StrataBackends
import StrataCore

/// The settings of a `FileVectorStore`, decoded from its JSON options.
///
/// | key                   | value                                   | default        |
/// |-----------------------|-----------------------------------------|----------------|
/// | `path`                | the log file (required)                 |                |
/// | `fsync`               | "always" or "group"                     | "always"       |
/// | `group_commit_ms`     | 1...10000, with "group" only            | 10             |
/// | `compact_after_bytes` | compact when the log grows past this    | 67108864 (64 MiB) |
/// | `read_only`           | open for reading only (see `readOnly`)  | false          |
/// | `index`               | nearest-neighbour index (`VectorIndexSettings`) | auto   |
/// | `dimension`, `metric` | set by the host from the embedder       |                |
/// | `dimension_as_stored` | set by the host (see `dimensionAsStored`) | false        |
public struct FileStoreOptions: Sendable, Equatable {
    /// When a commit's frame reaches the disk.
    public enum Durability: Sendable, Equatable {
        /// `fdatasync` before `commit` returns.
        case always
        /// `commit` returns after `write(2)`; a background sync follows within this many ms.
        case group(milliseconds: Int)
    }

    /// The log file; the snapshot is `path + ".snapshot"` beside it.
    public var path: String
    public var dimension: Int
    public var metric: Metric
    public var durability: Durability
    /// Compact once the log's frames take more than this many bytes.
    public var compactAfterBytes: Int
    /// Open for reading only: the log is opened `O_RDONLY` (a missing log is `.io`, never
    /// created) under a shared `flock` (readers side by side; a writer holds the exclusive one,
    /// so either waits for the other and then gets `.conflict`), nothing on disk changes (an
    /// incomplete tail is ignored, not cut; a temporary snapshot is left alone; no
    /// compaction), and every write throws `.unsupported`. For `strata stats` and other reads
    /// of a store that must not be repaired behind the user's back.
    public var readOnly: Bool
    /// How the in-memory index finds nearest neighbours.
    public var index = VectorIndexSettings()
    /// A read-only open (as `readOnly`) with the dimension the log's header holds instead of
    /// `dimension`: the host sets it to read the embedding space a store records after the
    /// store refused the configured dimension (plugin.h, "Options").
    public var dimensionAsStored = false

    public static let defaultCompactAfterBytes = 64 << 20
    public static let defaultGroupCommitMilliseconds = 10

    public init(path: String, dimension: Int, metric: Metric = .cosine, durability: Durability = .always,
                compactAfterBytes: Int = defaultCompactAfterBytes, readOnly: Bool = false) {
        self.path = path
        self.dimension = dimension
        self.metric = metric
        self.durability = durability
        self.compactAfterBytes = compactAfterBytes
        self.readOnly = readOnly
    }

    /// Decodes `{"path", "fsync", "group_commit_ms", "compact_after_bytes", "read_only", "index",
    /// "dimension", "metric", "dimension_as_stored"}`.
    /// - Throws: `.invalidConfig` naming the key for an unknown key, a missing path or
    ///   dimension, or a value out of range.
    public init(json: JSONValue) throws(StrataError) {
        var r = try JSONObjectReader(json, path: "file options", code: .invalidConfig)
        guard let path = try r.optionalString("path"), !path.isEmpty else {
            throw StrataError(.invalidConfig, "file options.path is required: the log file, e.g. \"/var/lib/agent/memories.log\"")
        }
        guard let dimension = try r.optionalInt("dimension", in: 1...65536) else {
            throw StrataError(.invalidConfig, "file options.dimension is required")
        }
        let metric = try r.optionalChoice("metric", Metric.allCases.map(\.rawValue)).flatMap(Metric.init) ?? .cosine
        let fsync = try r.optionalChoice("fsync", ["always", "group"]) ?? "always"
        let groupMilliseconds = try r.optionalInt("group_commit_ms", in: 1...10_000)
        if fsync == "always", groupMilliseconds != nil {
            throw StrataError(.invalidConfig, "file options.group_commit_ms applies only with \"fsync\": \"group\"")
        }
        let compact = try r.optionalInt("compact_after_bytes", in: 1...(1 << 40)) ?? Self.defaultCompactAfterBytes
        let readOnly = try r.optionalBool("read_only") ?? false
        let index = try r.optionalValue("index").map { (v) throws(StrataError) in try VectorIndexSettings(json: v, path: "file options.index") }
        let asStored = try r.optionalBool("dimension_as_stored") ?? false
        try r.finish()
        self.init(
            path: path, dimension: dimension, metric: metric,
            durability: fsync == "always" ? .always : .group(milliseconds: groupMilliseconds ?? Self.defaultGroupCommitMilliseconds),
            compactAfterBytes: compact, readOnly: readOnly || asStored)
        self.index = index ?? VectorIndexSettings()
        dimensionAsStored = asStored
    }

    /// The HNSW graph beside the log, when the index keeps one (derived data: see
    /// `InMemoryVectorStore.saveGraph`).
    public var graphPath: String { path + ".hnsw" }

    /// The snapshot file beside the log.
    public var snapshotPath: String { path + ".snapshot" }
    /// Where a compaction writes the next snapshot before renaming it into place.
    var snapshotTemporaryPath: String { path + ".snapshot.tmp" }
}
