import StrataCore

/// The outcome of one conformance case.
public struct ConformanceResult: Sendable {
    public let suite: String
    /// The rule the case checks, e.g. "get.not_found" (docs/plugins.md lists them), or the rule
    /// a failure broke when that is another one (a failure without a message breaks
    /// "failure.message" whatever the case).
    public let rule: String
    public let name: String
    /// nil when the case passed; otherwise what went wrong.
    public let failure: String?

    public var passed: Bool { failure == nil }

    public init(suite: String, rule: String, name: String, failure: String?) {
        self.suite = suite
        self.rule = rule
        self.name = name
        self.failure = failure
    }
}

/// A failed expectation inside a conformance case; `rule` overrides the case's own rule.
struct ConformanceFailure: Error {
    let message: String
    var rule: String? = nil
}

/// Where a run of cases reports, and which cases it skips: every case of a check has an index
/// in the order the suites run, so a check that crashed in case i can be resumed at i + 1 in a
/// new process (`strata plugin check` does that).
public final class CheckSession {
    /// Cases before this index are not run (and not reported).
    public let startAt: Int
    /// Called before a case runs: its index, suite, rule and name.
    public var willRun: ((Int, String, String, String) -> Void)?
    /// Called with each result as it is known.
    public var didRun: ((Int, ConformanceResult) -> Void)?
    public private(set) var results: [ConformanceResult] = []
    var next = 0

    public init(startAt: Int = 0) { self.startAt = startAt }

    func report(_ index: Int, _ result: ConformanceResult) {
        results.append(result)
        didRun?(index, result)
    }
}

/// Collects the cases of one suite run.
struct CaseRunner {
    let suite: String
    let session: CheckSession

    init(suite: String, session: CheckSession = CheckSession()) {
        self.suite = suite
        self.session = session
    }

    var results: [ConformanceResult] { session.results.filter { $0.suite == suite } }

    /// Runs one case; a thrown `ConformanceFailure` or `StrataError` fails it with its message.
    /// - Parameter rule: the rule it checks; by default the name.
    func run(_ name: String, rule: String? = nil, _ body: () throws -> Void) {
        let index = session.next
        session.next += 1
        guard index >= session.startAt else { return }
        let rule = rule ?? name
        session.willRun?(index, suite, rule, name)
        do {
            try body()
            session.report(index, ConformanceResult(suite: suite, rule: rule, name: name, failure: nil))
        } catch let f as ConformanceFailure {
            session.report(index, ConformanceResult(suite: suite, rule: f.rule ?? rule, name: name, failure: f.message))
        } catch {
            session.report(index, ConformanceResult(suite: suite, rule: rule, name: name, failure: "unexpected error: \(error)"))
        }
    }

    /// Reports a case that was not run (a load-level fault already reported), as passed or failed.
    func record(_ name: String, rule: String, failure: String?) {
        let index = session.next
        session.next += 1
        guard index >= session.startAt else { return }
        session.willRun?(index, suite, rule, name)
        session.report(index, ConformanceResult(suite: suite, rule: rule, name: name, failure: failure))
    }
}

func expect(_ condition: Bool, _ message: @autoclosure () throws -> String) throws {
    if !condition { throw ConformanceFailure(message: try message()) }
}

/// Expects `body` to throw a `StrataError` with `code`.
func expectError(_ code: StrataError.Code, _ what: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as StrataError {
        try expect(e.code == code, "\(what): expected \(code.cName), got \(e)")
        try expect(!e.message.isEmpty, "\(what): the error has no message")
        return
    }
    throw ConformanceFailure(message: "\(what): expected \(code.cName), but it succeeded")
}

/// StrataCore's seeded generator, so every run of a suite uses the same data.
typealias SeededGenerator = SeededRandom

extension SeededRandom {
    init(state: UInt64) { self.init(seed: state) }

    mutating func vector(_ d: Int) -> [Float] { (0..<d).map { _ in Float.random(in: -1...1, using: &self) } }
}
