import ArgumentParser
import StrataCore
import StrataEngine
import StrataWire

/// `strata forget ID` or `strata forget --filter JSON`: removes memories (their history stays).
struct ForgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Forget one memory by id, or every memory a metadata filter matches.",
        discussion: """
            Give exactly one of an id, --filter or --all (a usage error, exit 64, otherwise). \
            An unknown id exits with 12; a filter that matches nothing forgets nothing and \
            succeeds. --scope limits a filter to the memories that node of the agent tree owns \
            (stored there): another node's GLOBAL or SHARED memories are never forgotten \
            through it. A filter with no condition ({}) would forget everything: that takes \
            --all instead (with --scope, everything the node owns). \
            Forgotten memories keep their history (strata history ID shows the DELETE). \
            Prints the ids forgotten, one a line (with --json: {"forgotten": [ids]}).

            Example:
              strata forget m-018e0c9a4f000000a1b2c3d4
              strata forget --filter '{"session": "2024-03-01"}' --scope org/assistant
              strata forget --all --scope org/assistant
            """)

    @Argument(help: "The id of the memory to forget.")
    var id: String?

    @Option(help: ArgumentHelp("Forget every memory whose metadata matches this JSON filter.", valueName: "json"))
    var filter: String?

    @Option(help: ArgumentHelp("With --filter or --all: only memories this node owns.", valueName: "path"))
    var scope: String?

    @Flag(help: "Forget every memory (with --scope: every memory that node owns).")
    var all = false

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func validate() throws {
        switch (id, filter, all) {
        case (nil, nil, false): throw ValidationError("give the id of a memory, --filter JSON or --all")
        case (_?, _?, _), (_?, _, true), (_, _?, true): throw ValidationError("give one of an id, --filter or --all")
        case (_?, nil, false) where scope != nil: throw ValidationError("--scope goes with --filter or --all, not with an id")
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
                let parsed = try filter.map { (f: String) throws(StrataError) -> Filter in try OptionValues.filter(f) } ?? .always
                if parsed.isAlways, !all {
                    throw StrataError(.invalidArgument, "the filter \(filter ?? "{}") has no condition, so it would forget every memory\(scope.map { " scope \($0) owns" } ?? " in the store"); use --all for that")
                }
                let node = try scope.map { (s: String) throws(StrataError) -> ScopePath in try OptionValues.scope(s) }
                forgotten = try store.openEngine().forget(filter: parsed, scope: node, all: all)
            }
            if output.json {
                printJSON(Answer.forgotten(forgotten))
                return
            }
            if forgotten.isEmpty { printError("strata: the filter matched no memory; nothing was forgotten") }
            for id in forgotten { print(id) }
        }
    }
}
