@testable import StrataServer
import Testing

/// Ids in `/v1/memories/{id}` arrive percent-encoded; the handlers get them decoded.
@Suite struct PathParameterTests {
    @Test func escapesDecodeToTheBytesTheClientMeant() {
        #expect(PathParameter.decode("plain-id_1") == "plain-id_1")
        #expect(PathParameter.decode("notes%2F2026%20%231%3F") == "notes/2026 #1?")
        #expect(PathParameter.decode("%C3%BCn%C3%AFcode%20100%25") == "ünïcode 100%")
        #expect(PathParameter.decode("%e2%82%ac") == "€", "lower-case hex too")
    }

    @Test func malformedEscapesAndNonUTF8AreRefused() {
        #expect(PathParameter.decode("bad%zz") == nil)
        #expect(PathParameter.decode("cut%4") == nil)
        #expect(PathParameter.decode("end%") == nil)
        #expect(PathParameter.decode("%FF%FE") == nil, "not UTF-8")
    }
}
