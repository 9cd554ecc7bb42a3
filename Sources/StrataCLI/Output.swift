import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataWire

/// `--json`, shared by every command.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON document instead of text.")
    var json = false
}

/// Prints one JSON document on one line: the wire's bytes (`Wire.text`), the same the C ABI
/// answers for the same request, so a script may use either face.
func printJSON(_ value: JSONValue) {
    Swift.print(Wire.text(value))
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
            printJSON(Answer.error(error))
        }
        printError("strata: \(error.code.cName): \(error.message)")
        throw ExitCode(error.code.exitCode)
    }
}

/// True when standard output is a terminal (for colour and progress).
var stdoutIsTerminal: Bool { isatty(1) != 0 }
