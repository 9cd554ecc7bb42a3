import Glibc
import StrataCore

/// Running counts of one pattern's occurrences: how many, how many succeeded, and the sum and
/// sum of squares of the numeric outcome, so occurrences can be folded in as their memories
/// leave and the statistics stay exact.
public struct PatternStatistics: Sendable, Hashable {
    public var count = 0
    public var successes = 0
    /// Occurrences that carried a numeric outcome.
    public var measured = 0
    public var sum = 0.0
    public var sumOfSquares = 0.0

    public init() {}

    public mutating func add(_ m: Memory, outcome: LifecycleSettings.Outcome) {
        count += 1
        if outcome.success(of: m) == true { successes += 1 }
        if let x = outcome.number(of: m) {
            measured += 1
            sum += x
            sumOfSquares += x * x
        }
    }

    public static func + (a: Self, b: Self) -> Self {
        var c = a
        c.count += b.count
        c.successes += b.successes
        c.measured += b.measured
        c.sum += b.sum
        c.sumOfSquares += b.sumOfSquares
        return c
    }

    /// Share of occurrences that succeeded; 1 when no success field is configured (every
    /// occurrence counts as the pattern happening).
    public func successRate(counted: Bool) -> Double {
        guard counted else { return 1 }
        return count == 0 ? 0 : Double(successes) / Double(count)
    }

    public var mean: Double? { measured == 0 ? nil : sum / Double(measured) }

    /// Population standard deviation of the numeric outcome (numpy's default), 0 without one.
    public var spread: Double {
        guard let mean else { return 0 }
        return sqrt(max(0, sumOfSquares / Double(measured) - mean * mean))
    }

    /// Seed 004's confidence: 0.3 * min(count / 10, 1) + 0.5 * success rate + 0.2 / (1 + spread).
    public func confidence(counted: Bool) -> Double {
        0.3 * min(Double(count) / 10, 1) + 0.5 * successRate(counted: counted) + 0.2 / (1 + spread)
    }

    public var json: JSONValue {
        .object(["count": .number(Double(count)), "successes": .number(Double(successes)), "measured": .number(Double(measured)),
                 "sum": .number(sum), "sum_of_squares": .number(sumOfSquares)])
    }

    /// Reads `json`'s shape back; anything else is an empty count (a pattern written by hand).
    public init(json: JSONValue?) {
        guard case .object(let o)? = json else { return }
        func n(_ k: String) -> Double { if case .number(let x)? = o[k], x.isFinite { return x } else { return 0 } }
        count = Int(n("count"))
        successes = Int(n("successes"))
        measured = Int(n("measured"))
        sum = n("sum")
        sumOfSquares = n("sum_of_squares")
    }
}
