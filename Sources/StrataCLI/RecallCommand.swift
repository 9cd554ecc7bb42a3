import ArgumentParser
import StrataCore
import StrataEngine
import StrataWire

/// `strata recall QUERY`: the memories that best answer a query, with every part of the score.
struct RecallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recall",
        abstract: "Recall the memories that best answer a query, with each part of their score.",
        discussion: """
            Hybrid recall: vector and keyword (BM25) candidates fused as the configuration's \
            recall.fusion says for the embedder (scores for minilm, reciprocal rank for \
            hashing), then weighted by recency, importance and access count. Each hit shows its rank, total \
            score, the parts (vector, keyword, fused, recency, importance, access; "-" when the \
            hit was not a candidate of that list), id, scope, tier and content. Recalling bumps \
            the access count of each hit.

            --json prints {"hits": [{"id", "content", "metadata", "scope", "tier", "category", \
            "score", "scores"}]}, best first: the bytes strata_engine_recall answers.

            Example:
              strata recall "what does alice drink" -k 3
              strata recall "deploys" --filter '{"user": {"$in": ["alice", "bob"]}}' --scope org/assistant --json
            """)

    @Argument(help: "The query text.")
    var query: String

    @Option(name: .short, help: ArgumentHelp("How many hits at most (default: the configured k, 10).", valueName: "n"))
    var k: Int?

    @Option(help: ArgumentHelp("A metadata filter in JSON ($eq $ne $gt $gte $lt $lte $in $nin $exists $contains $and $or $not).", valueName: "json"))
    var filter: String?

    @Option(help: ArgumentHelp("Recall as this node of the agent tree: only what it may see (default: everything).", valueName: "path"))
    var scope: String?

    @Option(help: ArgumentHelp("Only memories of this category.", valueName: "name"))
    var category: String?

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !query.allSatisfy(\.isWhitespace) else { throw ValidationError("QUERY must not be empty") }
    }

    func run() throws {
        try withEngineErrors(json: output.json) {
            var q = RecallQuery(query, k: k, category: category)
            if let filter { q.filter = try OptionValues.filter(filter) }
            if let scope { q.scope = try OptionValues.scope(scope) }
            let hits = try store.openEngine().recall(q)
            if output.json {
                printJSON(Answer.recall(hits))
                return
            }
            if hits.isEmpty { print("No memory matched.") }
            for (rank, hit) in hits.enumerated() {
                let m = hit.memory
                print("\(rank + 1). \(Format.number(hit.score))  \(m.id)  scope \(Format.scope(m.scope))  tier \(m.tier)")
                print("   \(TerminalText.escaped(m.content, keepNewlines: false))")
                let p = hit.scores
                print("   vector \(Format.number(p.vector))  keyword \(Format.number(p.keyword))  fused \(Format.number(p.fused))  "
                    + "recency \(Format.number(p.recency))  importance \(Format.number(p.importance))  access \(Format.number(p.access))")
            }
        }
    }
}
