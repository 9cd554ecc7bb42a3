import StrataCore
import StrataEngine

/// The small bundled set of memories `strata demo` stores: a team of agents under `org`.
enum DemoData {
    struct Item {
        let content: String
        let scope: String
        let visibility: Visibility
        let metadata: [String: JSONValue]
        let importance: Double
    }

    static let items: [Item] = [
        Item(content: "Alice prefers green tea over coffee in the morning.", scope: "org/assistant", visibility: .shared,
             metadata: ["user": "alice", "kind": "preference"], importance: 0.6),
        Item(content: "Bob is allergic to peanuts, so never suggest dishes with peanuts.", scope: "org/assistant", visibility: .shared,
             metadata: ["user": "bob", "kind": "health"], importance: 0.9),
        Item(content: "The quarterly report is due on the first Friday after each quarter ends.", scope: "org", visibility: .global,
             metadata: ["kind": "deadline"], importance: 0.7),
        Item(content: "Production deploys happen on Tuesdays right after the morning standup.", scope: "org/planner", visibility: .shared,
             metadata: ["kind": "process", "team": "platform"], importance: 0.6),
        Item(content: "Carol leads the search team and owns the ranking service.", scope: "org", visibility: .global,
             metadata: ["kind": "people", "team": "search"], importance: 0.5),
        Item(content: "The guest wifi network is called strata-guest and its password changes monthly.", scope: "org", visibility: .global,
             metadata: ["kind": "office"], importance: 0.3),
        Item(content: "Research note: BM25 beats plain TF-IDF on short keyword queries in our tests.", scope: "org/planner/researcher",
             visibility: .local, metadata: ["kind": "finding", "team": "search"], importance: 0.5),
        Item(content: "The planner moved the product launch from February to March.", scope: "org/planner", visibility: .shared,
             metadata: ["kind": "decision"], importance: 0.8),
        Item(content: "Dave works remotely from Lisbon and prefers meetings after 10am.", scope: "org/assistant", visibility: .local,
             metadata: ["user": "dave", "kind": "preference"], importance: 0.4),
        Item(content: "Every report uses metric units and ISO dates.", scope: "org", visibility: .global,
             metadata: ["kind": "style"], importance: 0.4),
        Item(content: "The researcher is comparing embedding models for the launch.", scope: "org/planner/researcher",
             visibility: .shared, metadata: ["kind": "task"], importance: 0.5),
        Item(content: "Eve from finance approves travel budgets above 2000 euros.", scope: "org", visibility: .global,
             metadata: ["kind": "people", "team": "finance"], importance: 0.5),
        Item(content: "Alice prefers a window seat when she flies long distances.", scope: "org/assistant", visibility: .shared,
             metadata: ["user": "alice", "kind": "preference"], importance: 0.6),
    ]

    /// A query and the memory (by index into `items`) that must come first.
    struct Query {
        let text: String
        let expected: Int
        let scope: String?
        let filter: JSONValue?
        /// A paraphrase sharing almost no word with its memory but the name: only a sentence
        /// embedder (minilm) can be held to it. With the hashing embedder it is shown and not
        /// counted, and the demo says so.
        var paraphrase = false
    }

    static let queries: [Query] = [
        Query(text: "What does Alice like to drink in the morning?", expected: 0, scope: nil, filter: nil),
        Query(text: "Is anyone allergic to peanuts?", expected: 1, scope: nil, filter: nil),
        Query(text: "When do production deploys happen?", expected: 3, scope: nil, filter: nil),
        Query(text: "who owns the ranking service", expected: 4, scope: nil, filter: nil),
        Query(text: "guest wifi password", expected: 5, scope: nil, filter: nil),
        Query(text: "when is the product launch", expected: 7, scope: nil, filter: nil),
        Query(text: "who approves travel budgets", expected: 11, scope: nil, filter: ["team": "finance"]),
        Query(text: "which ranking method works on short keyword queries", expected: 6, scope: "org/planner/researcher", filter: nil),
        Query(text: "Where does Alice like to sit on a plane?", expected: 12, scope: nil, filter: nil, paraphrase: true),
    ]

    /// Scoped recalls: what one node sees and must not see.
    struct ScopeCheck {
        let scope: String
        let query: String
        let mustSee: [Int]
        let mustNotSee: [Int]
    }

    static let scopeChecks: [ScopeCheck] = [
        // The researcher sees its own local note and its parent's shared decision.
        ScopeCheck(scope: "org/planner/researcher", query: "launch research note", mustSee: [6, 7, 10], mustNotSee: [8]),
        // The assistant, a sibling of the planner, sees neither the planner's shared memories nor the researcher's.
        ScopeCheck(scope: "org/assistant", query: "launch research note", mustSee: [], mustNotSee: [6, 7, 10]),
        // The planner sees its child's shared task but not the child's local note.
        ScopeCheck(scope: "org/planner", query: "researcher launch note", mustSee: [7, 10], mustNotSee: [6]),
    ]
}
