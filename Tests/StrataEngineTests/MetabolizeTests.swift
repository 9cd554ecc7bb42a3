import StrataBackends
import StrataCore
import StrataEngine
import StrataTesting
import Dispatch
import Foundation
import Synchronization
import Testing

/// A summarizer that fails while `failing` is set, to check a cycle loses nothing when it does.
final class SwitchableSummarizer: Summarizer {
    let failing = Mutex(false)
    let calls = Mutex(0)
    private let inner = try! ExtractiveSummarizer()
    var name: String { "switchable" }

    func summarize(_ texts: [String], maxCharacters: Int) throws(StrataError) -> String {
        calls.withLock { $0 += 1 }
        if failing.withLock({ $0 }) { throw StrataError(.backend, "the summary service is down") }
        return try inner.summarize(texts, maxCharacters: maxCharacters)
    }
}

/// A summarizer that, once `hold` is set, blocks every call until `release` (as a remote model
/// that takes its time would), and says when a call is waiting.
final class GatedSummarizer: Summarizer {
    private let inner = try! ExtractiveSummarizer()
    private let waiting = DispatchSemaphore(value: 0), gate = DispatchSemaphore(value: 0)
    let hold = Mutex(false)
    /// Calls so far.
    let calls = Mutex(0)
    var name: String { "gated" }

    func summarize(_ texts: [String], maxCharacters: Int) throws(StrataError) -> String {
        calls.withLock { $0 += 1 }
        if hold.withLock({ $0 }) {
            waiting.signal()
            gate.wait()
        }
        return try inner.summarize(texts, maxCharacters: maxCharacters)
    }

    /// Waits (up to `seconds`) until a call is blocked in `summarize`.
    func awaitCall(seconds: Double) -> Bool { waiting.wait(timeout: .now() + seconds) == .success }

    /// Lets the call waiting now through; later calls still wait.
    func pass() { gate.signal() }

    /// Lets every call through from now on.
    func release() {
        hold.withLock { $0 = false }
        gate.signal()
    }
}

/// The built-in backends with the summarizer swapped for one a test controls.
struct TestBackends: BackendProvider {
    let summarizer: any Summarizer
    let builtin = BuiltinBackends()
    func makeVectorStore(_ c: BackendChoice, dimension: Int, path: String) throws(StrataError) -> any VectorStore {
        try builtin.makeVectorStore(c, dimension: dimension, path: path)
    }
    func makeEmbedder(_ c: BackendChoice, path: String) throws(StrataError) -> any Embedder { try builtin.makeEmbedder(c, path: path) }
    func makeSummarizer(_ c: BackendChoice, path: String) throws(StrataError) -> any Summarizer { summarizer }
    func makeMemoryKernel(_ c: BackendChoice, path: String) throws(StrataError) -> any MemoryKernel {
        try builtin.makeMemoryKernel(c, path: path)
    }
}

@Suite struct MetabolizeTests {
    let clock = ManualClock()
    let summarizer = SwitchableSummarizer()

    func engine(_ json: JSONValue) throws -> Engine {
        try Engine(configuration: EngineConfiguration(json: json), backends: TestBackends(summarizer: summarizer), clock: clock)
    }

    func metabolic(_ extra: [String: JSONValue] = [:]) throws -> Engine {
        guard case .object(var o) = ConfigurationPresets.metabolic else { fatalError() }
        for (k, v) in extra { o[k] = v }
        o["dedupe"] = ["enabled": false]
        return try engine(.object(o))
    }

    func tiered() throws -> Engine {
        try engine(ConfigurationPresets.tiered.setting("dedupe", ["enabled": false]))
    }

    func all(_ e: Engine) throws -> [Memory] {
        var out: [Memory] = []
        try e.store.scan(filter: nil) { (r: StoredRecord) throws(StrataError) -> Bool in
            out.append(r.memory)
            return true
        }
        return out.sorted { $0.id < $1.id }
    }

    @Test func anEmptyStoreMetabolizesToNothing() throws {
        for e in [try metabolic(), try tiered(), try engine([:])] {
            let r = try e.metabolize()
            #expect(r.before == 0 && r.after == 0 && r.moves.isEmpty && r.errors.isEmpty)
            #expect(r.pruned.total == 0 && r.migrated.isEmpty && r.consolidated == 0 && r.patterns == 0)
            #expect(try e.stats().lifecycle.cycles == 1, "even an empty cycle is on the ledger")
        }
    }

