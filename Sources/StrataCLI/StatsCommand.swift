import ArgumentParser
import StrataCore
import StrataEngine

/// `strata stats`: counts over the store and the stack that serves it.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count the memories by tier, category and scope, and name the store, embedder and summarizer.",
        discussion: """
            Memories past their expiry time are counted apart (expired) until they are forgotten. \
            --json prints the engine's stats object (memories, expired, by_tier, by_category, by_scope, dimension, store, \
            embedder, summarizer, operations); operations counts this process's calls only.

            Example:
              strata stats --dir /tmp/notes
            """)

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let stats = try store.openEngine().stats()
            if output.json {
                printJSON(stats.json)
                return
            }
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
                ("summarizer", stats.summarizer),
            ]
            for (key, value) in rows { print("\(key.padding(12))\(value)") }
        }
    }
}
