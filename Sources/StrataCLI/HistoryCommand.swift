import ArgumentParser
import StrataCore
import StrataEngine
import StrataWire

/// `strata history ID`: every change to one memory, oldest first.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show every change to one memory, oldest first: ADD, UPDATE, DELETE.",
        discussion: """
            Each entry has its time, event, reason, and the old and new values; text output \
            shows what changed. An id never seen exits with 12. A forgotten memory still has \
            its history. --json prints {"history": [{"event", "memory_id", "at", "reason", \
            "old", "new"}]}.

            Example:
              strata history m-018e0c9a4f000000a1b2c3d4
            """)

    @Argument(help: "The memory's id.")
    var id: String

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let entries = try store.openEngineForReading().history(id: id)
            if output.json {
                printJSON(Answer.history(entries))
                return
            }
            for entry in entries {
                print("\(entry.at.iso8601)  \(entry.event.rawValue.padding(6))  \(entry.reason)")
                for line in Self.changes(from: entry.old, to: entry.new) { print("    \(line)") }
            }
        }
    }

    /// The fields that differ between two versions, as `field: old -> new` (or the content alone
    /// for an ADD or DELETE). Access bookkeeping and the update time are left out: they change
    /// on every write and would hide what the user did.
    /// Content on one line of the listing (see `TerminalText`).
    static func line(_ content: String) -> String { TerminalText.escaped(content, keepNewlines: false) }

    static func changes(from old: Memory?, to new: Memory?) -> [String] {
        switch (old, new) {
        case (nil, let m?): return ["+ \(Self.line(m.content))"]
        case (let m?, nil): return ["- \(Self.line(m.content))"]
        case (let a?, let b?):
            var out: [String] = []
            if a.content != b.content { out += ["- \(Self.line(a.content))", "+ \(Self.line(b.content))"] }
            func field(_ name: String, _ x: String, _ y: String) { if x != y { out.append("\(name): \(x) -> \(y)") } }
            field("metadata", Format.json(.object(a.metadata)), Format.json(.object(b.metadata)))
            field("category", a.category, b.category)
            field("importance", Format.number(a.importance), Format.number(b.importance))
            field("visibility", a.visibility.rawValue, b.visibility.rawValue)
            field("tier", a.tier, b.tier)
            field("pinned", String(a.pinned), String(b.pinned))
            return out
        case (nil, nil): return []
        }
    }
}