    @Test func workingMemoryPastItsHourMovesOnOrIsDroppedByItsKeepRule() throws {
        let e = try metabolic()
        let kept = try e.store(NewMemory("The deploy key rotates on Fridays", importance: 0.8)).id
        let noise = try e.store(NewMemory("the user said hmm", importance: 0.2)).id
        let fresh = try e.store(NewMemory("Build 4411 is green")).id
        clock.advance(hours: 0.5)
        #expect(try e.metabolize().moves.isEmpty, "nothing is an hour old yet")
        clock.advance(hours: 0.6)
        try e.store(NewMemory("Build 4412 is red"))
        let r = try e.metabolize()
        #expect(r.migrated == ["working->session": 2])
        #expect(r.pruned.age == 1)
        #expect(try e.get(id: kept).tier == "session")
        #expect(try e.get(id: fresh).tier == "session")
        #expect(throws: StrataError.self) { try e.get(id: noise) }
        let h = try e.history(id: noise)
        #expect(h.last?.event == .delete)
        #expect(h.last?.reason.contains("keep rule (importance >= 0.5)") == true, "\(h.last?.reason ?? "")")
        #expect(try e.history(id: kept).last?.reason.contains("migrated working->session") == true)
    }

    @Test func usedTwiceAWorkingMemoryIsPromotedEarly() throws {
        let e = try metabolic()
        let id = try e.store(NewMemory("Carol's flight lands at 18:05")).id
        _ = try e.recall(RecallQuery("Carol flight"))
        #expect(try e.metabolize().moves.isEmpty, "accessed once: stays")
        _ = try e.recall(RecallQuery("when does Carol land"))
        let r = try e.metabolize()
        #expect(r.moves.first?.reason.contains("promoted (access count >= 2)") == true)
        #expect(try e.get(id: id).tier == "session")
    }

    @Test func capacityExactlyReachedMovesNothingAndOneMoreMovesTheLeastValuable() throws {
        let e = try metabolic()
        for i in 0..<10 { try e.store(NewMemory("note number \(i) about topic \(i * 7)", importance: 0.6)) }
        #expect(try e.metabolize().moves.isEmpty, "ten in a tier of ten")
        let least = try e.store(NewMemory("an unimportant aside", importance: 0.5)).id
        let r = try e.metabolize()
        #expect(r.migrated == ["working->session": 1])
        #expect(r.moves.first?.id == least)
        #expect(r.moves.first?.reason.contains("capacity") == true)
        #expect(try e.stats().byTier == ["working": 10, "session": 1])
    }

    @Test func aPinnedMemoryPastItsRetentionStaysWhereItIs() throws {
        let e = try metabolic()
        let pinned = try e.store(NewMemory("Never deploy on the last day of the quarter", importance: 0.1, pinned: true)).id
        let ttl = try e.store(NewMemory("door code 4417", pinned: true, ttlSeconds: 60)).id
        clock.advance(hours: 24 * 30)
        let r = try e.metabolize()
        #expect(r.pinnedKept == 2 && r.moves.isEmpty)
        #expect(try e.get(id: pinned).tier == "working")
        #expect(try e.get(id: ttl).id == ttl, "pinned outlives its TTL too")
    }

    @Test func conflictingRulesPruneBeforeTheyPromote() throws {
        // Accessed twice (promote holds) but past its TTL: the stricter rule, expiry, wins; and a
        // memory past its retention that fails keep is pruned even though promote would hold.
        let e = try metabolic()
        let expiring = try e.store(NewMemory("temporary token abc", ttlSeconds: 600)).id
        let weak = try e.store(NewMemory("weak but popular", importance: 0.1)).id
        for _ in 0..<2 { _ = try e.recall(RecallQuery("temporary token")); _ = try e.recall(RecallQuery("weak popular")) }
        clock.advance(hours: 2)
        let r = try e.metabolize()
        #expect(r.pruned.age == 2)
        #expect(try e.history(id: expiring).last?.reason.contains("expired at") == true)
        #expect(try e.history(id: weak).last?.reason.contains("keep rule") == true)
    }

