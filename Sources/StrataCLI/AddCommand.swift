import ArgumentParser
import StrataCore
import StrataEngine
import StrataWire

/// `strata add TEXT`: stores one memory and prints its id.
struct AddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Store one memory and print its id.",
        discussion: """
            The text is embedded and stored in the store folder's engine. A near-identical \
            memory in the same scope is updated instead of copied: the id printed is then the \
            existing one (its id in "deduplicated" with --json, a note on stderr otherwise).

            --at sets when the memory happened (ISO-8601 with a zone, or a date), so recency \
            ranks an old memory by its real age; --ttl counts from that time.

            Example:
              strata add "Alice prefers green tea" --meta '{"user": "alice"}' --scope org/assistant
              strata add "Kickoff meeting moved to Friday" --at 2024-03-01T09:30:00Z --importance 0.8
            """)

    @Argument(help: "The memory's text.")
    var text: String

    @Option(name: .customLong("meta"), help: ArgumentHelp("Metadata, a JSON object.", valueName: "json"))
    var metadata: String?

    @Option(help: ArgumentHelp("The node of the agent tree that owns it, e.g. org/planner (default: the root).", valueName: "path"))
    var scope: String?

    @Option(help: "Who may see it: local (the node), shared (also its parent and children) or global (default: the configured default, local).")
    var visibility: Visibility?

    @Option(help: ArgumentHelp("Its category (default: the configured default, general).", valueName: "name"))
    var category: String?

    @Option(help: ArgumentHelp("Importance in 0...1 (default: the configured default, 0.5).", valueName: "x"))
    var importance: Double?

    @Option(help: ArgumentHelp("The tier it starts in (default: the configured default tier).", valueName: "name"))
    var tier: String?

    @Flag(help: "Pin it: metabolize never moves, compresses or prunes it.")
    var pin = false

    @Option(help: ArgumentHelp("When it happened, ISO-8601 (default: now).", valueName: "time"))
    var at: String?

    @Option(help: ArgumentHelp("Seconds from --at until it expires and is no longer recalled.", valueName: "seconds"))
    var ttl: Double?

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !text.allSatisfy(\.isWhitespace) else { throw ValidationError("TEXT must not be empty") }
    }

    func run() throws {
        try withEngineErrors(json: output.json) {
            var memory = NewMemory(text)
            if let metadata { memory.metadata = try OptionValues.metadata(metadata) }
            if let scope { memory.scope = try OptionValues.scope(scope) }
            if let at { memory.at = try OptionValues.time(at) }
            memory.visibility = visibility
            memory.tier = tier
            memory.pinned = pin
            memory.category = category
            memory.importance = try importance.map { (x: Double) throws(StrataError) -> Double in try OptionValues.importance(x) }
            memory.ttlSeconds = try ttl.map { (x: Double) throws(StrataError) -> Double in try OptionValues.seconds(x) }
            let engine = try store.openEngine()
            let outcome = try engine.store(memory)
            if output.json {
                printJSON(Answer.store([outcome], batch: false))
                return
            }
            print(outcome.id)
            if outcome.deduplicated {
                printError("strata: a near-identical memory in the same scope was updated instead of adding a copy")
            }
        }
    }
}
