import StrataCore

extension Engine {
    /// Runs one lifecycle cycle (see `Metabolism` for the steps and `MetabolizeReport` for the
    /// answer): memories migrate between tiers, are compressed, pruned, merged, consolidated
    /// into episodes and folded into patterns, each change with a history row giving its reason.
    ///
    /// The cycle plans from a scan of the memories without the writer lock, so the summarizer
    /// and embedder calls (seconds, for a remote model) hold up no store, update or recall. It
    /// then takes the lock and commits the plan if no memory the plan changes or removes was
    /// changed meanwhile (access counts aside: those recorded meanwhile are kept); otherwise it
    /// plans again from the memories as they are, under the lock, and commits that. Either way
    /// the change is one consistent step. Cycles run one at a time (a second waits for the first
    /// to commit, then plans from its result); dry runs do not wait. A summarizer or embedder
    /// failure leaves the memories concerned as they were and is listed in the report's
    /// `errors`; the rest is committed.
    /// - Parameters:
    ///   - now: the time the rules are applied at (default: the engine's clock).
    ///   - dryRun: plan and report without changing anything (nor calling the summarizer).
    public func metabolize(now: Timestamp? = nil, dryRun: Bool = false) throws(StrataError) -> MetabolizeReport {
        let started = ContinuousClock.now
        if dryRun { return try cycle(now: now, dryRun: true, started: started) }
        return try cycles.withLock { (_: inout Void) throws(StrataError) -> MetabolizeReport in
            try cycle(now: now, dryRun: false, started: started)
        }
    }

    /// A cycle run by a schedule (the engine's own, `lifecycle.schedule_minutes`, or a server's):
    /// `metabolize()`, except that a failure is never silent. It is counted (`stats().operations`,
    /// `"metabolize_failed"`) and published as a `lifecycle.failed` event with the error's
    /// message before it is thrown, so whoever runs the schedule need not be the one who hears.
    @discardableResult
    public func metabolizeOnSchedule() throws(StrataError) -> MetabolizeReport {
        do {
            return try metabolize()
        } catch {
            shared.withLock { $0.operations["metabolize_failed", default: 0] += 1 }
            hub.publish([MemoryEvent(kind: .lifecycleFailed, memoryID: LifecycleLedger.id, at: clock.now(), memory: nil,
                                     message: error.description)])
            throw error
        }
    }

    /// One cycle, `cycles` held unless it is a dry run.
    private func cycle(now: Timestamp?, dryRun: Bool, started: ContinuousClock.Instant) throws(StrataError) -> MetabolizeReport {
        let at = now ?? clock.now()
        let metabolism = Metabolism(
            configuration: configuration, now: at, dryRun: dryRun, summarizer: summarizer,
            embed: { (texts: [String]) throws(StrataError) -> [[Float]] in try self.embed(texts) }, model: embedder.modelID)
        let scanned = try allRecords()
        let draft = metabolism.plan(scanned) { nextID(now: at) }
        if dryRun {
            var report = draft.report
            report.durationMilliseconds = Self.milliseconds(since: started)
            return report
        }
        let plan = try write { (_: inout WriterState) throws(StrataError) -> Metabolism.Plan in
            var plan = draft
            if try !rebase(&plan, scanned: scanned) {
                plan = metabolism.plan(try allRecords()) { nextID(now: at) }
            }
            let totals = try lifecycleTotals().adding(plan.report)
            plan.change.history.append(HistoryEntry(event: .update, memoryID: LifecycleLedger.id, at: at, old: nil, new: nil,
                                                    reason: JSONWriter.string(totals.json)))
            try commit(plan.change)
            shared.withLock { s in
                for id in plan.change.removals { s.keywords?.remove(id: id) }
                for r in plan.change.upserts { s.keywords?.add(id: r.memory.id, text: r.memory.content) }
                s.operations["metabolize", default: 0] += 1
            }
            return plan
        }
        var report = plan.report
        report.durationMilliseconds = Self.milliseconds(since: started)
        hub.publish(plan.events + [MemoryEvent(kind: .metabolized, memoryID: LifecycleLedger.id, at: at, memory: nil)])
        return report
    }

