@testable import StrataServer
import Testing

/// `DecimalDigits`: the digits `String(n)` has, without the `String`.
@Suite struct DecimalDigitsTests {
    private func digits(_ n: Int) -> String {
        var out: [UInt8] = []
        DecimalDigits.write(n) { out.append(contentsOf: $0) }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func writesAsStringDoes() {
        for n in [0, 7, 9, 10, 99, 100, 1_234_567, 1 << 40, Int.max] {
            #expect(digits(n) == String(n))
        }
    }

    @Test func writesANegativeNumberAsZero() {
        #expect(digits(-5) == "0")
        #expect(digits(Int.min) == "0")
    }
}
