import StrataCore

/// The outcome of one conformance case.
public struct ConformanceResult: Sendable {
    public let suite: String
    public let name: String
    /// nil when the case passed; otherwise what went wrong.
    public let failure: String?

    public var passed: Bool { failure == nil }
}

/// A failed expectation inside a conformance case.
struct ConformanceFailure: Error {
    let message: String
}

/// Collects the cases of one suite run.
struct CaseRunner {
    let suite: String
    var results: [ConformanceResult] = []

    /// Runs one case; a thrown `ConformanceFailure` or `StrataError` fails it with its message.
    mutating func run(_ name: String, _ body: () throws -> Void) {
        do {
            try body()
            results.append(ConformanceResult(suite: suite, name: name, failure: nil))
        } catch let f as ConformanceFailure {
            results.append(ConformanceResult(suite: suite, name: name, failure: f.message))
        } catch let e as StrataError {
            results.append(ConformanceResult(suite: suite, name: name, failure: "unexpected error: \(e)"))
        } catch {
            results.append(ConformanceResult(suite: suite, name: name, failure: "unexpected error: \(error)"))
        }
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
