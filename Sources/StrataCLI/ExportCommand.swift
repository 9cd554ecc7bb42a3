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

            A file is written next to its final name (mode 0600) and moved into place when \
            complete. An existing file is refused (exit 24) unless --force is given, and then \
            replaced only by a whole export; a file of the store itself (anything in the store \
            folder, the database or log and the files beside it) is refused even with --force. \
            With - the lines go to stdout (and --json is refused, as it would mix a summary \
            into the data).

            Example:
              strata export backup.jsonl
              strata export - | strata import --dir /tmp/copy -
            """)

    @Argument(help: ArgumentHelp("The JSONL file to write, or - for standard output.", valueName: "file"))
    var file: String

    @Flag(help: "Replace an existing file (never one of the store's own files).")
    var force = false

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if file == "-", output.json { throw ValidationError("--json cannot be used with -: stdout carries the exported lines") }
    }

    func run() throws {
        try withEngineErrors(json: output.json) {
            let configuration = try store.configuration()
            if file != "-" {
                try store.files(configuration).refuseOverwrite(file, what: "export")
                if !force, access(file, F_OK) == 0 {
                    throw StrataError(.conflict, "\(file) already exists; pass --force to replace it")
                }
            }
            let engine = try store.openEngineForReading()
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
                if target != "-" { try FileSystem.publish(target, as: file, replacing: force) }
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
