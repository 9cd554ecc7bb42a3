import ArgumentParser
import StrataCore
import StrataEngine
import StrataWire

/// `strata anomalies`: the memories that stand out from the rest, by isolation-forest score.
struct AnomaliesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anomalies",
        abstract: "List the memories that stand out from the rest, highest anomaly score first.",
        discussion: """
            An isolation forest scores every unexpired memory in view, from the features the \
            store's configuration names in its "anomalies" object (the vector projected to \
            projection_dims values, numeric_fields of metadata, memory_fields such as importance, \
            access_count and age). Scores are in (0, 1]: near 1 stands out, 0.5 or below is \
            ordinary. Each line shows the rank, score, id, tier, category and the start of the \
            content. The same memories and seed give the same scores.

            --json prints {"anomalies": [{"id", "content", "metadata", "scope", "tier", \
            "category", "score"}], "scored", "threshold"}, highest first.

            Example:
              strata anomalies
              strata anomalies --threshold 0 --limit 5 --json
            """)

    @Option(help: ArgumentHelp("The minimum score, 0...1 (default: the configuration's, 0.6); 0 ranks every memory.", valueName: "x"))
    var threshold: Double?

    @Option(help: ArgumentHelp("At most this many, the highest (the threshold still applies).", valueName: "n"))
    var limit: Int?

    @Option(help: ArgumentHelp("A metadata filter in JSON, as for recall.", valueName: "json"))
    var filter: String?

    @Option(help: ArgumentHelp("Score as this node of the agent tree: only what it may see (default: everything).", valueName: "path"))
    var scope: String?

    @Option(help: ArgumentHelp("Only memories of this category.", valueName: "name"))
    var category: String?

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    /// Characters of content shown per line.
    static let previewLength = 60

    func run() throws {
        try withEngineErrors(json: output.json) {
            var q = AnomalyQuery(category: category)
            if let threshold {
                guard (0...1).contains(threshold) else {
                    throw StrataError(.invalidArgument, "--threshold must be in 0...1, got \(threshold)")
                }
                q.threshold = threshold
            }
            if let limit {
                guard limit >= 1 else { throw StrataError(.invalidArgument, "--limit must be at least 1, got \(limit)") }
                q.limit = limit
            }
            if let filter { q.filter = try OptionValues.filter(filter) }
            if let scope { q.scope = try OptionValues.scope(scope) }
            let report = try store.openEngineForReading().anomalies(q)
            if output.json {
                printJSON(Answer.anomalies(report))
                return
            }
            let threshold = Format.number(report.threshold)
            if report.scored < 2 {
                print("Nothing to compare: \(report.scored) memor\(report.scored == 1 ? "y" : "ies") in view, anomalies need at least 2.")
                return
            }
            print("\(report.anomalies.count) of \(report.scored) memories score at or above \(threshold).")
            for (rank, a) in report.anomalies.enumerated() {
                let m = a.memory
                print("\(rank + 1). \(Format.number(a.score))  \(m.id)  tier \(m.tier)  category \(m.category)  \(Self.preview(m.content))")
            }
        }
    }

    /// The content on one line, cut to `previewLength` characters ending in "...".
    static func preview(_ content: String) -> String {
        let line = TerminalText.escaped(String(content.map { $0.isNewline ? " " : $0 }), keepNewlines: false)
        guard !line.isEmpty else { return "(no content)" }
        return line.count > previewLength ? String(line.prefix(previewLength - 3)) + "..." : line
    }
}
