import StrataBackends
import StrataCore

/// One `metabolize` cycle, planned over a consistent view of every stored memory: which
/// memories move between tiers (and how they are compressed on the way), which are pruned and
/// why, which merge, which sessions become episodes, which patterns are written. The engine
/// commits the plan as one store change (see `Engine.metabolize`).
///
/// The steps, in seed 004's order:
/// 1. age: a memory past its TTL or its category's retention is pruned; one past its tier's
///    retention moves on to the first later tier whose retention it is within (each tier passed
///    must accept it by its `keep` rule, else it is pruned); `promote` moves one on early;
/// 2. relevance (seed 004's score) and 3. redundancy (near-duplicate clusters keep their most
///    valuable member, which takes the others' metadata and access counts);
/// 4. capacity: the least valuable memories over a tier's capacity move to the next tier (or
///    are pruned from the last);
/// 5. consolidation: memories leaving the consolidation tier together become one episode;
/// 6. compression on each move: `light` keeps the listed metadata, `summary` has the
///    summarizer shorten the content, `pattern-only` folds the memory into its pattern;
/// 7. patterns: groups of memories with equal key values become pattern memories.
///
/// Pinned memories are never moved, compressed or pruned. A summarizer or embedder failure
/// leaves the memories concerned where they were and is reported; the rest of the cycle stands.
struct Metabolism {
    let configuration: EngineConfiguration
    let now: Timestamp
    let dryRun: Bool
    let summarizer: any Summarizer
    /// Embeds episode and pattern texts (not called in a dry run).
    let embed: ([String]) throws(StrataError) -> [[Float]]
    let model: String

    /// The change to commit, the report, and the events to publish after.
    struct Plan {
        var change = StoreChange()
        var report: MetabolizeReport
        var events: [MemoryEvent] = []
        /// Each memory merged away as a near-duplicate → the memory it was merged into.
        var mergedInto: [String: String] = [:]
    }

    /// What the cycle does to one memory.
    enum Fate {
        case stay
        case move(to: Int, reason: String)
        case prune(Rule, reason: String)
        case merged(into: Int, cosine: Float)
        case consolidated(into: String)
        case archived(from: Int, to: Int)

        var alive: Bool {
            switch self {
            case .stay, .move: true
            default: false
            }
        }
    }

    /// The rule that prunes a memory.
    enum Rule: String { case age, relevance, redundancy, capacity }

