import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine

/// `strata export FILE.jsonl`: writes every memory as one JSON record per line.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every memory to a JSONL file, one memory record per line.",
        discussion: """
            Each line is the memory's record, as strata get --json prints it (id, content, \
            metadata, scope, visibility, tier, category, importance, pinned, created_at, \
            updated_at, accessed_at, access_count, expires_at, model), compact with sorted \
            keys. Expired memories are exported too. Embeddings are not: import embeds the \
            text again. strata import reads the file back as it is.

            A file is written next to its final name and renamed into place when complete, \
            so an existing file is replaced only by a whole export. With - the lines go to \
            stdout (and --json is refused, as it would mix a summary into the data).

            Example:
              strata export backup.jsonl
              strata export - | strata import --dir /tmp/copy -
            """)

    @Argument(help: ArgumentHelp("The JSONL file to write, or - for standard output.", valueName: "file"))
    var file: String

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if file == "-", output.json { throw ValidationError("--json cannot be used with -: stdout carries the exported lines") }
    }

    func run() throws {
        try withEngineErrors(json: output.json) {
            let engine = try store.openEngine()
            let target = file == "-" ? "-" : "\(file).tmp-\(getpid())"
            let out = try OutputFile(path: target, name: file)
            var count = 0
            do {
                try engine.store.scan(filter: nil) { (record: StoredRecord) throws(StrataError) -> Bool in
                    try out.write(MemoryLine.encode(record.memory) + "\n")
                    count += 1
                    return true
                }
                try out.close()
                if target != "-" { try FileSystem.publish(target, as: file, replacing: true) }
            } catch {
                if target != "-" { unlink(target) }
                throw error
            }
            if output.json {
                printJSON(.object(["file": .string(file), "memories": .number(Double(count))]))
            } else if file != "-" {
                print("Exported \(count) memor\(count == 1 ? "y" : "ies") to \(file).")
            }
        }
    }
}
