import ArgumentParser
import StrataCore
import StrataEngine
import StrataWire

/// `strata get ID`: one memory, every field.
struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Show one memory with every field.",
        discussion: """
            An unknown id exits with 12 (not found). --json prints the memory record \
            (id, content, metadata, scope, visibility, tier, category, importance, pinned, \
            created_at, updated_at, accessed_at, access_count, expires_at, model).

            Example:
              strata get m-018e0c9a4f000000a1b2c3d4 --json
            """)

    @Argument(help: "The memory's id, as add printed it.")
    var id: String

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let memory = try store.openEngineForReading().get(id: id)
            if output.json { printJSON(Answer.memory(memory)) } else { MemoryText.print(memory) }
        }
    }
}