    /// Plans the cycle over `records`; `newID` makes ids for episodes and patterns.
    func plan(_ records: [StoredRecord], newID: () -> String) -> Plan {
        var report = MetabolizeReport(at: now, dryRun: dryRun)
        report.before = records.count
        let tiers = configuration.tiers
        var tierIndex: [String: Int] = [:]
        for (i, t) in tiers.enumerated() { tierIndex[t.name] = i }
        let life = configuration.lifecycle
        let valueRule = life.relevance ?? LifecycleSettings.Relevance()
        var working = records
        var fates = [Fate](repeating: .stay, count: records.count)
        var merges: [Int: [String]] = [:]
        let value = records.map { valueRule.score($0.memory, outcome: life.outcome, now: now) }

        // 1. Age, category retention, tier retention and promotion.
        for (i, r) in records.enumerated() {
            guard let fate = ageFate(r.memory, tierIndex: tierIndex) else { continue }
            if r.memory.pinned { report.pinnedKept += 1 } else { fates[i] = fate }
        }

        // 2. Relevance.
        if let rule = life.relevance {
            for (i, r) in records.enumerated() where fates[i].alive && !r.memory.pinned {
                let tier = destination(fates[i]).map { tiers[$0].name } ?? r.memory.tier
                guard !rule.exemptTiers.contains(tier), rule.prunes(r.memory, score: value[i], now: now) else { continue }
                fates[i] = .prune(.relevance, reason: "relevance \(Self.number(value[i])) is below \(Self.number(rule.minScore)), accessed \(r.memory.accessCount) time(s)")
            }
        }

        // 3. Redundancy.
        if let rule = life.redundancy {
            let alive = records.indices.filter { fates[$0].alive }
            var groupOf: [String: Int] = [:]
            let groups = alive.map { i -> Int in
                let key = records[i].memory.scope.description + "\u{0}" + records[i].memory.model
                if let g = groupOf[key] { return g }
                groupOf[key] = groupOf.count
                return groupOf.count - 1
            }
            let units = alive.map { Vectors.normalized(records[$0].vector) }
            var words: [Set<String>?] = Array(repeating: nil, count: alive.count)
            func wordsOf(_ a: Int) -> Set<String> {
                if let w = words[a] { return w }
                let w = Set(Tokenizer.words(records[alive[a]].memory.content))
                words[a] = w
                return w
            }
            let clusters = NearDuplicates(threshold: Float(rule.threshold)).clusters(
                units, dimension: records.first?.vector.count ?? 0, groups: groups
            ) { a, b in
                let x = wordsOf(a), y = wordsOf(b)
                let union = x.union(y).count
                return union == 0 || Double(x.intersection(y).count) / Double(union) >= rule.minWordOverlap
            }
            for cluster in clusters {
                let members = cluster.map { alive[$0] }
                // The keeper: pinned first, then the most valuable, then the newest.
                let keeper = members.max { a, b in
                    let ka = (records[a].memory.pinned ? 1 : 0, value[a], records[a].memory.createdAt, records[b].memory.id)
                    let kb = (records[b].memory.pinned ? 1 : 0, value[b], records[b].memory.createdAt, records[a].memory.id)
                    return ka < kb
                }!
                let keeperUnit = units[cluster[members.firstIndex(of: keeper)!]]
                for (position, i) in members.enumerated() where i != keeper && !records[i].memory.pinned {
                    let other = records[i].memory
                    fates[i] = .merged(into: keeper, cosine: Vectors.dot(keeperUnit, units[cluster[position]]))
                    working[keeper].memory.metadata.merge(other.metadata) { mine, _ in mine }
                    working[keeper].memory.accessCount = working[keeper].memory.accessCount(adding: other.accessCount)
                    working[keeper].memory.importance = max(working[keeper].memory.importance, other.importance)
                    working[keeper].memory.accessedAt = max(working[keeper].memory.accessedAt, other.accessedAt)
                    merges[keeper, default: []].append(other.id)
                }
            }
        }

        // 4. Capacity, tier by tier so overflow counts against the next tier.
        if tiers.contains(where: { $0.capacity != nil }) {
            var members = [[Int]](repeating: [], count: tiers.count)
            for i in records.indices where fates[i].alive {
                if let t = destination(fates[i]) ?? tierIndex[records[i].memory.tier] { members[t].append(i) }
            }
            for (t, tier) in tiers.enumerated() {
                guard let capacity = tier.capacity, members[t].count > capacity else { continue }
                let excess = members[t].count - capacity
                let evictable = members[t].filter { !records[$0].memory.pinned }.sorted {
                    (value[$0], records[$0].memory.createdAt, records[$0].memory.id) < (value[$1], records[$1].memory.createdAt, records[$1].memory.id)
                }
                if evictable.count < excess { report.pinnedKept += excess - evictable.count }
                let why = "capacity: \"\(tier.name)\" would hold \(members[t].count), over its \(capacity)"
                for i in evictable.prefix(excess) {
                    if t + 1 < tiers.count {
                        fates[i] = .move(to: t + 1, reason: why)
                        members[t + 1].append(i)
                    } else {
                        fates[i] = .prune(.capacity, reason: why)
                    }
                }
            }
        }

        // 5. Consolidation: a session is the memories of one group (scope, or a metadata value)
        // that happened in one window (a day by default); when any of them leaves the
        // consolidation tier, or passes through it, they all leave together as one episode.
        var episodes: [(memory: Memory, sources: [Int])] = []
        if let rule = life.consolidation, let from = tierIndex[rule.fromTier] {
            var groups: [String: (leaving: Bool, members: [Int], start: Timestamp)] = [:]
            let window = Int64(rule.windowHours * 3_600_000)
            for (i, r) in records.enumerated() where fates[i].alive && !r.memory.pinned {
                guard let t = tierIndex[r.memory.tier], t <= from else { continue }
                let passes = destination(fates[i]).map { $0 > from } ?? false
                guard t == from || passes else { continue }
                let value: String? = rule.groupBy == "scope"
                    ? r.memory.scope.description : r.memory.metadata[rule.groupBy].map { JSONWriter.string($0) }
                guard let value else { continue }
                let start = Timestamp(milliseconds: (r.memory.createdAt.milliseconds / window) * window)
                let key = value + "\u{0}" + String(start.milliseconds)
                var g = groups[key] ?? (false, [], start)
                g.leaving = g.leaving || passes
                g.members.append(i)
                groups[key] = g
            }
            for key in groups.keys.sorted() {
                let (leaving, unsorted, start) = groups[key]!
                guard leaving, unsorted.count >= rule.minMemories else { continue }
                let members = unsorted.sorted { (records[$0].memory.createdAt, records[$0].memory.id) < (records[$1].memory.createdAt, records[$1].memory.id) }
                let label = "\(rule.groupBy) \"\(key.prefix { $0 != "\u{0}" })\", session from \(start.iso8601)"
                let memories = members.map { records[$0].memory }
                var content = "(summary of \(members.count) memories)"
                if !dryRun {
                    do {
                        content = try summarizer.summarize(memories.map(\.content), maxCharacters: rule.maxCharacters)
                    } catch {
                        report.errors.append("consolidation of \(members.count) memories (\(label)) failed, they stay where they are: summarizer \(summarizer.name): \(error.message)")
                        for i in members { fates[i] = .stay }
                        continue
                    }
                    if content.isEmpty { content = memories.map(\.content).joined(separator: " ") }
                }
                let first = memories[0], last = memories[memories.count - 1]
                var metadata: [String: JSONValue] = [
                    "type": "episode", "sources": .array(memories.map { .string($0.id) }),
                    "source_count": .number(Double(memories.count)), "first_at": .string(first.createdAt.iso8601),
                    "last_at": .string(last.createdAt.iso8601),
                ]
                if rule.groupBy != "scope" { metadata[rule.groupBy] = first.metadata[rule.groupBy] }
                metadata["session_start"] = .string(start.iso8601)
                // The episode goes where its age puts it: the first tier after the consolidation
                // tier whose retention it is within.
                var to = from + 1
                while to + 1 < tiers.count, let r = tiers[to].retentionHours, now.seconds(since: last.createdAt) > r * 3600 { to += 1 }
                let episode = Memory(
                    id: dryRun ? "(new episode)" : newID(), content: content, metadata: metadata, scope: first.scope,
                    visibility: first.visibility, tier: tiers[to].name, category: rule.category,
                    importance: memories.map(\.importance).max()!, createdAt: last.createdAt, updatedAt: now, model: model)
                for i in members { fates[i] = .consolidated(into: episode.id) }
                episodes.append((episode, members))
            }
        }

        // 6. Compression on each move.
        for (i, r) in records.enumerated() {
            guard case .move(let to, let reason) = fates[i], let from = tierIndex[r.memory.tier] else { continue }
            let path = tiers[(from + 1)...to]
            let strongest = path.max { Self.strength($0.compression) < Self.strength($1.compression) }!
            switch strongest.compression {
            case .none:
                break
            case .patternOnly:
                fates[i] = .archived(from: from, to: tierIndex[strongest.name]!)
            case .light:
                let kept = working[i].memory.metadata.filter { strongest.keepFields.contains($0.key) }
                if kept.count != working[i].memory.metadata.count { compress(&working[i].memory, metadata: kept, &report) }
            case .summary:
                let m = working[i].memory
                let kept = m.metadata.filter { keptBySummary(strongest).contains($0.key) }
                let budget = max(60, m.content.count * 3 / 10)
                var content = m.content
                if m.content.count > budget {
                    if dryRun {
                        content = String(m.content.prefix(budget))
                    } else {
                        do {
                            let s = try summarizer.summarize([m.content], maxCharacters: budget)
                            if !s.isEmpty, s.count < m.content.count { content = s }
                        } catch {
                            report.errors.append("summary compression of \(m.id) failed, it stays in \"\(m.tier)\" (\(reason)): summarizer \(summarizer.name): \(error.message)")
                            fates[i] = .stay
                            continue
                        }
                    }
                }
                if content != m.content || kept.count != m.metadata.count { compress(&working[i].memory, content: content, metadata: kept, &report) }
            }
        }

        // 7. Patterns.
        var patternWrites: [(memory: Memory, isNew: Bool)] = []
        var patternOf: [Int: String] = [:]
        if let rule = life.patterns {
            patternWrites = patterns(rule, records: records, fates: fates, newID: newID, patternOf: &patternOf)
        }

        // Embeddings of the new texts, in one call.
        var vectors: [[Float]] = []
        let texts = episodes.map(\.memory.content) + patternWrites.map(\.memory.content)
        if !dryRun, !texts.isEmpty {
            do {
                vectors = try embed(texts)
            } catch {
                report.errors.append("embedding \(texts.count) episode and pattern texts failed, those sources stay as they were: \(error.message)")
                for e in episodes { for i in e.sources { fates[i] = .stay } }
                for i in records.indices { if case .archived = fates[i] { fates[i] = .stay } }
                episodes = []
                patternWrites = []
            }
        }

        return build(records: records, working: working, fates: fates, merges: merges, episodes: episodes,
                     patternWrites: patternWrites, patternOf: patternOf, vectors: vectors, report: report)
    }

