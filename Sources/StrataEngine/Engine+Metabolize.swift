import StrataCore

extension Engine {
    /// Runs one lifecycle cycle (see `Metabolism` for the steps and `MetabolizeReport` for the
    /// answer): memories migrate between tiers, are compressed, pruned, merged, consolidated
    /// into episodes and folded into patterns, each change with a history row giving its reason.
    ///
    /// The cycle holds the writer lock from reading the memories to committing the change, so
    /// it sees and writes one consistent state (stores and updates wait for it; recalls do not,
    /// and the access counts they record meanwhile are applied when the cycle commits).
    /// A summarizer or embedder failure leaves the memories concerned as they were and is listed
    /// in the report's `errors`; the rest of the cycle is committed.
    /// - Parameters:
    ///   - now: the time the rules are applied at (default: the engine's clock).
    ///   - dryRun: plan and report without changing anything (nor calling the summarizer).
    public func metabolize(now: Timestamp? = nil, dryRun: Bool = false) throws(StrataError) -> MetabolizeReport {
        let started = ContinuousClock.now
        let at = now ?? clock.now()
        let plan = try write { (state: inout WriterState) throws(StrataError) -> Metabolism.Plan in
            var records: [StoredRecord] = []
            try store.scan(filter: nil) { (r: StoredRecord) throws(StrataError) -> Bool in
                records.append(r)
                return true
            }
            let metabolism = Metabolism(
                configuration: configuration, now: at, dryRun: dryRun, summarizer: summarizer,
                embed: { (texts: [String]) throws(StrataError) -> [[Float]] in try self.embed(texts) }, model: embedder.modelID)
            var plan = metabolism.plan(records) { nextID(&state, now: at) }
            plan.report.durationMilliseconds = Self.milliseconds(since: started)
            guard !dryRun else { return plan }
            let totals = try lifecycleTotals().adding(plan.report)
            plan.change.history.append(HistoryEntry(event: .update, memoryID: LifecycleLedger.id, at: at, old: nil, new: nil,
                                                    reason: JSONWriter.string(totals.json)))
            try commit(plan.change, &state)
            shared.withLock { s in
                for id in plan.change.removals { s.keywords?.remove(id: id) }
                for r in plan.change.upserts { s.keywords?.add(id: r.memory.id, text: r.memory.content) }
                s.operations["metabolize", default: 0] += 1
            }
            return plan
        }
        var report = plan.report
        report.durationMilliseconds = Self.milliseconds(since: started)
        if !dryRun { hub.publish(plan.events + [MemoryEvent(kind: .metabolized, memoryID: LifecycleLedger.id, at: at, memory: nil)]) }
        return report
    }

    /// The totals of every cycle so far (the last row of the lifecycle ledger).
    public func lifecycleTotals() throws(StrataError) -> LifecycleLedger {
        let rows = store.keepsHistory ? try store.history(id: LifecycleLedger.id) : history(of: LifecycleLedger.id)
        guard let last = rows.last else { return LifecycleLedger() }
        return try LifecycleLedger(text: last.reason, what: "lifecycle ledger row of \(last.at.iso8601)")
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
