import ArgumentParser
import StrataCore
import StrataEngine
import StrataWire
import StrataPlugins

/// `strata config`: write out or check a configuration document.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Write out or check a configuration document.",
        subcommands: [DefaultCommand.self, CheckCommand.self])

    struct DefaultCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "default", abstract: "Print the embedded default configuration with every key explicit.")
        func run() { printJSON(EngineConfiguration.embeddedDefault.json) }
    }

    struct CheckCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Decode a configuration file and open the engine it describes (plugins are loaded), then close it.",
            discussion: """
                A relative "path" in a backend's options names a file next to the configuration \
                file (as in .strata/strata.json), not in the working directory. Exits 0 when the \
                stack opens; otherwise prints the error naming the key or file, with its exit code. \
                Opening is the check: a store whose files do not exist yet is created, as the \
                first command on it would create it.
                """)

        @Argument(help: "The JSON configuration file.")
        var file: String

        @OptionGroup var output: OutputOptions

        func run() throws {
            try withEngineErrors(json: output.json) {
                let config = try EngineConfiguration(contentsOfFile: file)
                let engine = try Engine(configuration: config, backends: PluginBackends(pluginDirectories: config.pluginDirectories, configurationFile: file))
                if output.json {
                    printJSON(.object(["file": .string(file), "ok": true, "store": .string(engine.store.name),
                                       "embedder": .string(engine.embedder.modelID), "summarizer": .string(engine.summarizer.name),
                                       "dimension": .number(Double(engine.dimension))]))
                } else {
                    print("\(file): ok (store \(engine.store.name), embedder \(engine.embedder.modelID), summarizer \(engine.summarizer.name), dimension \(engine.dimension))")
                }
            }
        }
    }
}
