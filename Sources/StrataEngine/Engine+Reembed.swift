import StrataCore

/// What `Engine.reembed` did.
public struct ReembedReport: Sendable, Equatable {
    /// The space the memories were in and the one they are in now.
    public var from: EmbeddingSpace
    public var to: EmbeddingSpace
    /// Memories in the store at the end (all of them in `to`).
    public var memories = 0
    /// Memories embedded by this run (the rest were already in the target, from a run that was
    /// interrupted, or changed only in fields other than content).
    public var embedded = 0
    /// Memories already in the target with the same content: their vectors were kept.
    public var kept = 0
    /// Memories the target held that the store no longer does (forgotten during the move).
    public var removed = 0
    /// Batches committed to the target.
    public var batches = 0
}

extension Engine {
    /// Copies every memory of this engine's store into `target`'s store, re-embedded by
    /// `target`'s embedder: the work of moving a store to another embedding space.
    ///
    /// How it stays safe:
    /// - **Beside, not in place.** The new vectors go into another store (`target`, opened on
    ///   another file with the new embedder), so this store keeps its vectors and this engine
    ///   keeps answering recall from the old space the whole time. The switch is the caller's,
    ///   in one atomic step once this returns: `strata reembed` renames the new `strata.json`
    ///   (naming the new file and embedder) over the old one.
    /// - **Batches, each atomic.** Memories go over `batchSize` at a time; each batch (the
    ///   records with their history rows) is one `commit` of the target, so after a crash the
    ///   target holds whole batches only.
    /// - **Resumable.** Running it again with a target on the same file picks up where it
    ///   stopped: a memory already in the target with the same content keeps its new vector
    ///   (its other fields are refreshed), so nothing is embedded twice and, ids being the
    ///   store's keys, nothing is there twice.
    /// - **Nothing lost to writes made meanwhile.** A first pass runs without the writer lock
    ///   (writes go on into this store); a last pass, under this engine's writer lock, copies
    ///   what they changed, removes from the target what was forgotten, and brings every
    ///   memory's history over (rows are appended past the ones the target has). Writes from
    ///   other processes must have stopped before the last pass (`strata reembed` checks that
    ///   no other connection holds the store when it switches).
    ///
    /// History: every memory's rows and the lifecycle ledger's are copied; rows of memories
    /// forgotten before the move stay in the old store only.
    /// - Parameters:
    ///   - target: an engine with the new embedder on an empty store or one a previous run of
    ///     this method filled; never this engine.
    ///   - batchSize: memories per embedding call and per commit (1...10,000).
    ///   - progress: called after each batch with (memories done, memories in the store).
    /// - Throws: `.invalidArgument` for a bad batch size or `target` being this engine; the
    ///   embedder's and stores' errors (whatever was committed before stays, for a later run).
    /// - Complexity: one scan of the store per pass, one embedding per memory not yet moved.
    public func reembed(into target: Engine, batchSize: Int = 64, progress: ((Int, Int) -> Void)? = nil) throws(StrataError) -> ReembedReport {
        guard target !== self else { throw StrataError(.invalidArgument, "reembed needs another engine as its target, on another store") }
        guard (1...10_000).contains(batchSize) else { throw StrataError(.invalidArgument, "batch size must be in 1...10000, got \(batchSize)") }
        var report = ReembedReport(from: space, to: target.space)
        try moveChanged(into: target, batchSize: batchSize, report: &report, progress: progress)
        try write { (_: inout WriterState) throws(StrataError) in
            var last = report
            try moveChanged(into: target, batchSize: batchSize, report: &last, progress: nil)
            report.embedded = last.embedded
            report.batches = last.batches
            var ids = Set<String>()
            try store.scan(filter: nil) { (r: StoredRecord) throws(StrataError) -> Bool in
                ids.insert(r.memory.id)
                return true
            }
            var gone: [String] = []
            try target.store.scan(filter: nil) { (r: StoredRecord) throws(StrataError) -> Bool in
                if !ids.contains(r.memory.id) { gone.append(r.memory.id) }
                return true
            }
            let history = try missingHistory(of: gone + [LifecycleLedger.id], in: target)
            if !gone.isEmpty || !history.isEmpty {
                try target.write { (_: inout WriterState) throws(StrataError) in
                    try target.commit(StoreChange(removals: gone, history: history))
                    target.shared.withLock { s in for id in gone { s.keywords?.remove(id: id) } }
                }
            }
            report.removed = gone.count
            report.memories = ids.count
            report.to = target.space
        }
        return report
    }

    /// One pass: every memory whose content the target lacks is embedded and committed in
    /// batches; one whose other fields changed is refreshed with its vector kept.
    private func moveChanged(
        into target: Engine, batchSize: Int, report: inout ReembedReport, progress: ((Int, Int) -> Void)?
    ) throws(StrataError) {
        var memories: [Memory] = []
        try store.scan(filter: nil) { (r: StoredRecord) throws(StrataError) -> Bool in
            memories.append(r.memory)
            return true
        }
        memories.sort { $0.id < $1.id }
        var done = 0
        for start in stride(from: 0, to: memories.count, by: batchSize) {
            let batch = memories[start..<min(start + batchSize, memories.count)]
            var records: [StoredRecord] = []
            var toEmbed: [Memory] = []
            for m in batch {
                if let have = try target.store.get(id: m.id), have.memory.content == m.content {
                    var moved = m
                    moved.model = have.memory.model
                    if moved != have.memory {
                        records.append(StoredRecord(memory: moved, vector: have.vector))
                    }
                    report.kept += 1
                } else {
                    toEmbed.append(m)
                }
            }
            if !toEmbed.isEmpty {
                let vectors = try target.embed(toEmbed.map(\.content))
                for (m, v) in zip(toEmbed, vectors) {
                    var moved = m
                    moved.model = target.embedder.modelID
                    records.append(StoredRecord(memory: moved, vector: v))
                }
                report.embedded += toEmbed.count
            }
            let history = try missingHistory(of: batch.map(\.id), in: target)
            if !records.isEmpty || !history.isEmpty {
                try target.write { (_: inout WriterState) throws(StrataError) in
                    try target.commit(StoreChange(upserts: records, history: history))
                    target.shared.withLock { s in for r in records { s.keywords?.add(id: r.memory.id, text: r.memory.content) } }
                }
                report.batches += 1
            }
            done += batch.count
            progress?(done, memories.count)
        }
    }

    /// The history rows of `ids` this store has and `target` has not yet (those past the
    /// target's count), when both keep history.
    private func missingHistory(of ids: [String], in target: Engine) throws(StrataError) -> [HistoryEntry] {
        guard store.keepsHistory, target.store.keepsHistory else { return [] }
        var rows: [HistoryEntry] = []
        for id in ids {
            let mine = try store.history(id: id)
            guard !mine.isEmpty else { continue }
            let theirs = try target.store.history(id: id).count
            if theirs < mine.count { rows += mine[theirs...] }
        }
        return rows
    }
}