    /// Turns the fates into the store change, the report's counts and the events.
    private func build(
        records: [StoredRecord], working: [StoredRecord], fates: [Fate], merges: [Int: [String]],
        episodes: [(memory: Memory, sources: [Int])], patternWrites: [(memory: Memory, isNew: Bool)], patternOf: [Int: String],
        vectors: [[Float]], report: MetabolizeReport
    ) -> Plan {
        var plan = Plan(report: report)
        let tiers = configuration.tiers
        func remove(_ i: Int, _ reason: String) {
            let m = records[i].memory
            plan.change.removals.append(m.id)
            plan.change.history.append(HistoryEntry(event: .delete, memoryID: m.id, at: now, old: m, new: nil, reason: reason))
            plan.events.append(MemoryEvent(kind: .pruned, memoryID: m.id, at: now, memory: m))
        }
        for (i, r) in records.enumerated() {
            let m = r.memory
            switch fates[i] {
            case .stay:
                guard let merged = merges[i] else { continue }
                let keeper = working[i]
                plan.change.upserts.append(keeper)
                plan.change.history.append(HistoryEntry(event: .update, memoryID: m.id, at: now, old: m, new: keeper.memory,
                                                        reason: "merged \(merged.count) near-duplicate(s): \(merged.joined(separator: ", "))"))
                plan.events.append(MemoryEvent(kind: .updated, memoryID: m.id, at: now, memory: keeper.memory))
            case .move(let to, let reason):
                var moved = working[i]
                moved.memory.tier = tiers[to].name
                moved.memory.updatedAt = max(moved.memory.updatedAt, now)
                let edge = "\(m.tier)->\(moved.memory.tier)"
                var why = "migrated \(edge): \(reason)"
                if let merged = merges[i] { why += "; merged \(merged.count) near-duplicate(s): \(merged.joined(separator: ", "))" }
                if moved.memory.content != m.content { why += "; content summarized" } else if moved.memory.metadata != m.metadata, merges[i] == nil {
                    why += "; metadata kept: \(moved.memory.metadata.keys.sorted().joined(separator: ", "))"
                }
                plan.report.migrated[edge, default: 0] += 1
                plan.report.moves.append(.init(id: m.id, action: .migrate, from: m.tier, to: moved.memory.tier, reason: why))
                plan.change.upserts.append(moved)
                plan.change.history.append(HistoryEntry(event: .update, memoryID: m.id, at: now, old: m, new: moved.memory, reason: why))
                plan.events.append(MemoryEvent(kind: .migrated, memoryID: m.id, at: now, memory: moved.memory))
            case .prune(let rule, let reason):
                switch rule {
                case .age: plan.report.pruned.age += 1
                case .relevance: plan.report.pruned.relevance += 1
                case .redundancy: plan.report.pruned.redundancy += 1
                case .capacity: plan.report.pruned.capacity += 1
                }
                plan.report.moves.append(.init(id: m.id, action: .prune, from: m.tier, to: nil, reason: "\(rule.rawValue): \(reason)"))
                remove(i, "pruned (\(rule.rawValue)): \(reason)")
            case .merged(let keeper, let cosine):
                let why = "near-duplicate (cosine \(Self.number(Double(cosine)))) of \(records[keeper].memory.id), merged into it"
                plan.report.pruned.redundancy += 1
                plan.mergedInto[m.id] = records[keeper].memory.id
                plan.report.moves.append(.init(id: m.id, action: .merge, from: m.tier, to: nil, reason: why))
                remove(i, "pruned (redundancy): \(why)")
            case .consolidated(let episode):
                plan.report.consolidatedSources += 1
                plan.report.moves.append(.init(id: m.id, action: .consolidate, from: m.tier, to: episode, reason: "consolidated into episode \(episode)"))
                remove(i, "consolidated into episode \(episode)")
            case .archived(let from, let to):
                let edge = "\(tiers[from].name)->\(tiers[to].name)"
                let why = patternOf[i].map { "archived into pattern \($0) (\"\(tiers[to].name)\" keeps patterns only)" }
                    ?? "archived: \"\(tiers[to].name)\" keeps patterns only and this memory is part of none"
                plan.report.migrated[edge, default: 0] += 1
                plan.report.moves.append(.init(id: m.id, action: .archive, from: m.tier, to: tiers[to].name, reason: why))
                remove(i, why)
            }
        }
        for (n, e) in episodes.enumerated() {
            let record = StoredRecord(memory: e.memory, vector: dryRun ? [] : vectors[n])
            let why = "episode of \(e.sources.count) memories leaving \"\(records[e.sources[0]].memory.tier)\""
            plan.report.consolidated += 1
            plan.report.moves.append(.init(id: e.memory.id, action: .create, from: records[e.sources[0]].memory.tier, to: e.memory.tier, reason: why))
            if !dryRun { plan.change.upserts.append(record) }
            plan.change.history.append(HistoryEntry(event: .add, memoryID: e.memory.id, at: now, old: nil, new: e.memory, reason: why))
            plan.events.append(MemoryEvent(kind: .stored, memoryID: e.memory.id, at: now, memory: e.memory))
        }
        for (n, p) in patternWrites.enumerated() {
            let record = StoredRecord(memory: p.memory, vector: dryRun ? [] : vectors[episodes.count + n])
            let why = p.isNew ? "pattern extracted" : "pattern statistics updated"
            plan.report.patterns += 1
            plan.report.moves.append(.init(id: p.memory.id, action: p.isNew ? .create : .update, from: p.memory.tier, to: p.memory.tier, reason: why))
            if !dryRun { plan.change.upserts.append(record) }
            plan.change.history.append(HistoryEntry(event: p.isNew ? .add : .update, memoryID: p.memory.id, at: now,
                                                    old: nil, new: p.memory, reason: why))
            plan.events.append(MemoryEvent(kind: p.isNew ? .stored : .updated, memoryID: p.memory.id, at: now, memory: p.memory))
        }
        plan.report.after = records.count - plan.change.removals.count + episodes.count + patternWrites.filter(\.isNew).count
        return plan
    }

