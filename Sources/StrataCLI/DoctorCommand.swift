import ArgumentParser
import StrataCore
import StrataEngine

/// `strata doctor`: checks every file of a store and says exactly what is damaged.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check a store's files and say exactly what is damaged; changes nothing.",
        discussion: """
            Reads every file of the store (and of each tier with its own store) the way \
            strata salvage does, without opening the store for use and without writing: \
            a damaged store that no other command can open can still be checked. Prints \
            each damaged part (file, where, what is wrong, what it costs) and how many \
            memories can still be read. Exit 0 when nothing is damaged, 26 \
            (STRATA_ERR_CORRUPT) when something is; then strata salvage OUT copies every \
            readable memory into a new store.

            --json prints {"healthy", "stores": [{"store", "backend", "readable", \
            "findings": [{"file", "location", "problem", "lost"?}]}]}.

            Example:
              strata doctor --dir /var/lib/agent/.strata
            """)

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let inspection = try StoreInspection(configuration: try store.configuration(), file: store.configurationFile)
            var reports: [JSONValue] = []
            var damaged = false
            for part in inspection.parts {
                let (records, findings) = try inspection.read(part, record: nil)
                damaged = damaged || !findings.isEmpty
                reports.append(.object([
                    "store": .string(part.path), "backend": .string(part.choice.label),
                    "readable": .number(Double(records)), "findings": .array(findings.map(\.json)),
                ]))
                if !output.json {
                    let verdict = findings.isEmpty ? "no damage found" : "\(findings.count) damaged part\(findings.count == 1 ? "" : "s")"
                    print("\(part.path) (\(part.choice.label)): \(records) memor\(records == 1 ? "y" : "ies") readable, \(verdict)")
                    for f in findings { print("  - \(f.line)") }
                }
            }
            if output.json {
                printJSON(.object(["healthy": .bool(!damaged), "stores": .array(reports)]))
            } else if damaged {
                print("Run `strata salvage OUT` to copy every readable memory into a new store in the folder OUT.")
            }
            if damaged { throw ExitCode(StrataError.Code.corrupt.exitCode) }
        }
    }
}
