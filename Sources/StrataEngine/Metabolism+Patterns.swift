import StrataCore

extension Metabolism {
    /// Seed 004's pattern extraction: memories with a value for every key, grouped by scope and
    /// those values. A group's statistics are those folded into its pattern memory earlier (from
    /// memories since gone), plus the live members, plus the members leaving in this cycle (which
    /// are folded in now). A group with a pattern memory, or with `min_occurrences` members and
    /// `min_confidence`, gets its pattern written when the statistics changed. Members leaving
    /// before their group qualifies take their occurrence with them.
    /// - Parameter patternOf: receives, for each archived memory, the pattern it was folded into.
    func patterns(
        _ rule: LifecycleSettings.Patterns, records: [StoredRecord], fates: [Fate], newID: () -> String,
        patternOf: inout [Int: String]
    ) -> [(memory: Memory, isNew: Bool)] {
        let outcome = configuration.lifecycle.outcome
        let counted = outcome.successField != nil
        let tier = rule.tier ?? configuration.tiers.last?.name ?? configuration.defaults.tier
        struct Group {
            var scope: ScopePath
            var conditions: [(String, JSONValue)]
            var live = PatternStatistics()
            var leaving = PatternStatistics()
            var leavers: [Int] = []
            var last: Timestamp
        }
        var existing: [String: Int] = [:]
        var groups: [String: Group] = [:]
        for (i, r) in records.enumerated() {
            let m = r.memory
            if m.category == rule.category {
                if case .string(let key)? = m.metadata["pattern_key"], fates[i].alive { existing[m.scope.description + "\u{0}" + key] = i }
                continue
            }
            guard rule.categories.isEmpty || rule.categories.contains(m.category) else { continue }
            var values: [JSONValue] = []
            for k in rule.keys {
                guard let v = m.metadata[k], v != .null else { break }
                values.append(v)
            }
            guard values.count == rule.keys.count else { continue }
            let key = m.scope.description + "\u{0}" + JSONWriter.string(.array(values))
            var g = groups[key] ?? Group(scope: m.scope, conditions: Array(zip(rule.keys, values)), last: m.createdAt)
            g.last = max(g.last, m.createdAt)
            if fates[i].alive {
                g.live.add(m, outcome: outcome)
            } else {
                g.leaving.add(m, outcome: outcome)
                g.leavers.append(i)
            }
            groups[key] = g
        }
        var writes: [(memory: Memory, isNew: Bool)] = []
        for key in groups.keys.sorted() {
            let g = groups[key]!
            let patternKey = JSONWriter.string(.array(g.conditions.map(\.1)))
            let old = existing[key].map { records[$0].memory }
            let folded = PatternStatistics(json: old?.metadata["folded"])
            let total = folded + g.live + g.leaving
            let confidence = total.confidence(counted: counted)
            guard old != nil || (total.count >= rule.minOccurrences && confidence >= rule.minConfidence) else { continue }
            let successRate = total.successRate(counted: counted)
            var metadata: [String: JSONValue] = [
                "type": "pattern", "pattern_key": .string(patternKey),
                "conditions": .object(Dictionary(uniqueKeysWithValues: g.conditions)),
                "occurrence_count": .number(Double(total.count)), "confidence": .number(confidence),
                "last_occurrence": .string(max(g.last, old.flatMap { Self.time($0.metadata["last_occurrence"]) } ?? g.last).iso8601),
                "folded": (folded + g.leaving).json,
            ]
            if counted { metadata["success_rate"] = .number(successRate) }
            if let field = outcome.numericField, let mean = total.mean {
                metadata["numeric_field"] = .string(field)
                metadata["mean"] = .number(mean)
                metadata["spread"] = .number(total.spread)
            }
            if let old, old.metadata == metadata { continue }
            let conditions = g.conditions.map { "\($0.0)=\(Self.plain($0.1))" }.joined(separator: ", ")
            var text = "Pattern \(conditions): \(total.count) occurrences"
            if counted { text += ", success rate \(Self.number(successRate * 100))%" }
            if let field = outcome.numericField, let mean = total.mean {
                text += ", \(field) mean \(Self.number(mean)) (spread \(Self.number(total.spread)))"
            }
            text += ", confidence \(Self.number(confidence))"
            let id = old?.id ?? (dryRun ? "(new pattern)" : newID())
            let memory = Memory(
                id: id, content: text, metadata: metadata, scope: g.scope, visibility: .shared, tier: tier, category: rule.category,
                importance: min(1, max(0, successRate * confidence)), createdAt: old?.createdAt ?? now, updatedAt: now,
                accessedAt: old?.accessedAt, accessCount: old?.accessCount ?? 0, model: model)
            for i in g.leavers { patternOf[i] = id }
            writes.append((memory, old == nil))
        }
        return writes
    }

    private static func time(_ v: JSONValue?) -> Timestamp? {
        if case .string(let s)? = v { return Timestamp(iso8601: s) }
        return nil
    }

    /// A metadata value as text: strings bare, the rest as JSON.
    private static func plain(_ v: JSONValue) -> String {
        if case .string(let s) = v { return s }
        return JSONWriter.string(v)
    }
}
