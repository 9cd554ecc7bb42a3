#if canImport(Glibc)
import Glibc
#endif
import StrataCore
@testable import StrataServer
import StrataWire
import StrataTesting
import Testing

/// Tests Sources/StrataServer/Tokens.swift: secrets and digests, the token file, scope subtrees
/// and the authority that reads the file again when it changes.
@Suite struct TokenTests {
    @Test func digest__is_lower_hex_sha256_of_the_secret() {
        // FIPS 180-2, appendix B.1.
        #expect(TokenSecret.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(TokenSecret.digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func make__gives_a_new_id_and_secret_that_names_the_id() {
        let a = TokenSecret.make(), b = TokenSecret.make()
        #expect(a.id != b.id && a.secret != b.secret)
        #expect(a.id.utf8.count == 13 && a.id.hasPrefix("t"))
        #expect(a.secret.hasPrefix("strata_\(a.id)_") && a.secret.utf8.count == "strata_".count + 13 + 1 + 64)
    }

    @Test func equal__compares_whole_digests() {
        #expect(TokenSecret.equal("ab", "ab"))
        #expect(!TokenSecret.equal("ab", "ac"))
        #expect(!TokenSecret.equal("ab", "abc"))
    }

    @Test func roles__each_includes_the_one_before() {
        #expect(TokenRole.read < .write && TokenRole.write < .admin)
        #expect(TokenRole.allCases.sorted() == [.read, .write, .admin])
    }

    @Test func sees__the_node_and_below_only() throws {
        let a = Access(scope: try ScopePath("org/a"), role: .read)
        for inside in ["org/a", "org/a/b", "org/a/b/c"] { #expect(a.sees(try ScopePath(inside)), "\(inside)") }
        for outside in ["", "org", "org/ab", "org/b", "other/org/a"] { #expect(!a.sees(try ScopePath(outside)), "\(outside)") }
        for any in ["", "x", "org/a/b"] { #expect(Access.unrestricted.sees(try ScopePath(any))) }
        #expect(Access.unrestricted.subtreeFilter == nil)
    }

    @Test func subtreeFilter__matches_what_sees_matches() throws {
        let a = Access(scope: try ScopePath("org/a"), role: .read)
        let filter = try #require(a.subtreeFilter)
        for scope in ["", "org", "org/a", "org/a/b", "org/a/b/c", "org/ab", "org/a0", "org/a.b", "org/b", "org/a-x/y", "zzz"] {
            let subject = JSONValue.object(["scope": .string(scope)])
            #expect(filter.matches(subject) == a.sees(try ScopePath(scope)), "\(scope)")
        }
    }

    @Test func file__round_trips_and_refuses_what_is_wrong() throws {
        let record = TokenRecord(id: "t1", digest: TokenSecret.digest("s"), scope: try ScopePath("org/a"), role: .write,
                                 createdAt: Timestamp(milliseconds: 1_700_000_000_000))
        let file = TokenFile(tokens: [record])
        #expect(try TokenFile(json: file.json, path: "f") == file)
        #expect(file.authenticate("s") == record)
        #expect(file.authenticate("S") == nil)
        #expect(file.authenticate("") == nil)

        func refused(_ json: String) -> StrataError? {
            do throws(StrataError) {
                _ = try TokenFile(json: try JSONParser.parse(json), path: "tokens.json")
                return nil
            } catch { return error }
        }
        let good = "\"id\": \"t1\", \"digest\": \"\(record.digest)\", \"scope\": \"\", \"created_at\": \"2026-01-01T00:00:00Z\""
        #expect(refused("{\"tokens\": [{\(good), \"role\": \"read\"}]}") == nil)
        #expect(refused("{\"tokens\": [{\(good), \"role\": \"owner\"}]}")?.message.contains("tokens.json.tokens[0].role") == true)
        #expect(refused("{\"tokens\": [{\(good), \"role\": \"read\", \"secret\": \"x\"}]}")?.message.contains("secret") == true)
        #expect(refused("{\"tokens\": [{\(good), \"role\": \"read\"}, {\(good), \"role\": \"admin\"}]}")?.message.contains("twice") == true)
        #expect(refused("{\"tokens\": [{\"id\": \"t\", \"digest\": \"ABC\", \"scope\": \"\", \"role\": \"read\", \"created_at\": \"2026-01-01T00:00:00Z\"}]}")?
            .message.contains("digest") == true)
        #expect(refused("{\"tokenz\": []}")?.code == .invalidConfig)
    }

    @Test func authority__follows_the_file_without_a_restart() throws {
        let path = scratchFolder("StrataServerTests", "authority") + "/tokens.json"
        let authority = TokenAuthority(path: path)
        #expect(!authority.required)
        #expect(try authority.authorize(nil).get() == .unrestricted)

        let reader = TokenSecret.make(), writer = TokenSecret.make()
        let at = Timestamp(milliseconds: 1_700_000_000_000)
        try TokenFile.update(path) { (f: inout TokenFile) throws(StrataError) in
            f.tokens.append(TokenRecord(id: reader.id, digest: TokenSecret.digest(reader.secret), scope: try ScopePath("org/a"), role: .read, createdAt: at))
        }
        #expect(authority.required)
        #expect(authority.authorize(nil) == .failure(.unauthenticated("this server requires a token: send Authorization: Bearer <token>")))
        guard case .failure(.unauthenticated) = authority.authorize(writer.secret) else { Issue.record("unknown token accepted"); return }
        #expect(try authority.authorize(reader.secret).get() == Access(scope: try ScopePath("org/a"), role: .read, tokenID: reader.id))

        try TokenFile.update(path) { (f: inout TokenFile) throws(StrataError) in
            f.tokens.removeAll()
            f.tokens.append(TokenRecord(id: writer.id, digest: TokenSecret.digest(writer.secret), scope: .root, role: .write, createdAt: at))
        }
        guard case .failure(.unauthenticated) = authority.authorize(reader.secret) else { Issue.record("revoked token accepted"); return }
        #expect(try authority.authorize(writer.secret).get().role == .write)

        // A file that cannot be read refuses everything until it is fixed; it never opens the server.
        let fd = open(path, O_WRONLY | O_TRUNC)
        _ = "{not json".withCString { write(fd, $0, 9) }
        close(fd)
        guard case .failure(.tokenFileUnreadable) = authority.authorize(writer.secret) else { Issue.record("broken file accepted"); return }
        unlink(path)
        #expect(try authority.authorize(nil).get() == .unrestricted)
    }
}
