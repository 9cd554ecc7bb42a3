import ArgumentParser
import StrataCore
import StrataEngine
import StrataWire

/// `strata snapshot NAME`: saves every memory under a name, for `strata rollback NAME`.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Save every memory as a named snapshot, to roll back to later.",
        discussion: """
            A snapshot holds every memory with its metadata, vector and access count (not \
            history, which is never rolled back). The SQLite store keeps it in a file beside its \
            database (strata.db.snapshots/NAME.sqlite), the file store beside its log; the memory \
            preset keeps it only for the process, so it is gone when the command ends. A name is \
            1 to 64 letters, digits, ".", "_" or "-" (another exits with 11); a name in use exits \
            with 24. --delete removes a snapshot instead (an unknown name exits with 12). \
            --json prints {"name", "created_at", "memories", "bytes"}.

            Example:
              strata snapshot before-import
              strata import notes.jsonl
              strata rollback before-import
            """)

    @Argument(help: "The snapshot's name.")
    var name: String

    @Flag(help: "Delete the snapshot NAME instead of making one.")
    var delete = false

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let engine = try store.openEngine()
            if delete {
                try engine.deleteSnapshot(name: name)
                if output.json { printJSON(.object(["deleted": .string(name)])) } else { print("Deleted snapshot \(name).") }
                return
            }
            let info = try engine.snapshot(name: name)
            if output.json {
                printJSON(info.json)
                return
            }
            let place = info.bytes.map { "\($0) bytes" } ?? "in memory only (the memory preset: gone when this command ends)"
            print("Saved snapshot \(info.name): \(info.memories) memor\(info.memories == 1 ? "y" : "ies"), \(place).")
        }
    }
}

/// `strata snapshots`: the snapshots of the store, oldest first.
struct SnapshotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "List the snapshots of the store, oldest first.",
        discussion: """
            One line each: name, creation time, memories held, size on disk. No snapshot prints \
            nothing on stdout (and says so on stderr). --json prints {"snapshots": [{"name", \
            "created_at", "memories", "bytes"}]}.

            Example:
              strata snapshots --dir /tmp/notes
            """)

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let list = try store.openEngineForReading().snapshots()
            if output.json {
                printJSON(Answer.snapshots(list))
                return
            }
            if list.isEmpty { printError("strata: the store has no snapshots; make one with strata snapshot NAME") }
            let width = list.map(\.name.count).max() ?? 0
            for s in list {
                let size = s.bytes.map { "  \($0) bytes" } ?? ""
                print("\(s.name.padding(width))  \(s.createdAt.iso8601)  \(s.memories) memor\(s.memories == 1 ? "y" : "ies")\(size)")
            }
        }
    }
}

/// `strata rollback NAME`: makes the memories those of a snapshot again.
struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Roll the memories back to a snapshot; say how many were added, removed and changed.",
        discussion: """
            Afterwards the memories are exactly the snapshot's: those stored since are removed, \
            those forgotten since come back, those changed since get their old content, metadata, \
            vector and access count. History keeps everything: each memory the rollback changes \
            gets one more entry (ADD, DELETE or UPDATE, "rollback to snapshot NAME"). An unknown \
            name exits with 12, a damaged snapshot file with 26 (nothing is changed). --json \
            prints {"snapshot", "added": [ids], "removed": [ids], "changed": [ids]}.

            Example:
              strata rollback before-import
            """)

    @Argument(help: "The snapshot to roll back to.")
    var name: String

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let report = try store.openEngine().rollback(name: name)
            if output.json {
                printJSON(report.json)
                return
            }
            print("Rolled back to snapshot \(name): \(report.added.count) added, \(report.removed.count) removed, \(report.changed.count) changed.")
        }
    }
}