    @Test func aSessionLeavingTogetherBecomesOneEpisodeThatLinksItsSources() throws {
        let e = try metabolic()
        let scope = try ScopePath("team/planner")
        var ids: [String] = []
        for text in ["The launch moved to March 3.", "Marketing needs the press kit by Feb 20.", "Legal approved the new terms."] {
            ids.append(try e.store(NewMemory(text, scope: scope, importance: 0.7)).id)
        }
        let other = try e.store(NewMemory("Lunch order: two pizzas.", scope: try ScopePath("team/other"), importance: 0.7)).id
        clock.advance(hours: 2)
        #expect(try e.metabolize().migrated == ["working->session": 4])
        clock.advance(hours: 24)
        let r = try e.metabolize()
        #expect(r.consolidated == 1 && r.consolidatedSources == 3)
        #expect(r.migrated == ["session->episodic": 1], "the lone memory of team/other moves on by itself")
        let episode = try #require(try all(e).first { $0.category == "episodes" })
        #expect(episode.tier == "episodic" && episode.scope == scope)
        #expect(episode.metadata["sources"] == .array(ids.map { .string($0) }))
        #expect(episode.content.contains("launch") || episode.content.contains("press kit"))
        for id in ids {
            #expect(throws: StrataError.self) { try e.get(id: id) }
            #expect(try e.history(id: id).last?.reason == "consolidated into episode \(episode.id)")
        }
        #expect(try e.get(id: other).tier == "episodic")
        #expect(try e.history(id: episode.id).first?.event == .add)
        // The episode is found by recall like any memory.
        #expect(try e.recall(RecallQuery("when is the launch", scope: scope)).first?.memory.id == episode.id)
    }

    @Test func aSummarizerFailingMidCycleLosesNothingAndTheNextCycleCompletes() throws {
        let e = try metabolic()
        let scope = try ScopePath("s")
        for i in 0..<3 { try e.store(NewMemory("Session fact \(i): the quarterly report covers region \(i).", scope: scope, importance: 0.7)) }
        clock.advance(hours: 2)
        _ = try e.metabolize()
        let before = try all(e)
        summarizer.failing.withLock { $0 = true }
        clock.advance(hours: 24)
        let failed = try e.metabolize()
        #expect(failed.errors.count == 1 && failed.errors[0].contains("the summary service is down"))
        #expect(failed.consolidated == 0 && failed.after == failed.before)
        #expect(try all(e) == before, "every memory as it was")
        summarizer.failing.withLock { $0 = false }
        let next = try e.metabolize()
        #expect(next.errors.isEmpty && next.consolidated == 1 && next.consolidatedSources == 3)
        #expect(try e.stats().lifecycle.errors == 1)
    }

    /// An engine on the metabolic preset (dedupe off, optionally a redundancy rule) whose
    /// summarizer the test gates, holding three session facts in scope "s" that its next cycle
    /// consolidates: stored (with whatever `extra` stores), moved on by a cycle 2 h later, and
    /// the clock then 24 h further. Returns the engine, the summarizer and the facts' ids.
    func engineWithASessionToConsolidate(
        redundancy: Double? = nil, extra: (Engine) throws -> Void = { _ in }
    ) throws -> (Engine, GatedSummarizer, [String]) {
        let gated = GatedSummarizer()
        guard case .object(var o) = ConfigurationPresets.metabolic, case .object(var lifecycle) = o["lifecycle"] else { fatalError() }
        if let redundancy { lifecycle["redundancy"] = ["threshold": .number(redundancy)] }
        o["lifecycle"] = .object(lifecycle)
        o["dedupe"] = ["enabled": false]
        let e = try Engine(configuration: EngineConfiguration(json: .object(o)), backends: TestBackends(summarizer: gated), clock: clock)
        let scope = try ScopePath("s")
        let sources = try (0..<3).map { i in
            try e.store(NewMemory("Session fact \(i): the quarterly report covers region \(i).", scope: scope, importance: 0.7)).id
        }
        try extra(e)
        clock.advance(hours: 2)
        _ = try e.metabolize()
        clock.advance(hours: 24)
        return (e, gated, sources)
    }

