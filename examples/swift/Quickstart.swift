// The Swift quickstart: the engine as a Swift library, with typed requests, errors and events.
// Run: swift run StrataQuickstart
import StrataCore
import StrataEngine

@main
struct Quickstart {
    static func main() async throws {
        // The embedded default: in-memory store, hashing embedder, extractive summarizer.
        let engine = try Engine()

        // Events arrive as an AsyncStream; subscribe now, collect the first three in the background.
        let stream = engine.events()
        let events = Task {
            var kinds: [String] = []
            for await event in stream {
                kinds.append(event.kind.rawValue)
                if kinds.count == 3 { break }
            }
            return kinds
        }

        let planner = try ScopePath("org/planner")
        let tea = try engine.store(NewMemory("Alice prefers green tea in the morning", metadata: ["user": "alice"]))
        try engine.store(NewMemory("Deploys happen on Tuesdays after standup", scope: planner, visibility: .shared))
        try engine.store(NewMemory("The launch moved to March", scope: planner, visibility: .local, importance: 0.9))

        for hit in try engine.recall(RecallQuery("what does alice drink", k: 2)) {
            let parts = hit.scores
            print("\(hit.memory.id == tea.id ? "*" : " ") \(hit.memory.content)  score \(hit.score)")
            print("    vector \(parts.vector ?? 0)  keyword \(parts.keyword ?? 0)  fused \(parts.fused)  recency \(parts.recency)")
        }

        // A child node sees its parent's SHARED memory, not its LOCAL one.
        let child = try ScopePath("org/planner/researcher")
        let visible = try engine.recall(RecallQuery("deploys launch", scope: child)).map(\.memory.content)
        print("as \(child): \(visible)")
        precondition(visible.contains("Deploys happen on Tuesdays after standup") && !visible.contains("The launch moved to March"))

        // Errors carry a code mirroring the C status and a message naming the culprit.
        do {
            _ = try engine.get(id: "m-missing")
        } catch {
            print("error \(error.code.cName): \(error.message)")
        }

        print("events: \(await events.value)")
    }
}
