import StrataCore

/// The settings of a `FileVectorStore`, decoded from its JSON options.
///
/// | key                   | value                                   | default        |
/// |-----------------------|-----------------------------------------|----------------|
/// | `path`                | the log file (required)                 |                |
/// | `fsync`               | "always" or "group"                     | "always"       |
/// | `group_commit_ms`     | 1...10000, with "group" only            | 10             |
/// | `compact_after_bytes` | compact when the log grows past this    | 67108864 (64 MiB) |
/// | `dimension`, `metric` | set by the host from the embedder       |                |
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

    public static let defaultCompactAfterBytes = 64 << 20
    public static let defaultGroupCommitMilliseconds = 10

    public init(path: String, dimension: Int, metric: Metric = .cosine, durability: Durability = .always,
                compactAfterBytes: Int = defaultCompactAfterBytes) {
        self.path = path
        self.dimension = dimension
        self.metric = metric
        self.durability = durability
        self.compactAfterBytes = compactAfterBytes
    }

    /// Decodes `{"path", "fsync", "group_commit_ms", "compact_after_bytes", "dimension", "metric"}`.
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
        try r.finish()
        self.init(
            path: path, dimension: dimension, metric: metric,
            durability: fsync == "always" ? .always : .group(milliseconds: groupMilliseconds ?? Self.defaultGroupCommitMilliseconds),
            compactAfterBytes: compact)
    }

    /// The snapshot file beside the log.
    public var snapshotPath: String { path + ".snapshot" }
    /// Where a compaction writes the next snapshot before renaming it into place.
    var snapshotTemporaryPath: String { path + ".snapshot.tmp" }
}