    /// A cycle plans without the writer lock, so while its summarizer runs every verb goes on;
    /// a memory changed meanwhile makes it plan again under the lock, and even then recall,
    /// history and stats go on, the access a recall records landing when the cycle commits.
    @Test func aCycleWaitingForItsSummarizerHoldsUpNoVerbAndSeesChangesMadeMeanwhile() throws {
        var keptID = ""
        let (e, gated, sources) = try engineWithASessionToConsolidate {
            keptID = try $0.store(NewMemory("The launch checklist lives in the ops wiki", pinned: true)).id
        }
        let kept = keptID
        let accessBefore = try e.get(id: kept).accessCount
        let recallsBefore = try e.stats().operations["recall"] ?? 0
        let first = sources[0]

        gated.hold.withLock { $0 = true }
        let cycle = DispatchGroup()
        let report = Mutex<MetabolizeReport?>(nil)
        DispatchQueue.global().async(group: cycle) {
            let r = try? e.metabolize()
            report.withLock { $0 = r }
        }
        #expect(gated.awaitCall(seconds: 60), "the cycle's plan reached its summarizer")

        // Each batch of verbs runs on its own thread so that, were one to wait for the cycle,
        // the test reports it instead of hanging: the summarizer is only let go afterwards.
        let verbs = DispatchGroup()
        let hits = Mutex<[Hit]?>(nil), rows = Mutex<[HistoryEntry]?>(nil), cycles = Mutex<Int?>(nil), added = Mutex<String?>(nil)
        DispatchQueue.global().async(group: verbs) {
            let h = try? e.recall(RecallQuery("launch checklist wiki"))
            hits.withLock { $0 = h }
            let r = try? e.history(id: kept)
            rows.withLock { $0 = r }
            let c = try? e.stats().lifecycle.cycles
            cycles.withLock { $0 = c }
            let a = try? e.store(NewMemory("Stored while the cycle plans")).id
            added.withLock { $0 = a }
            _ = try? e.update(MemoryUpdate(id: first, pinned: true))  // the plan consolidates it
        }
        #expect(verbs.wait(timeout: .now() + 60) == .success, "recall, history, stats, store and update went on while the cycle planned")
        #expect(report.withLock { $0 == nil }, "the cycle was still waiting for its summarizer")
        #expect(rows.withLock { $0?.count } == 1 && cycles.withLock { $0 } == 1, "the history and the ledger before this cycle")
        #expect(hits.withLock { $0?.first?.memory.id } == kept)
        #expect(try e.get(id: kept).accessCount == accessBefore + 1, "no writer held the lock: the access landed at once")

        // Let the plan's one summary through: the cycle finds a source pinned since its scan and
        // plans again under the writer lock, reaching the summarizer again.
        gated.pass()
        #expect(gated.awaitCall(seconds: 60), "the cycle planned again")
        let again = DispatchGroup()
        DispatchQueue.global().async(group: again) { _ = try? e.recall(RecallQuery("launch checklist wiki")) }
        #expect(again.wait(timeout: .now() + 60) == .success, "recall went on while the cycle held the writer lock")
        #expect(try e.get(id: kept).accessCount == accessBefore + 1, "the second access waits for the cycle to commit")

        gated.release()
        #expect(cycle.wait(timeout: .now() + 60) == .success)
        let done = try #require(report.withLock { $0 })
        #expect(done.errors.isEmpty && done.consolidatedSources < 3, "the pinned source was left out")
        let pinned = try e.get(id: first)
        #expect(pinned.pinned, "the update made during the plan was not overwritten")
        #expect(try e.get(id: #require(added.withLock { $0 })).content == "Stored while the cycle plans")
        #expect(try e.get(id: kept).accessCount == accessBefore + 2, "the queued access was applied when the cycle committed")
        #expect(try e.stats().operations["recall"] == recallsBefore + 2)
    }

