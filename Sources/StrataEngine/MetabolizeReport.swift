import StrataCore

/// What one `metabolize` cycle did (or, in a dry run, would do), with the reason for each move.
///
///     {"at", "dry_run", "before", "after",
///      "migrated": {"working->session": 3}, "pruned": {"age", "relevance", "redundancy", "capacity"},
///      "consolidated", "consolidated_sources", "patterns", "compressed",
///      "bytes_before_compression", "bytes_after_compression", "pinned_kept",
///      "duration_ms", "errors": [...], "moves": [{"id", "action", "from", "to", "reason"}]}
public struct MetabolizeReport: Sendable {
    /// One thing the cycle did to one memory.
    public struct Move: Sendable, Hashable {
        public enum Action: String, Sendable {
            case migrate, prune, merge, consolidate, archive
            /// A new or updated episode or pattern memory.
            case create, update
        }
        public var id: String
        public var action: Action
        public var from: String
        public var to: String?
        public var reason: String
    }

    /// Memories pruned, by rule.
    public struct Pruned: Sendable, Hashable {
        public var age = 0, relevance = 0, redundancy = 0, capacity = 0
        public var total: Int { age + relevance + redundancy + capacity }
        public var json: JSONValue {
            .object(["age": .number(Double(age)), "relevance": .number(Double(relevance)),
                     "redundancy": .number(Double(redundancy)), "capacity": .number(Double(capacity))])
        }
    }

    public var at: Timestamp
    public var dryRun: Bool
    /// Memories before and after the cycle.
    public var before = 0
    public var after = 0
    /// Moves per tier edge, "from->to".
    public var migrated: [String: Int] = [:]
    public var pruned = Pruned()
    /// Episode memories written, and the memories they replaced.
    public var consolidated = 0
    public var consolidatedSources = 0
    /// Pattern memories created or updated.
    public var patterns = 0
    /// Memories whose content or metadata was compressed on a move, and their size (content and
    /// metadata as JSON, in bytes) before and after.
    public var compressed = 0
    public var bytesBeforeCompression = 0
    public var bytesAfterCompression = 0
    /// Pinned memories a rule would have moved or pruned, left where they are.
    public var pinnedKept = 0
    public var durationMilliseconds = 0.0
    /// What failed (a summarizer error, say); the memories concerned stay as they were.
    public var errors: [String] = []
    public var moves: [Move] = []

    public init(at: Timestamp, dryRun: Bool) {
        self.at = at
        self.dryRun = dryRun
    }
}
