#if canImport(Glibc)
import Glibc
#endif
import Crypto
import StrataWire
import StrataCore
import Synchronization

/// One token as the token file keeps it: the SHA-256 digest of its secret, never the secret.
public struct TokenRecord: Sendable, Equatable {
    public var id: String
    /// Lower-case hex SHA-256 of the whole secret text (`TokenSecret.digest`).
    public var digest: String
    public var scope: ScopePath
    public var role: TokenRole
    public var createdAt: Timestamp

    public init(id: String, digest: String, scope: ScopePath, role: TokenRole, createdAt: Timestamp) {
        self.id = id
        self.digest = digest
        self.scope = scope
        self.role = role
        self.createdAt = createdAt
    }

    /// `{"id", "digest", "scope", "role", "created_at"}`.
    public var json: JSONValue {
        .object([
            "id": .string(id), "digest": .string(digest), "scope": .string(scope.description), "role": .string(role.rawValue),
            "created_at": .string(createdAt.iso8601),
        ])
    }

    /// The record without its digest: what `strata token list` shows.
    public var publicJSON: JSONValue {
        .object(["id": .string(id), "scope": .string(scope.description), "role": .string(role.rawValue), "created_at": .string(createdAt.iso8601)])
    }

    public init(json: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path, code: .invalidConfig)
        id = try r.string("id")
        digest = try r.string("digest")
        guard digest.utf8.count == 64, digest.utf8.allSatisfy({ TokenSecret.isLowerHex($0) }) else {
            throw StrataError(.invalidConfig, "\(path).digest must be 64 lower-case hex digits (SHA-256)")
        }
        scope = try ScopePath(try r.string("scope"))
        guard let role = TokenRole(rawValue: try r.string("role")) else {
            throw StrataError(.invalidConfig, "\(path).role must be one of read, write, admin")
        }
        self.role = role
        let at = try r.string("created_at")
        guard let t = Timestamp(iso8601: at) else { throw StrataError(.invalidConfig, "\(path).created_at is not an ISO-8601 time: \"\(at)\"") }
        createdAt = t
        try r.finish()
    }
}

/// Token secrets: `strata_<id>_<64 hex digits>`, 256 random bits from the system's generator.
public enum TokenSecret {
    /// A new token id (`t` and 12 hex digits) and its secret text.
    public static func make() -> (id: String, secret: String) {
        var rng = SystemRandomNumberGenerator()
        let id = "t" + hex((0..<6).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let secret = "strata_\(id)_" + hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
        return (id, secret)
    }

    /// Lower-case hex SHA-256 of the secret's UTF-8 bytes.
    public static func digest(_ secret: String) -> String { hex(Array(SHA256.hash(data: Array(secret.utf8)))) }

    /// Compares two digests in time independent of where they differ.
    public static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isLowerHex(_ c: UInt8) -> Bool { (48...57).contains(c) || (97...102).contains(c) }
}

/// The token file, `tokens.json` in the store folder: `{"tokens": [TokenRecord...]}`, mode 0600.
public struct TokenFile: Sendable, Equatable {
    public static let fileName = "tokens.json"

    public var tokens: [TokenRecord]

    public init(tokens: [TokenRecord] = []) { self.tokens = tokens }

    public init(json: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path, code: .invalidConfig)
        var list: [TokenRecord] = []
        for (i, v) in (try r.optionalArray("tokens") ?? []).enumerated() {
            list.append(try TokenRecord(json: v, path: "\(path).tokens[\(i)]"))
        }
        try r.finish()
        var seen = Set<String>()
        for t in list where !seen.insert(t.id).inserted {
            throw StrataError(.invalidConfig, "\(path) has token id \(t.id) twice")
        }
        tokens = list
    }

    public var json: JSONValue { .object(["tokens": .array(tokens.map(\.json))]) }

    /// The record whose digest is the secret's, if any. Every record is compared, so the time
    /// taken does not say which one matched.
    public func authenticate(_ secret: String) -> TokenRecord? {
        let digest = TokenSecret.digest(secret)
        var found: TokenRecord?
        for t in tokens where TokenSecret.equal(t.digest, digest) { found = t }
        return found
    }

    /// Reads the file; nil when it does not exist.
    /// - Throws: `.io` when it cannot be read, `.invalidConfig` naming the key when it is wrong.
    public static func read(_ path: String) throws(StrataError) -> TokenFile? {
        guard access(path, F_OK) == 0 else { return nil }
        let bytes = try WholeFile.read(path, what: "token file")
        let value = try bytes.withUnsafeBufferPointer { (b) throws(StrataError) in try JSONParser.parse(bytes: b, what: path) }
        return try TokenFile(json: value, path: path)
    }

