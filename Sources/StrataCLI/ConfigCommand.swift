import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
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
            discussion: "Exits 0 when the stack opens; otherwise prints the error naming the key or file, with its exit code.")

        @Argument(help: "The JSON configuration file.")
        var file: String

        @OptionGroup var output: OutputOptions

        func run() throws {
            try withEngineErrors(json: output.json) {
                let text = try readTextFile(file)
                let config = try EngineConfiguration(text: text, source: file)
                let engine = try Engine(configuration: config, backends: PluginBackends(pluginDirectories: config.pluginDirectories))
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

/// Reads a whole UTF-8 text file; errors name the file.
func readTextFile(_ path: String) throws(StrataError) -> String {
    guard let f = fopen(path, "rb") else {
        throw StrataError(.io, "cannot open \(path): \(String(cString: strerror(errno)))")
    }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buffer, 1, buffer.count, f)
        if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
        if n < buffer.count {
            if ferror(f) != 0 { throw StrataError(.io, "cannot read \(path)") }
            break
        }
    }
    return try bytes.withUnsafeBufferPointer { (b) throws(StrataError) -> String in try validatedString(b, what: path) }
}