    /// What the age rules decide for `m`, or nil to leave it.
    private func ageFate(_ m: Memory, tierIndex: [String: Int]) -> Fate? {
        let age = max(0, now.seconds(since: m.createdAt))
        if let end = m.expiresAt, end <= now { return .prune(.age, reason: "expired at \(end.iso8601)") }
        if let days = configuration.categories.first(where: { $0.name == m.category })?.retentionDays, age > days * 86_400 {
            return .prune(.age, reason: "category \"\(m.category)\" keeps memories \(Self.number(days)) days; this one is \(Self.number(age / 86_400)) days old")
        }
        let tiers = configuration.tiers
        guard let t = tierIndex[m.tier] else { return nil }
        if let retention = tiers[t].retentionHours, age > retention * 3600 {
            var j = t
            while let r = tiers[j].retentionHours, age > r * 3600 {
                if let keep = tiers[j].keep, !keep.holds(for: m, now: now) {
                    return .prune(.age, reason: "\(Self.number(age / 3600)) h old, past \"\(tiers[j].name)\"'s \(Self.number(r)) h retention, and fails its keep rule (\(keep.summary))")
                }
                guard j + 1 < tiers.count else {
                    return .prune(.age, reason: "\(Self.number(age / 3600)) h old, past the last tier \"\(tiers[j].name)\"'s \(Self.number(r)) h retention")
                }
                j += 1
            }
            return .move(to: j, reason: "\(Self.number(age / 3600)) h old, past \"\(tiers[t].name)\"'s \(Self.number(retention)) h retention")
        }
        if let rule = tiers[t].promote, t + 1 < tiers.count, rule.holds(for: m, now: now) {
            return .move(to: t + 1, reason: "promoted (\(rule.summary))")
        }
        return nil
    }