    /// Writes the file atomically (a private temporary file, fsync, rename), mode 0600.
    public func write(_ path: String) throws(StrataError) {
        let temporary = "\(path).tmp-\(getpid())"
        unlink(temporary)
        let fd = PrivateFile.create(temporary)
        guard fd >= 0 else { throw Self.failure("create", temporary) }
        let bytes = Array((JSONWriter.string(json) + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                let error = Self.failure("write", temporary)
                close(fd)
                unlink(temporary)
                throw error
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let error = Self.failure("sync", temporary)
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = Self.failure("replace", path)
            unlink(temporary)
            throw error
        }
    }

    /// Reads, changes and writes the file under an exclusive lock (`flock` on `PATH.lock`), so
    /// two `strata token` commands at once cannot lose each other's change.
    public static func update<T>(_ path: String, _ change: (inout TokenFile) throws(StrataError) -> T) throws(StrataError) -> T {
        let lockPath = path + ".lock"
        var fd = open(lockPath, O_RDWR | O_CLOEXEC)
        if fd < 0, errno == ENOENT { fd = PrivateFile.create(lockPath) }
        if fd < 0, errno == EEXIST { fd = open(lockPath, O_RDWR | O_CLOEXEC) }
        guard fd >= 0 else { throw failure("open", lockPath) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw failure("lock", lockPath) }
        }
        var file = try read(path) ?? TokenFile()
        let result = try change(&file)
        try file.write(path)
        return result
    }

    private static func failure(_ what: String, _ path: String) -> StrataError {
        StrataError(.io, "cannot \(what) \(path): \(String(cString: strerror(errno)))")
    }
}

/// Why a request is refused before it reaches the engine.
public enum AccessDenial: Error, Equatable, Sendable {
    /// No token, or one the file does not hold (401).
    case unauthenticated(String)
    /// A known token that may not do this (403).
    case forbidden(String)
    /// The token file exists but cannot be read: every request is refused until it is fixed (503).
    case tokenFileUnreadable(String)
}

/// The token file of a running server, read again whenever it changes on disk (its inode,
/// size or modification time), so `strata token create` and `revoke` take effect without a
/// restart: for the first request that comes after the command returns. Without the file,
/// tokens are not required (the server then listens on loopback only, unless `--insecure`).
///
/// The file is looked at again (`stat`) only when `FileChangeWatch` says it may have changed,
/// rather than on every request.
///
/// Thread-safe: `authorize` may be called from any number of tasks at once.
public final class TokenAuthority: Sendable {
    private struct Seen: Equatable {
        var device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int
    }

    private struct State {
        var seen: Seen?
        var file: TokenFile?
        var failure: String?
        let watch: FileChangeWatch
    }

    public let path: String
    private let state: Mutex<State>

    public init(path: String) {
        self.path = path
        state = Mutex(State(watch: FileChangeWatch(path: path)))
    }

    /// Whether the file exists now (tokens are then required).
    public var required: Bool {
        let now = current()
        return now.file != nil || now.failure != nil
    }

    /// The access an `Authorization: Bearer <secret>` header's secret grants.
    /// - Parameter secret: the bearer secret, or nil when the request carries none.
    public func authorize(_ secret: String?) -> Result<Access, AccessDenial> {
        let now = current()
        if let failure = now.failure { return .failure(.tokenFileUnreadable(failure)) }
        guard let file = now.file else { return .success(.unrestricted) }
        guard let secret, !secret.isEmpty else {
            return .failure(.unauthenticated("this server requires a token: send Authorization: Bearer <token>"))
        }
        guard let record = file.authenticate(secret) else {
            return .failure(.unauthenticated("the token is not known (revoked, or never created for this store)"))
        }
        return .success(Access(scope: record.scope, role: record.role, tokenID: record.id))
    }

    /// The file as last read, read again first when it may have changed. Under the lock: a
    /// change's event is taken by one caller, and every other waits for what it reads.
    private func current() -> (file: TokenFile?, failure: String?) {
        state.withLock { s in
            guard s.watch.mayHaveChanged() else { return (s.file, s.failure) }
            var st = stat()
            let seen = stat(path, &st) == 0
                ? Seen(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                       seconds: Int(st.st_mtim.tv_sec), nanoseconds: Int(st.st_mtim.tv_nsec))
                : nil
            if s.seen == seen { return (s.file, s.failure) }
            s.seen = seen
            if seen == nil {
                s.file = nil
                s.failure = nil
                return (nil, nil)
            }
            do throws(StrataError) {
                s.file = try TokenFile.read(path)
                s.failure = nil
            } catch {
                s.file = nil
                s.failure = "the token file \(path) cannot be used: \(error.message)"
            }
            return (s.file, s.failure)
        }
    }
}
