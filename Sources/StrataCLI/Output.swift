import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// `--json`, shared by every command.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON document instead of text.")
    var json = false
}

/// Prints JSON pretty-printed with sorted keys.
func printJSON(_ value: JSONValue) {
    Swift.print(JSONWriter.string(value, pretty: true))
}

/// Writes a line (or, without `newline`, just the text) to standard error.
func printError(_ text: String, newline: Bool = true) {
    var line = TerminalText.escaped(text) + (newline ? "\n" : "")
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// Runs a command body, turning a `StrataError` into its message on stderr and its exit code
/// (10 - status, so STRATA_ERR_NOT_FOUND (-2) exits with 12).
func withEngineErrors(json: Bool, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as StrataError {
        if json {
            printJSON(.object(["error": .object([
                "status": .string(error.code.cName), "code": .number(Double(error.code.rawValue)), "message": .string(error.message),
            ])]))
        }
        printError("strata: \(error.code.cName): \(error.message)")
        throw ExitCode(error.code.exitCode)
    }
}

/// True when standard output is a terminal (for colour and progress).
var stdoutIsTerminal: Bool { isatty(1) != 0 }
