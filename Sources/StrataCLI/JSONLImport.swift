import StrataCore
import StrataEngine

/// Imports a JSONL file of memory records (see `MemoryLine`) in batches.
///
/// Each batch is one atomic engine store: it is stored whole or not at all. Batches are
/// stored in file order, so when a line is bad or a store fails, every batch before it is
/// stored and nothing from the failing batch on is; the error names the line and says how
/// to resume. With no engine (a check), every line is decoded and nothing is stored.
struct JSONLImport {
    let reader: LineReader
    let engine: Engine?
    let batchSize: Int

    struct Summary {
        var records = 0
        var stored = 0
        var deduplicated = 0
        var batches = 0
    }

    /// Runs to the end of the file; `progress` is called after each batch.
    func run(progress: (_ bytes: Int64, _ records: Int) -> Void) throws(StrataError) -> Summary {
        var summary = Summary()
        var batch: [NewMemory] = []
        var batchFirstLine = 0
        // The last line of the last batch stored: everything up to it is in the store.
        var storedThrough = 0
        let now = SystemClock().now()

        func flush() throws(StrataError) {
            guard !batch.isEmpty else { return }
            if let engine {
                let outcomes: [StoreOutcome]
                do { outcomes = try engine.store(batch) } catch {
                    throw error.prefixed("storing lines \(batchFirstLine)-\(reader.lineNumber)")
                }
                summary.stored += outcomes.filter { !$0.deduplicated }.count
                summary.deduplicated += outcomes.filter(\.deduplicated).count
                summary.batches += 1
            }
            storedThrough = reader.lineNumber
            batch.removeAll(keepingCapacity: true)
            progress(reader.bytesRead, summary.records)
        }

        do {
            while let line = try reader.next() {
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                if batch.isEmpty { batchFirstLine = reader.lineNumber }
                batch.append(try MemoryLine.decode(line, line: reader.lineNumber, now: now))
                summary.records += 1
                if batch.count == batchSize { try flush() }
            }
            try flush()
        } catch {
            throw StrataError(error.code, "\(reader.name): \(error.message); \(resumeAdvice(storedThrough: storedThrough))")
        }
        return summary
    }

    private func resumeAdvice(storedThrough: Int) -> String {
        guard engine != nil else { return "nothing was stored (check only)" }
        guard storedThrough > 0 else { return "nothing was stored" }
        let file = reader.path == "-" ? "FILE" : reader.path
        return "lines 1-\(storedThrough) were stored and nothing after them; "
            + "to resume from line \(storedThrough + 1): tail -n +\(storedThrough + 1) \(file) | strata import -"
    }
}
