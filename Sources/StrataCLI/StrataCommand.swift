import ArgumentParser
import StrataCore

/// `strata`: the command-line face of the engine.
@main
struct StrataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "A layered memory engine for agents and learning systems.",
        discussion: """
            Exit codes: 0 success, 1 failure of a check (demo or plugin check), 64 usage error, \
            and 10 - status for an engine error (11 invalid argument, 12 not found, 13 invalid config, \
            14 plugin, 15 ABI mismatch, 16 I/O, ...; see include/strata/status.h).
            """,
        version: StrataVersion.string,
        subcommands: [VersionCommand.self, DemoCommand.self, ConfigCommand.self, PluginsCommand.self, PluginCommand.self, BenchCommand.self])
}

enum StrataVersion {
    static let string = "0.1.0"
}
