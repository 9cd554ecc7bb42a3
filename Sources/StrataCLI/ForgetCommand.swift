import ArgumentParser
import StrataCore
import StrataEngine

/// `strata forget ID` or `strata forget --filter JSON`: removes memories (their history stays).
struct ForgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Forget one memory by id, or every memory a metadata filter matches.",
        discussion: """
            Give exactly one of an id or --filter (a usage error, exit 64, otherwise). An \
            unknown id exits with 12; a filter that matches nothing forgets nothing and \
            succeeds. --scope limits a filter to what that node of the agent tree may see. \
            Forgotten memories keep their history (strata history ID shows the DELETE). \
            Prints the ids forgotten, one a line (with --json: {"forgotten": [ids]}).

            Example:
              strata forget m-018e0c9a4f000000a1b2c3d4
              strata forget --filter '{"session": "2024-03-01"}' --scope org/assistant
            """)

    @Argument(help: "The id of the memory to forget.")
    var id: String?

    @Option(help: ArgumentHelp("Forget every memory whose metadata matches this JSON filter.", valueName: "json"))
    var filter: String?

    @Option(help: ArgumentHelp("With --filter: only memories this node may see.", valueName: "path"))
    var scope: String?

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func validate() throws {
        switch (id, filter) {
        case (nil, nil): throw ValidationError("give the id of a memory or --filter JSON")
        case (_?, _?): throw ValidationError("give either an id or --filter, not both")
        case (_?, nil) where scope != nil: throw ValidationError("--scope goes with --filter, not with an id")
        default: break
        }
    }

    func run() throws {
        try withEngineErrors(json: output.json) {
            let forgotten: [String]
            if let id {
                try store.openEngine().forget(id: id)
                forgotten = [id]
            } else {
                let parsed = try OptionValues.filter(filter!)
                let node = try scope.map { (s: String) throws(StrataError) -> ScopePath in try OptionValues.scope(s) }
                forgotten = try store.openEngine().forget(filter: parsed, scope: node)
            }
            if output.json {
                printJSON(.object(["forgotten": .array(forgotten.map { .string($0) })]))
                return
            }
            if forgotten.isEmpty { printError("strata: the filter matched no memory; nothing was forgotten") }
            for id in forgotten { print(id) }
        }
    }
}