    /// Every stored record.
    private func allRecords() throws(StrataError) -> [StoredRecord] {
        var records: [StoredRecord] = []
        try store.scan(filter: nil) { (r: StoredRecord) throws(StrataError) -> Bool in
            records.append(r)
            return true
        }
        return records
    }

    /// Whether `plan`, made from `scanned`, still applies to the store (writer lock held): every
    /// memory it replaces or removes is as it was scanned, but for its access count and time.
    /// Those changed by recalls since are carried into the replacements (a near-duplicate's
    /// into the memory it is merged into), so no access is lost, and into the plan's history
    /// rows and events, so they show the memories as committed.
    private func rebase(_ plan: inout Metabolism.Plan, scanned: [StoredRecord]) throws(StrataError) -> Bool {
        var before: [String: StoredRecord] = [:]
        for r in scanned { before[r.memory.id] = r }
        func unchanged(_ old: StoredRecord, _ now: StoredRecord) -> Bool {
            var a = old.memory, b = now.memory
            a.accessCount = 0
            b.accessCount = 0
            a.accessedAt = b.accessedAt
            return a == b && old.vector == now.vector
        }
        // The access fields each touched memory has now (`found`) and will have once committed
        // (`committed`), for the plan's history rows and events, written from the scan.
        var found: [String: Memory] = [:], committed: [String: Memory] = [:]
        for id in plan.change.removals {
            guard let old = before[id], let now = try store.get(id: id), unchanged(old, now) else { return false }
            found[id] = now.memory
        }
        var upserted: [String: Int] = [:]
        for i in plan.change.upserts.indices {
            guard let old = before[plan.change.upserts[i].memory.id] else { continue }  // made by this cycle
            guard let now = try store.get(id: old.memory.id), unchanged(old, now) else { return false }
            carryAccess(into: &plan.change.upserts[i].memory, old: old.memory, now: now.memory)
            found[old.memory.id] = now.memory
            upserted[old.memory.id] = i
        }
        // A near-duplicate merged away hands its accesses to the memory it merged into, as the
        // merge did with those it scanned.
        for (id, keeper) in plan.mergedInto {
            guard let i = upserted[keeper], let old = before[id], let now = found[id] else { continue }
            carryAccess(into: &plan.change.upserts[i].memory, old: old.memory, now: now)
        }
        for (id, i) in upserted { committed[id] = plan.change.upserts[i].memory }
        func carry(_ memory: inout Memory?, from source: Memory?) {
            guard let source, memory != nil else { return }
            memory!.accessCount = source.accessCount
            memory!.accessedAt = source.accessedAt
        }
        for i in plan.change.history.indices {
            let id = plan.change.history[i].memoryID
            carry(&plan.change.history[i].old, from: found[id])
            carry(&plan.change.history[i].new, from: committed[id])
        }
        for i in plan.events.indices { carry(&plan.events[i].memory, from: committed[plan.events[i].memoryID]) }
        return true
    }

    /// Adds the accesses recorded between `old` and `now` to `memory`.
    private func carryAccess(into memory: inout Memory, old: Memory, now: Memory) {
        memory.accessCount = memory.accessCount(adding: now.accessCount - old.accessCount)
        memory.accessedAt = max(memory.accessedAt, now.accessedAt)
    }

    /// The totals of every cycle so far (the last row of the lifecycle ledger, read alone).
    public func lifecycleTotals() throws(StrataError) -> LifecycleLedger {
        guard let last = try historyTail(id: LifecycleLedger.id, limit: 1).rows.last else { return LifecycleLedger() }
        return try LifecycleLedger(text: last.reason, what: "lifecycle ledger row of \(last.at.iso8601)")
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