    /// A recall while the cycle plans touches a memory the plan moves to another tier: the plan
    /// still applies (only access fields changed), and the access lands in the moved memory, in
    /// its history row and in the migration event, as if the recall had come first.
    @Test func accessRecordedWhileACyclePlansReachesTheMovedMemoryItsHistoryAndItsEvent() throws {
        var movedID = ""
        let (e, gated, _) = try engineWithASessionToConsolidate {
            movedID = try $0.store(NewMemory("The launch checklist lives in the ops wiki", importance: 0.9)).id
        }
        let moved = movedID
        let tierBefore = try e.get(id: moved).tier
        let events = Mutex<[MemoryEvent]>([])
        let subscription = e.subscribe { event in events.withLock { $0.append(event) } }
        defer { e.unsubscribe(subscription) }

        gated.hold.withLock { $0 = true }
        let cycle = Self.thread { _ = try? e.metabolize() }
        #expect(gated.awaitCall(seconds: 60), "the cycle's plan reached its summarizer")
        let accessed = try e.get(id: moved).accessCount
        #expect(try e.recall(RecallQuery("launch checklist ops wiki")).first?.memory.id == moved)
        #expect(try e.get(id: moved).accessCount == accessed + 1)
        gated.release()
        #expect(cycle.wait(timeout: .now() + 60) == .success)

        let now = try e.get(id: moved)
        #expect(now.tier != tierBefore, "the cycle moved it")
        #expect(now.accessCount == accessed + 1, "the access made during the plan was kept")
        let row = try #require(try e.history(id: moved).last)
        #expect(row.new?.tier == now.tier)
        #expect(row.old?.accessCount == accessed + 1, "the row's old side is the memory as the cycle found it at commit")
        #expect(row.new?.accessCount == accessed + 1, "the row's new side is the memory as committed")
        let migrated = events.withLock { $0.last { $0.kind == .migrated && $0.memoryID == moved } }
        #expect(migrated?.memory?.accessCount == accessed + 1, "the event carries the memory as committed")
    }

    /// A recall while the cycle plans touches two near-duplicates the plan merges: the memory
    /// kept gets both accesses, as the merge sums the counts it scanned.
    @Test func accessToANearDuplicateMergedAwayWhileACyclePlansReachesTheMemoryKept() throws {
        let (e, gated, _) = try engineWithASessionToConsolidate(redundancy: 0.9)
        func near(_ salt: Int) -> [Float] {
            var v = [Float](repeating: 0, count: 256)
            v[3] = 1
            v[(20 + salt * 31) % 256] = 0.1
            return Vectors.normalized(v)
        }
        let pair = try e.store([NewMemory("", scope: try ScopePath("d"), importance: 0.9), NewMemory("", scope: try ScopePath("d"), importance: 0.4)],
                               vectors: [near(1), near(2)]).map(\.id)

        gated.hold.withLock { $0 = true }
        let cycle = Self.thread { _ = try? e.metabolize() }
        #expect(gated.awaitCall(seconds: 60), "the cycle's plan reached its summarizer")
        var probe = [Float](repeating: 0, count: 256)
        probe[3] = 1
        let hits = try e.recall(RecallQuery(vector: probe, k: 2)).map(\.memory.id)
        #expect(Set(hits) == Set(pair))
        gated.release()
        #expect(cycle.wait(timeout: .now() + 60) == .success)

        let kept = try e.get(id: pair[0])
        #expect(throws: StrataError.self) { try e.get(id: pair[1]) }
        #expect(kept.accessCount == 2, "the access to the memory merged away was carried to the one kept")
        #expect(try e.history(id: pair[0]).last?.new?.accessCount == 2)
    }

    /// Two cycles started together: the second waits for the first to commit and plans from its
    /// result, so the summarizer is paid once, not once per cycle.
    @Test func aSecondCycleWaitsForTheFirstInsteadOfSummarizingTheSameMemoriesAgain() throws {
        let (e, gated, _) = try engineWithASessionToConsolidate()
        let callsBefore = gated.calls.withLock { $0 }

        gated.hold.withLock { $0 = true }
        let reports = Mutex<[MetabolizeReport]>([])
        // Threads of their own: a cycle blocked in the summarizer must not be what keeps the
        // other from starting (Dispatch's global pool did not start the second here while the
        // first was blocked).
        let first = Self.thread { if let r = try? e.metabolize() { reports.withLock { $0.append(r) } } }
        #expect(gated.awaitCall(seconds: 60), "the first cycle's plan reached its summarizer")
        let second = Self.thread { if let r = try? e.metabolize() { reports.withLock { $0.append(r) } } }
        // A dry run plans from the same memories without waiting for the cycle; with the gate
        // shut it would hang if it called the summarizer, which a dry run must not.
        let preview = try e.metabolize(dryRun: true)
        #expect(preview.consolidatedSources == 3, "the dry run sees the three sources still there")
        #expect(second.wait(timeout: .now() + 0.5) == .timedOut, "the second cycle waits for the first")
        #expect(gated.calls.withLock { $0 } == callsBefore + 1, "only the first cycle has called the summarizer")
        gated.release()
        #expect(first.wait(timeout: .now() + 60) == .success && second.wait(timeout: .now() + 60) == .success)

        let done = reports.withLock { $0 }
        #expect(done.count == 2)
        #expect(done.map(\.consolidatedSources).sorted() == [0, 3], "the first consolidated, the second found nothing left")
        #expect(gated.calls.withLock { $0 } == callsBefore + 1, "one summary for the two cycles")
        #expect(try e.stats().lifecycle.cycles == 3)
    }

