import ArgumentParser
import StrataCore
import StrataEngine
import StrataWire
import StrataPlugins

/// `strata demo`: stores the bundled memories in the embedded default and shows recall.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Store a small bundled set of memories in the embedded default and show recall.",
        discussion: """
            Shows hybrid recall with each score part, a metadata filter, and scoped recall over an \
            agent tree (org/assistant, org/planner, org/planner/researcher). Exits 1 if any query \
            does not put the expected memory first or a scope rule is broken, so the demo is also a check.

            The embedder is minilm (all-MiniLM-L6-v2: recall by meaning) when its model is \
            installed, else the hashing embedder with a one-line notice saying why (--embedder, \
            else $STRATA_EMBEDDER, else auto). A paraphrase query ("Where does Alice like to sit \
            on a plane?") shares no word with its memory but the name: it is checked with a \
            sentence embedder, and with the hashing embedder shown but not counted.
            """)

    @Option(help: ArgumentHelp("The embedder (\(EmbedderOption.helpText)).", valueName: "name"))
    var embedder: EmbedderOption?

    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let chosen = try DefaultEmbedder.make(try EmbedderOption.resolved(embedder), backends: PluginBackends())
            chosen.printNotice()
            var configuration = EngineConfiguration.embeddedDefault
            configuration.embedder = chosen.choice
            let engine = try Engine(configuration: configuration, backends: PreparedBackends(base: PluginBackends(), prepared: chosen))
            // The hashing embedder matches words: a paraphrase is beyond it, so not held to it.
            let checksParaphrases = chosen.choice != DefaultEmbedder.hashing
            var unchecked: [String] = []
            let outcomes = try engine.store(DemoData.items.map { item in
                NewMemory(item.content, metadata: item.metadata, scope: try ScopePath(item.scope),
                          visibility: item.visibility, importance: item.importance)
            })
            let ids = outcomes.map(\.id)
            var failures: [String] = []
            var queryReports: [JSONValue] = []
            if !output.json {
                print("Stored \(ids.count) memories in the embedded default (\(engine.store.name) store, \(engine.embedder.modelID) embedder).\n")
            }
            for q in DemoData.queries {
                var query = RecallQuery(q.text, k: 3)
                if let s = q.scope { query.scope = try ScopePath(s) }
                if let f = q.filter { query.filter = try Filter.parse(f, prefix: ["metadata"]) }
                let hits = try engine.recall(query)
                let ok = hits.first?.memory.id == ids[q.expected]
                let checked = !q.paraphrase || checksParaphrases
                if !checked {
                    unchecked.append(q.text)
                } else if !ok {
                    failures.append("\"\(q.text)\" did not put \"\(DemoData.items[q.expected].content)\" first")
                }
                queryReports.append(.object([
                    "query": .string(q.text), "scope": q.scope.map { .string($0) } ?? .null, "filter": q.filter ?? .null,
                    "expected_first": .string(ids[q.expected]), "ok": .bool(ok), "checked": .bool(checked),
                    "hits": .array(hits.map(Answer.hit)),
                ]))
                if !output.json {
                    var heading = "recall \"\(q.text)\""
                    if let s = q.scope { heading += " as \(s)" }
                    if let f = q.filter { heading += " where \(JSONWriter.string(f))" }
                    if !checked { heading += "  (a paraphrase: not checked with the hashing embedder, which matches words)" }
                    print("\(checked ? (ok ? "✓" : "✗") : "·") \(heading)")
                    for (rank, h) in hits.enumerated() { print(describe(rank + 1, h)) }
                    print("")
                }
            }
            var scopeReports: [JSONValue] = []
            if !output.json { print("Scoped recall (LOCAL: the node only; SHARED: node, parent, children; GLOBAL: everyone):") }
            for check in DemoData.scopeChecks {
                let hits = try engine.recall(RecallQuery(check.query, k: 20, scope: try ScopePath(check.scope)))
                let seen = Set(hits.map(\.memory.id))
                let missing = check.mustSee.filter { !seen.contains(ids[$0]) }
                let leaked = check.mustNotSee.filter { seen.contains(ids[$0]) }
                let ok = missing.isEmpty && leaked.isEmpty
                if !ok { failures.append("scope \(check.scope): missing \(missing), must not see \(leaked)") }
                scopeReports.append(.object([
                    "scope": .string(check.scope), "query": .string(check.query), "ok": .bool(ok),
                    "visible": .array(hits.map { .string($0.memory.id) }),
                ]))
                if !output.json {
                    print("\(ok ? "✓" : "✗") as \(check.scope): sees \(hits.count) memories")
                    for i in check.mustSee { print("    sees      [\(DemoData.items[i].visibility.rawValue) @ \(DemoData.items[i].scope)] \(DemoData.items[i].content)") }
                    for i in check.mustNotSee { print("    not shown [\(DemoData.items[i].visibility.rawValue) @ \(DemoData.items[i].scope)] \(DemoData.items[i].content)") }
                }
            }
            if output.json {
                printJSON(.object(["stored": .number(Double(ids.count)), "embedder": .string(engine.embedder.modelID),
                                   "embedder_notice": chosen.fallbackReason.map { .string($0) } ?? .null,
                                   "queries": .array(queryReports), "scopes": .array(scopeReports),
                                   "unchecked": .array(unchecked.map { .string($0) }), "failures": .array(failures.map { .string($0) })]))
            } else {
                print("")
                let counted = DemoData.queries.count - unchecked.count
                let skipped = unchecked.isEmpty ? "" : " (\(unchecked.count) paraphrase quer\(unchecked.count == 1 ? "y" : "ies") not checked: the hashing embedder matches words, not meaning)"
                print(failures.isEmpty ? "All \(counted) queries and \(DemoData.scopeChecks.count) scope checks passed\(skipped)."
                                       : "Failed:\n" + failures.map { "  - \($0)" }.joined(separator: "\n"))
            }
            if !failures.isEmpty { throw ExitCode(1) }
        }
    }

    private func describe(_ rank: Int, _ h: Hit) -> String {
        let p = h.scores
        func f(_ x: Double?) -> String { x.map { String(format3($0)) } ?? "-" }
        return "  \(rank). \(format3(h.score))  \(h.memory.content)\n"
            + "       vector \(f(p.vector))  keyword \(f(p.keyword))  fused \(format3(p.fused))  recency \(format3(p.recency))  importance \(format3(p.importance))  access \(format3(p.access))"
    }
}

/// A number with three decimals, without Foundation's formatter.
func format3(_ x: Double) -> String {
    let scaled = (x * 1000).rounded()
    let sign = scaled < 0 ? "-" : ""
    let v = Int(abs(scaled))
    let frac = String(v % 1000)
    return "\(sign)\(v / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
}
