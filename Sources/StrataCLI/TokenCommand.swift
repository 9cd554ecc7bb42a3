import ArgumentParser
import StrataCore
import StrataServer
import StrataWire

/// `strata token create | list | revoke`: the tokens `strata serve` takes, in the store
/// folder's `tokens.json` (only SHA-256 digests of the secrets; a running server reads the
/// file again when it changes).
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke the tokens of `strata serve`.",
        discussion: """
            A token grants a role (read, write or admin, each including the one before) over a scope \
            and everything below it. The file keeps only the SHA-256 digest of each secret: the secret \
            is printed once, by create. Once the file exists, the server requires a token on every \
            request but /v1/health and /v1/version; a running server takes changes without a restart.

            Example:
              strata token create --scope org/a --role write
              strata token list
              strata token revoke t1a2b3c4d5e6f
            """,
        subcommands: [TokenCreateCommand.self, TokenListCommand.self, TokenRevokeCommand.self])

    static func file(_ store: StoreLocation) -> String {
        let dir = store.directory.path
        return (dir.hasSuffix("/") ? dir : dir + "/") + TokenFile.fileName
    }

    /// The store must exist: a token file in a folder without a store would protect nothing.
    static func checkedFile(_ store: StoreLocation) throws(StrataError) -> String {
        _ = try store.configuration()
        return file(store)
    }
}

struct TokenCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a token and print its secret (shown only this once).")

    @Option(help: ArgumentHelp("The scope the token sees, with everything below it (default: the root, every scope).", valueName: "path"))
    var scope = ""

    @Option(help: ArgumentHelp("read, write or admin.", valueName: "role"))
    var role: String

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            guard let role = TokenRole(rawValue: role) else {
                throw StrataError(.invalidArgument, "--role must be read, write or admin, got \"\(role)\"")
            }
            let scope = try ScopePath(self.scope)
            let path = try TokenCommand.checkedFile(store)
            let (id, secret) = TokenSecret.make()
            let record = TokenRecord(id: id, digest: TokenSecret.digest(secret), scope: scope, role: role, createdAt: SystemClock().now())
            try TokenFile.update(path) { (file: inout TokenFile) throws(StrataError) in file.tokens.append(record) }
            if output.json {
                guard case .object(var o) = record.publicJSON else { return }
                o["secret"] = .string(secret)
                printJSON(.object(o))
            } else {
                print(secret)
                printError("strata: token \(id) (\(role.rawValue) on \(scope.description.isEmpty ? "every scope" : "scope \(scope)")); "
                    + "the secret above is not stored anywhere: keep it now")
            }
        }
    }
}

struct TokenListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the tokens (never their secrets).")

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let file = try TokenFile.read(try TokenCommand.checkedFile(store)) ?? TokenFile()
            if output.json {
                printJSON(.object(["tokens": .array(file.tokens.map(\.publicJSON))]))
                return
            }
            if file.tokens.isEmpty { print("no tokens: strata serve requires none (and listens on loopback only)") }
            for t in file.tokens {
                print("\(t.id)  \(t.role.rawValue.padding(6))  \(t.scope.description.isEmpty ? "(root)" : t.scope.description)  \(t.createdAt.iso8601)")
            }
        }
    }
}

struct TokenRevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token by its id; a running server refuses it at once.")

    @Argument(help: ArgumentHelp("The token's id (from `strata token list`).", valueName: "id"))
    var id: String

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let path = try TokenCommand.checkedFile(store)
            let removed = try TokenFile.update(path) { (file: inout TokenFile) throws(StrataError) -> Bool in
                let before = file.tokens.count
                file.tokens.removeAll { $0.id == id }
                return file.tokens.count < before
            }
            guard removed else { throw StrataError(.notFound, "no token with id \"\(id)\"") }
            if output.json { printJSON(.object(["revoked": .string(id)])) } else { print("revoked \(id)") }
        }
    }
}