    /// Runs `body` on a new thread; the semaphore is signalled when it returns.
    static func thread(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            body()
            done.signal()
        }
        return done
    }

    @Test func summaryCompressionShortensTheContentAndCountsTheRatio() throws {
        let e = try metabolic()
        let long = (1...8).map { "Sentence \($0) of a long design note about the storage engine and its write-ahead log." }.joined(separator: " ")
        let id = try e.store(NewMemory(long, importance: 0.9)).id
        clock.advance(hours: 24 * 8)
        let r = try e.metabolize()
        #expect(r.migrated == ["working->semantic": 1], "a week and a day old: past working, session and episodic")
        #expect(r.compressed == 1 && r.bytesAfterCompression < r.bytesBeforeCompression)
        let m = try e.get(id: id)
        #expect(m.tier == "semantic" && m.content.count < long.count && !m.content.isEmpty)
        let ratio = try #require(try e.stats().lifecycle.compressionRatio)
        #expect(ratio < 0.5)
        #expect(try e.history(id: id).last?.old?.content == long, "the history keeps the original")
    }

    @Test func aMonthInTheTieredModelCompressesLightlyThenBySummary() throws {
        let e = try tiered()
        let note = (1...6).map { "Step \($0) of the liquidity migration went to plan without slippage." }.joined(separator: " ")
        let id = try e.store(NewMemory(note, metadata: ["type": "trade", "action": "migrate", "success": true, "profit": 12,
                                                        "tx": "0xabc", "gas": 21000], category: "user_preferences")).id
        clock.advance(hours: 25)
        let warm = try e.metabolize()
        #expect(warm.migrated == ["hot->warm": 1] && warm.compressed == 1)
        var m = try e.get(id: id)
        #expect(m.tier == "warm" && m.content == note)
        #expect(Set(m.metadata.keys) == ["type", "action", "success", "profit"], "light keeps the listed fields")
        clock.advance(hours: 24 * 7)
        let cold = try e.metabolize()
        #expect(cold.migrated == ["warm->cold": 1] && cold.compressed == 1)
        m = try e.get(id: id)
        #expect(m.tier == "cold" && m.content.count < note.count, "summary shortens the text")
        #expect(Set(m.metadata.keys) == ["type", "action", "success", "profit"])
        let history = try e.history(id: id)
        #expect(history.map(\.event) == [.add, .update, .update])
        #expect(history[1].old?.metadata["tx"] == "0xabc", "what compression dropped is in the history")
    }

    @Test func aDryRunReportsWhatARealRunThenDoes() throws {
        let e = try metabolic()
        for i in 0..<14 { try e.store(NewMemory("item \(i) of the backlog: task \(i * 3)", importance: i % 3 == 0 ? 0.2 : 0.7)) }
        clock.advance(hours: 1.5)
        let before = try all(e)
        let dry = try e.metabolize(dryRun: true)
        #expect(try all(e) == before)
        #expect(try e.stats().lifecycle.cycles == 0, "a dry run is not on the ledger")
        let real = try e.metabolize()
        #expect(dry.migrated == real.migrated && dry.pruned == real.pruned)
        #expect(dry.moves.map(\.id) == real.moves.map(\.id))
        #expect(try real.after == all(e).count)
    }

    @Test func aSecondCycleAtTheSameTimeChangesNothing() throws {
        let e = try tiered()
        for i in 0..<6 {
            try e.store(NewMemory("swap trade \(i) on pool \(i)", metadata: ["type": "trade", "action": "swap", "success": .bool(i != 0), "profit": .number(Double(i))], category: "trades"))
        }
        clock.advance(hours: 30)
        _ = try e.metabolize()
        let after = try all(e)
        let again = try e.metabolize()
        #expect(again.moves.isEmpty)
        #expect(try all(e) == after)
    }

    @Test func relevanceUsesTheSeedScoreWithConfigurableOutcomeFields() throws {
        let settings = LifecycleSettings.Relevance()
        let outcome = LifecycleSettings.Outcome(successField: "won", numericField: "gain")
        let now = clock.now()
        var m = Memory(id: "x", content: "", metadata: ["won": true, "gain": 20], importance: 0.9, createdAt: now.adding(seconds: -15 * 86_400))
        m.accessCount = 1
        // 0.5 * 0.9 * 1.2 * (1 + 0.2) * (1 + 0.1) * max(0.5, 1 - 15/30)
        let expected = 0.5 * 0.9 * 1.2 * 1.2 * 1.1 * 0.5
        #expect(abs(settings.score(m, outcome: outcome, now: now) - expected) < 1e-12)
        m.metadata = ["won": false, "gain": -50]
        #expect(abs(settings.score(m, outcome: outcome, now: now) - 0.5 * 0.9 * 1.1 * 0.5) < 1e-12, "losses get no boost")
        m.metadata = ["won": true, "gain": 1e6]
        m.accessCount = 100
        m.createdAt = now
        #expect(settings.score(m, outcome: outcome, now: now) == 1, "capped at 1")
    }

    @Test func relevancePrunesLowScoringIdleMemoriesButSparesExemptTiers() throws {
        let e = try tiered()
        let observation = try e.store(NewMemory("gas price was average", category: "market_observations")).id
        let trade = try e.store(NewMemory("swap won big", metadata: ["success": true, "profit": 80], category: "trades")).id
        let hot = try e.store(NewMemory("another average observation", category: "opportunities")).id
        clock.advance(hours: 25)
        let hotAgain = try e.store(NewMemory("fresh low-value note", category: "opportunities", importance: 0.1)).id
        let r = try e.metabolize()
        // Both move to warm (importance 0.6 and 0.5 pass hot's keep rule), where relevance applies:
        // observation 0.5 * 0.6 * (1 - 25/24/30) = 0.29, opportunity 0.5 * 0.5 * 0.97 = 0.24.
        #expect(r.pruned.relevance == 2)
        #expect(throws: StrataError.self) { try e.get(id: observation) }
        #expect(throws: StrataError.self) { try e.get(id: hot) }
        #expect(try e.history(id: observation).last?.reason.contains("relevance 0.29 is below 0.3") == true)
        // 0.5 * 0.9 * 1.2 (success) * 1.5 (profit 80, boost capped at 50%) * 0.97 = 0.78
        #expect(try e.get(id: trade).tier == "warm")
        #expect(try e.get(id: hotAgain).tier == "hot", "the hot tier is exempt")
    }
}

