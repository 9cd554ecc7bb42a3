import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// `strata`: the command-line face of the engine.
@main
struct StrataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "A layered memory engine for agents and learning systems.",
        discussion: """
            Store and recall memories from a shell. `strata init` creates a store in ./.strata \
            (or --dir DIR, or $STRATA_DIR); add, recall, get, update, forget, history, stats, \
            import, export, anomalies, snapshot, snapshots, rollback, doctor, salvage, reembed, serve and token then work on it, each call its own \
            process. Every command takes --help and --json (one JSON document on stdout); errors \
            go to stderr and name the culprit.

            Exit codes (engine errors exit with 10 - status, see include/strata/status.h):
            \(ExitCodeTable.text)
            """,
        version: StrataVersion.string,
        subcommands: [
            InitCommand.self, AddCommand.self, RecallCommand.self, GetCommand.self, UpdateCommand.self, ForgetCommand.self,
            HistoryCommand.self, StatsCommand.self, MetabolizeCommand.self, AnomaliesCommand.self, ImportCommand.self, ExportCommand.self,
            SnapshotCommand.self, SnapshotsCommand.self, RollbackCommand.self, DoctorCommand.self, SalvageCommand.self,
            VersionCommand.self, DemoCommand.self, ReembedCommand.self, ConfigCommand.self, PluginsCommand.self, PluginCommand.self, BenchCommand.self,
            ServeCommand.self, TokenCommand.self, MCPCommand.self,
        ])
}

extension StrataCommand {
    /// Checks every argument's bytes before parsing: Swift decodes `argv` by replacing invalid
    /// UTF-8 with U+FFFD, which would store text other than what was given. An argument that
    /// is not UTF-8 is refused (exit 20, STRATA_ERR_INVALID_UTF8), naming it and the byte.
    static func main() {
        let argv = CommandLine.unsafeArgv
        for i in 1..<Int(CommandLine.argc) {
            guard let arg = argv[i] else { continue }
            let count = strlen(arg)
            do {
                _ = try arg.withMemoryRebound(to: UInt8.self, capacity: count) { (p) throws(StrataError) -> String in
                    try validatedString(UnsafeBufferPointer(start: p, count: count), what: "argument \(i)")
                }
            } catch {
                printError("strata: \(error.code.cName): \(error.message); nothing was stored")
                Glibc.exit(error.code.exitCode)
            }
        }
        main(nil)
    }
}

enum StrataVersion {
    static let string = "0.1.0"
}
