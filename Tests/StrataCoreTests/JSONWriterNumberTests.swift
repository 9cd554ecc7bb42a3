import StrataCore
import Testing

/// `JSONWriter.writeNumber`: integers as integers, every other finite number as Swift's
/// shortest round-tripping form (`description`'s text, written without its `String`), and a
/// non-finite one as null.
@Suite struct JSONWriterNumberTests {
    private func written(_ n: Double) -> String {
        var out: [UInt8] = Array("[".utf8)
        JSONWriter.writeNumber(n, into: &out)
        return String(decoding: out.dropFirst(), as: UTF8.self)
    }

    @Test func writesWhatDescriptionSaysForEveryNonIntegralNumber() {
        var generator = SystemRandomNumberGenerator()
        var numbers: [Double] = [0.1, -0.5, 0.9274457478315307, 14.05246353149414, 1e-7, 1e300, 1.5e15, 2.5e-308,
                                 .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, -.ulpOfOne]
        for _ in 0..<2000 { numbers.append(Double(bitPattern: generator.next())) }
        for n in numbers where n.isFinite && !(n == n.rounded() && abs(n) < 1e15) {
            #expect(written(n) == n.description, "bits \(n.bitPattern)")
            #expect(Double(written(n)) == n, "round trip")
        }
    }

    @Test func writesIntegersAsIntegersAndNonFiniteAsNull() {
        #expect(written(0) == "0")
        #expect(written(-0.0) == "0")
        #expect(written(42) == "42")
        #expect(written(-7) == "-7")
        #expect(written(1e15) == "1000000000000000.0", "from 1e15 on, description's form")
        #expect(written(.nan) == "null")
        #expect(written(.infinity) == "null")
    }

    @Test func appendsAfterWhatIsAlreadyThere() {
        var out: [UInt8] = Array("{\"a\":".utf8)
        JSONWriter.writeNumber(0.25, into: &out)
        JSONWriter.writeNumber(0.125, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "{\"a\":0.250.125")
    }
}