@Suite struct LifecycleScheduleTests {
    @Test func aScheduledCycleRunsInTheBackgroundAndStopsWithTheEngine() async throws {
        let clock = ManualClock()
        var engine: Engine? = try Engine(
            configuration: EngineConfiguration(json: ["lifecycle": ["schedule_minutes": 0.001]]), clock: clock)
        let id = try engine!.store(NewMemory("short-lived", ttlSeconds: 1)).id
        clock.advance(hours: 1)
        // Waits for the background cycle (every 60 ms) to prune the expired memory; the bound is
        // generous and only stops a broken schedule from hanging the suite.
        var pruned = false
        for _ in 0..<500 where !pruned {
            try await Task.sleep(for: .milliseconds(20))
            pruned = (try? engine!.get(id: id)) == nil
        }
        #expect(pruned)
        #expect(try engine!.history(id: id).last?.reason.contains("expired at") == true)
        #expect(try engine!.stats().lifecycle.cycles >= 1)
        weak let weakEngine = engine
        engine = nil
        // Polled, not slept on: the schedule's task may hold the engine until its current wait
        // ends; a schedule that keeps it alive for good fails after 10 s.
        for _ in 0..<500 where weakEngine != nil { try await Task.sleep(for: .milliseconds(20)) }
        #expect(weakEngine == nil, "the schedule does not keep the engine alive")
    }
}
