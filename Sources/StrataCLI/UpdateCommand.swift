import ArgumentParser
import StrataCore
import StrataEngine
import StrataWire

/// `strata update ID`: changes the given fields of one memory.
struct UpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change the text, metadata, importance or category of one memory.",
        discussion: """
            Fields not given stay as they are. New text is embedded again. --meta replaces \
            the whole metadata object (it does not merge). The change is kept in the memory's \
            history with its old and new values. An unknown id exits with 12. Prints the \
            memory as stored (with --json, its record).

            Example:
              strata update m-018e0c9a4f000000a1b2c3d4 --text "Alice now prefers coffee" --importance 0.7
            """)

    @Argument(help: "The memory's id.")
    var id: String

    @Option(help: ArgumentHelp("The new text.", valueName: "text"))
    var text: String?

    @Option(name: .customLong("meta"), help: ArgumentHelp("The new metadata, a JSON object (replaces the old).", valueName: "json"))
    var metadata: String?

    @Option(help: ArgumentHelp("The new importance, 0...1.", valueName: "x"))
    var importance: Double?

    @Option(help: ArgumentHelp("The new category.", valueName: "name"))
    var category: String?

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if text == nil, metadata == nil, importance == nil, category == nil {
            throw ValidationError("nothing to change: give --text, --meta, --importance or --category")
        }
        if let text, text.allSatisfy(\.isWhitespace) { throw ValidationError("--text must not be empty") }
    }

    func run() throws {
        try withEngineErrors(json: output.json) {
            var change = MemoryUpdate(id: id, content: text, category: category)
            change.importance = try importance.map { (x: Double) throws(StrataError) -> Double in try OptionValues.importance(x) }
            if let metadata { change.metadata = try OptionValues.metadata(metadata) }
            let memory = try store.openEngine().update(change)
            if output.json { printJSON(Answer.memory(memory)) } else { MemoryText.print(memory) }
        }
    }
}
