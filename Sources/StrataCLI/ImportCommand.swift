import ArgumentParser
import StrataCore
import StrataEngine

/// `strata import FILE.jsonl`: stores the memories of a JSONL file, in batches.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store the memories of a JSONL file (one memory record per line), in batches.",
        discussion: """
            Each line is a JSON object. Only "content" is required; import also takes \
            "metadata", "scope", "visibility", "tier", "category", "importance", "pinned", \
            "created_at" (ISO-8601: the memory keeps its real age) and "expires_at" (the same \
            lifetime after created_at). It ignores the fields the engine assigns again: "id" \
            (imported memories get new ids), "updated_at", "accessed_at", "access_count" and \
            "model" (the text is embedded again). Any other key is an error. Blank lines are \
            skipped. So the output of strata export imports as it is.

            Partial imports: lines are stored in batches of --batch-size, each batch atomically \
            (all of it or none of it), in file order. A bad line (not JSON, not UTF-8, a wrong \
            field) or a failed store stops the import with an error naming the line and the \
            problem: the batches before it are stored, nothing from its batch on is, and the \
            message says which line to resume from (tail -n +N FILE | strata import -). Run \
            with --check first to find every problem without storing anything.

            Memories go through the normal store path: a near-identical memory in the same \
            scope updates the existing one (counted as merged). A progress bar is drawn on \
            stderr when stderr is a terminal.

            Example:
              strata import notes.jsonl
              echo '{"content": "Kickoff moved to Friday", "created_at": "2024-03-01T09:30:00Z"}' | strata import -
            """)

    @Argument(help: ArgumentHelp("The JSONL file, or - for standard input.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Memories per atomic batch.", valueName: "n"))
    var batchSize = 1000

    @Flag(help: "Decode every line and report problems; store nothing.")
    var check = false

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be in 1...100000") }
    }

    func run() throws {
        try withEngineErrors(json: output.json) {
            let reader = try LineReader(path: file)
            let engine = check ? nil : try store.openEngine()
            var bar = ProgressBar(total: reader.totalBytes)
            let summary = try JSONLImport(reader: reader, engine: engine, batchSize: batchSize).run { bytes, records in
                bar.update(done: bytes, items: records)
            }
            bar.finish()
            if output.json {
                printJSON(.object([
                    "file": .string(file), "records": .number(Double(summary.records)), "checked_only": .bool(check),
                    "stored": .number(Double(summary.stored)), "merged": .number(Double(summary.deduplicated)),
                    "batches": .number(Double(summary.batches)),
                ]))
            } else if check {
                print("\(file): \(summary.records) memor\(summary.records == 1 ? "y" : "ies"), every line valid; nothing stored (--check).")
            } else {
                print("Imported \(summary.records) memor\(summary.records == 1 ? "y" : "ies") from \(file) in \(summary.batches) batch\(summary.batches == 1 ? "" : "es"): "
                    + "\(summary.stored) new, \(summary.deduplicated) merged into near-identical memories.")
            }
        }
    }
}