    private func destination(_ fate: Fate) -> Int? {
        if case .move(let to, _) = fate { return to }
        return nil
    }

    /// The metadata `summary` compression keeps: the tier's `keep_fields`, else the outcome
    /// fields and pattern keys (what the lifecycle still reads).
    private func keptBySummary(_ tier: TierSettings) -> Set<String> {
        if !tier.keepFields.isEmpty { return Set(tier.keepFields) }
        let life = configuration.lifecycle
        return Set([life.outcome.successField, life.outcome.numericField].compactMap { $0} + (life.patterns?.keys ?? []))
    }

    private func compress(_ m: inout Memory, content: String? = nil, metadata: [String: JSONValue], _ report: inout MetabolizeReport) {
        let before = Self.size(m)
        if let content { m.content = content }
        m.metadata = metadata
        report.compressed += 1
        report.bytesBeforeCompression += before
        report.bytesAfterCompression += Self.size(m)
    }

    /// Content and metadata in bytes, as the compression ratio counts them.
    static func size(_ m: Memory) -> Int { m.content.utf8.count + JSONWriter.string(.object(m.metadata)).utf8.count }

    private static func strength(_ c: TierSettings.Compression) -> Int {
        switch c {
        case .none: 0
        case .light: 1
        case .summary: 2
        case .patternOnly: 3
        }
    }

    /// `x` with at most two decimals, for reasons people read.
    static func number(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
        return String(r)
    }
}
