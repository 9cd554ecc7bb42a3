import Hummingbird
@testable import StrataServer
import Testing

/// Request ids: the client's when short and printable, else a new one.
@Suite struct RequestObservationTests {
    typealias Observation = RequestLine

    @Test func aShortPrintableIdIsKept() {
        #expect(Observation.id(given: "trace-abc-123") == "trace-abc-123")
        #expect(Observation.id(given: String(repeating: "x", count: 128)) == String(repeating: "x", count: 128))
        #expect(Observation.id(given: "!~") == "!~")
    }

    @Test func anythingElseGetsANewHexId() {
        for given in [nil, "", "has space", "tab\there", String(repeating: "x", count: 129), "ünïcode", "line\nbreak"] {
            let id = Observation.id(given: given)
            #expect(id.utf8.count == 32 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }, "\(String(describing: given)) -> \(id)")
        }
        #expect(Observation.id(given: nil) != Observation.id(given: nil))
    }

    @Test func durationsAreMillisecondsWithThreeDecimals() {
        #expect(Observation.milliseconds(.microseconds(1234)) == "1.234")
        #expect(Observation.milliseconds(.microseconds(5)) == "0.005")
        #expect(Observation.milliseconds(.seconds(2)) == "2000.000")
    }
}
