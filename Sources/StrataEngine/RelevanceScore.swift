import StrataCore

extension LifecycleSettings.Outcome {
    /// Whether the memory's success field says it succeeded: `true`, a non-zero number, or the
    /// strings "true" / "success" / "yes"; nil when no field is configured or the memory has none.
    public func success(of m: Memory) -> Bool? {
        guard let key = successField, let v = m.metadata[key] else { return nil }
        switch v {
        case .bool(let b): return b
        case .number(let x): return x != 0
        case .string(let s): return ["true", "success", "yes", "ok"].contains(s.lowercased())
        default: return nil
        }
    }

    /// The memory's numeric outcome (a finite number, or a string holding one); nil when absent.
    public func number(of m: Memory) -> Double? {
        guard let key = numericField, let v = m.metadata[key] else { return nil }
        switch v {
        case .number(let x): return x.isFinite ? x : nil
        case .string(let s): return Double(s).flatMap { $0.isFinite ? $0 : nil }
        default: return nil
        }
    }
}

extension LifecycleSettings.Relevance {
    /// Seed 004's relevance of a memory at `now`, in 0...1 (see `LifecycleSettings.Relevance`).
    /// Age counts in fractional days (the seed truncates to whole days).
    public func score(_ m: Memory, outcome: LifecycleSettings.Outcome, now: Timestamp) -> Double {
        var s = base * m.importance
        if outcome.success(of: m) == true { s *= successBoost }
        if let x = outcome.number(of: m), x > 0 { s *= 1 + min(x / numericScale, numericMaxBoost) }
        s *= 1 + min(Double(m.accessCount) / accessScale, accessMaxBoost)
        let ageDays = max(0, now.seconds(since: m.createdAt)) / 86_400
        s *= max(recencyFloor, 1 - ageDays / recencyDays)
        return min(s, 1)
    }

    /// Whether seed 004's rule prunes `m`: a low score, few accesses, and none lately.
    public func prunes(_ m: Memory, score: Double, now: Timestamp) -> Bool {
        guard score < minScore, m.accessCount < maxAccessCount else { return false }
        return m.accessCount == 0 || now.seconds(since: m.accessedAt) > idleDays * 86_400
    }
}
