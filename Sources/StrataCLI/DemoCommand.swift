import ArgumentParser
import StrataCore
import StrataEngine

/// `strata demo`: stores the bundled memories in the embedded default and shows recall.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Store a small bundled set of memories in the embedded default and show recall.",
        discussion: """
            Shows hybrid recall with each score part, a metadata filter, and scoped recall over an \
            agent tree (org/assistant, org/planner, org/planner/researcher). Exits 1 if any query \
            does not put the expected memory first or a scope rule is broken, so the demo is also a check.
            """)

    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let engine = try Engine()
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
                if !ok { failures.append("\"\(q.text)\" did not put \"\(DemoData.items[q.expected].content)\" first") }
                queryReports.append(.object([
                    "query": .string(q.text), "scope": q.scope.map { .string($0) } ?? .null, "filter": q.filter ?? .null,
                    "expected_first": .string(ids[q.expected]), "ok": .bool(ok), "hits": .array(hits.map(\.json)),
                ]))
                if !output.json {
                    var heading = "recall \"\(q.text)\""
                    if let s = q.scope { heading += " as \(s)" }
                    if let f = q.filter { heading += " where \(JSONWriter.string(f))" }
                    print("\(ok ? "✓" : "✗") \(heading)")
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
                printJSON(.object(["stored": .number(Double(ids.count)), "queries": .array(queryReports),
                                   "scopes": .array(scopeReports), "failures": .array(failures.map { .string($0) })]))
            } else {
                print("")
                print(failures.isEmpty ? "All \(DemoData.queries.count) queries and \(DemoData.scopeChecks.count) scope checks passed."
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
