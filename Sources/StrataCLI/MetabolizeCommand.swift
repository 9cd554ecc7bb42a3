import ArgumentParser
import StrataCore
import StrataEngine
import StrataWire

/// `strata metabolize`: one lifecycle cycle over the store folder's memories.
struct MetabolizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metabolize",
        abstract: "Run one lifecycle cycle: migrate, compress, prune, consolidate, extract patterns.",
        discussion: """
            Applies the configuration's tiers (retention, capacity, promote and keep rules, \
            compression), categories (retention) and lifecycle rules (relevance, redundancy, \
            consolidation, patterns) once, and prints what moved and why. Every memory that moves \
            or leaves gets a history row with the reason (strata history ID); pinned memories are \
            never moved or pruned. Totals of every cycle are in strata stats.

            --now applies the rules as if it were that time (to replay a week, or test a \
            configuration); --dry-run reports without changing anything. If the summarizer fails, \
            the memories it was to summarize stay as they were, the errors are printed and the \
            exit code is 2.

            Example:
              strata init --preset metabolic --dir /tmp/agent
              strata add "Standup moved to 9:30" --at 2026-03-02T09:00:00Z --dir /tmp/agent
              strata metabolize --now 2026-03-09T09:00:00Z --dry-run --dir /tmp/agent
            """)

    @Option(help: ArgumentHelp("Apply the rules as at this time, ISO-8601 (default: now).", valueName: "time"))
    var now: String?

    @Flag(help: "Report what would happen without changing anything.")
    var dryRun = false

    @Option(help: ArgumentHelp("Moves listed in the text output (--json lists all).", valueName: "n"))
    var moves = 20

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    /// The exit code of a cycle that completed with errors.
    static let partialExitCode: Int32 = 2

    func run() throws {
        var errors: [String] = []
        try withEngineErrors(json: output.json) {
            let at = try now.map { (t: String) throws(StrataError) -> Timestamp in try OptionValues.time(t, option: "--now") }
            let report = try store.openEngine().metabolize(now: at, dryRun: dryRun)
            errors = report.errors
            if output.json {
                printJSON(Answer.metabolize(report))
            } else {
                printText(report)
            }
        }
        guard errors.isEmpty else {
            for e in errors { printError("strata: metabolize: \(e)") }
            throw ExitCode(Self.partialExitCode)
        }
    }

    private func printText(_ r: MetabolizeReport) {
        func counts(_ d: [String: Int]) -> String {
            d.isEmpty ? "-" : d.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        let ms = (r.durationMilliseconds * 10).rounded() / 10
        print("\(r.dryRun ? "would metabolize" : "metabolized") at \(r.at.iso8601): \(r.before) -> \(r.after) memories in \(ms) ms"
              + (r.dryRun ? " (dry run: nothing changed)" : ""))
        let p = r.pruned
        var rows: [(String, String)] = [
            ("migrated", counts(r.migrated)),
            ("pruned", "age \(p.age), relevance \(p.relevance), redundancy \(p.redundancy), capacity \(p.capacity)"),
            ("consolidated", r.consolidated == 0 ? "-" : "\(r.consolidated) episode(s) from \(r.consolidatedSources) memories"),
            ("patterns", String(r.patterns)),
            ("compressed", r.compressed == 0 ? "-" : "\(r.compressed) (\(r.bytesBeforeCompression) -> \(r.bytesAfterCompression) bytes)"),
        ]
        if r.pinnedKept > 0 { rows.append(("pinned kept", String(r.pinnedKept))) }
        for (key, value) in rows { print("\(key.padding(14))\(value)") }
        guard !r.moves.isEmpty, moves > 0 else { return }
        print("moves:")
        for m in r.moves.prefix(moves) {
            let path = m.to.map { "\(m.from) -> \($0)" } ?? m.from
            print("  \(m.id)  \(m.action.rawValue)  \(path): \(m.reason)")
        }
        if r.moves.count > moves { print("  ... and \(r.moves.count - moves) more (--moves N, or --json for all)") }
    }
}
