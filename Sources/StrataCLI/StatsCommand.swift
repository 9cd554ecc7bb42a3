import ArgumentParser
import StrataCore
import StrataEngine
import StrataWire

/// `strata stats`: counts over the store and the stack that serves it.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count the memories by tier, category and scope, and name the store, embedder and summarizer.",
        discussion: """
            Memories past their expiry time are counted apart (expired) until they are forgotten. \
            --json prints the engine's stats object (memories, expired, by_tier, by_category, by_scope, dimension, store, \
            embedder, summarizer, operations, access, patterns, lifecycle, space); operations counts this process's \
            calls only; lifecycle totals every metabolize cycle the store has seen; space is the embedding space \
            of the store's vectors (embedder, model_id, dimension, normalized: null until the first vectors are \
            written), the one the store records, else the configured embedder's; index is the store's vector \
            index and the memory it holds in this process (kind, rows, m, ef_construction, ef_search, compression, \
            mapped, bytes: vectors, codes, graph, total), null when the store does not report it.

            Example:
              strata stats --dir /tmp/notes
            """)

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let stats = try store.openEngineForReading().stats()
            if output.json {
                printJSON(Answer.stats(stats))
                return
            }
            let a = stats.access, l = stats.lifecycle
            func round2(_ x: Double) -> String { String((x * 100).rounded() / 100) }
            func counts(_ d: [String: Int], label: (String) -> String = { $0 }) -> String {
                d.isEmpty ? "-" : d.sorted { $0.key < $1.key }.map { "\(label($0.key)) \($0.value)" }.joined(separator: ", ")
            }
            let rows: [(String, String)] = [
                ("memories", String(stats.memories)),
                ("expired", String(stats.expired)),
                ("by tier", counts(stats.byTier)),
                ("by category", counts(stats.byCategory)),
                ("by scope", counts(stats.byScope) { $0.isEmpty ? "(root)" : $0 }),
                ("store", stats.store),
                ("embedder", "\(stats.embedder) (\(stats.dimension) dimensions)"),
                ("space", Self.describe(stats.space)),
                ("summarizer", stats.summarizer),
                ("access", "never \(a.never), last day \(a.lastDay), last week \(a.lastWeek), mean \(round2(a.meanCount)), max \(a.max)"),
                ("patterns", String(stats.patterns)),
                ("lifecycle", l.cycles == 0 ? "no metabolize cycle yet"
                    : "\(l.cycles) cycle(s), the last at \(l.lastCycleAt?.iso8601 ?? "-")"),
            ]
            let lifecycleRows: [(String, String)] = l.cycles == 0 ? [] : [
                ("migrated", counts(l.migrated)),
                ("pruned", "age \(l.pruned.age), relevance \(l.pruned.relevance), redundancy \(l.pruned.redundancy), capacity \(l.pruned.capacity)"),
                ("consolidated", "\(l.consolidated) episode(s) from \(l.consolidatedSources) memories"),
                ("compression", l.compressionRatio.map { "\(l.compressed) memories to \(round2($0 * 100))% of their size" } ?? "-"),
            ]
            for (key, value) in rows { print("\(key.padding(12))\(value)") }
            for (key, value) in lifecycleRows { print("  \(key.padding(14))\(value)") }
            let (index, indexRows) = Self.describe(stats.index, dimension: stats.dimension)
            print("\("index".padding(12))\(index)")
            for (key, value) in indexRows { print("  \(key.padding(14))\(value)") }
        }
    }

    /// The index line ("hnsw, 1500 rows, m 8, ef_construction 40, ef_search 64, int8 copies")
    /// and its bytes in MB (10^6 bytes), one row a part.
    static func describe(_ report: IndexReport?, dimension: Int) -> (String, [(String, String)]) {
        guard let r = report else { return ("not reported by the store", []) }
        var line = "\(r.kind.rawValue), \(r.rows) rows"
        if let g = r.graph { line += ", m \(g.m), ef_construction \(g.efConstruction), ef_search \(g.efSearch)" }
        if r.compression != .none { line += ", \(r.compression.rawValue) copies" }
        if r.mapped == true { line += ", mapped from disk (rows read in as searches need them)" }
        func mb(_ bytes: Int) -> String { fmt("%.2f MB", Double(bytes) / 1_000_000) }
        let floats = IndexReport.Compression.none.bytesPerDimension * dimension
        let codes = r.compression == .none ? "none"
            : "\(r.compression.rawValue) copies: +\(mb(r.bytes.codes)), walks read \(r.compression.bytesPerDimension * dimension) bytes a row instead of \(floats)"
        return (line, [
            ("vectors", mb(r.bytes.vectors)), ("codes", codes), ("graph", mb(r.bytes.graph)), ("total", mb(r.bytes.total)),
        ])
    }

    /// "hashing, model hashing-v1-256, 256 dimensions, unit length".
    static func describe(_ space: EmbeddingSpace) -> String {
        let unit = space.normalized.map { $0 ? "unit length" : "not normalised" } ?? "normalisation not known before the first write"
        return "\(space.embedder), model \(space.modelID), \(space.dimension) dimensions, \(unit)"
    }
}
