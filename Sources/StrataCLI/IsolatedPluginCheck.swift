#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataPlugins
import StrataTesting

/// Runs `strata plugin check` in a child process, so a plugin that crashes or hangs fails the
/// case that was running, by name, and the check goes on with the next case in a new child.
///
/// The child (`plugin check ... --child-from N`) writes one JSON object per line to its
/// standard output: {"plugin": {...}} once loaded, {"start": i, ...} before case i,
/// {"result": i, ...} after it, {"error": {...}} when the file cannot be loaded, and
/// {"done": true} at the end.
enum IsolatedPluginCheck {
    struct Outcome {
        var plugin: (name: String, path: String, version: String)?
        var results: [ConformanceResult] = []
    }

    /// The most children one check starts: a plugin that crashes in every case is reported
    /// after this many, not retried forever.
    static let maximumRestarts = 64

    /// - Parameter caseTimeout: seconds a case may run before the child is killed and the case
    ///   fails as hung.
    static func run(plugin: String, options: String, caseTimeout: Int32) throws(StrataError) -> Outcome {
        var outcome = Outcome()
        var next = 0
        // A crash is reported as a failed case; Swift's own crash report (a page per crash on
        // standard error) stays off unless the user asked for it.
        setenv("SWIFT_BACKTRACE", "enable=no", 0)
        for _ in 0..<maximumRestarts {
            let child = try ChildProcess.spawn(["plugin", "check", plugin, "--options", options, "--child-from", String(next)])
            var running: (index: Int, suite: String, rule: String, name: String)?
            var done = false
            var hung = false
            while let line = child.readLine(timeoutSeconds: caseTimeout) {
                guard let message = try? JSONParser.parse(line, what: "check child"), let o = message.objectValue else { continue }
                if let p = o["plugin"]?.objectValue {
                    outcome.plugin = (p["name"]?.stringValue ?? "?", p["path"]?.stringValue ?? plugin, p["version"]?.stringValue ?? "?")
                } else if let i = o["start"]?.wholeNumber {
                    running = (i, o["suite"]?.stringValue ?? "", o["rule"]?.stringValue ?? "", o["name"]?.stringValue ?? "")
                } else if let i = o["result"]?.wholeNumber {
                    outcome.results.append(ConformanceResult(
                        suite: o["suite"]?.stringValue ?? "", rule: o["rule"]?.stringValue ?? "", name: o["name"]?.stringValue ?? "",
                        failure: o["failure"]?.stringValue))
                    running = nil
                    next = i + 1
                } else if let e = o["error"]?.objectValue {
                    _ = child.wait()
                    let code = e["code"]?.wholeNumber.flatMap { StrataError.Code(rawValue: Int32($0)) } ?? .plugin
                    throw StrataError(code, e["message"]?.stringValue ?? "the plugin could not be loaded")
                } else if o["done"] != nil {
                    done = true
                }
            }
            if !done && child.timedOut {
                hung = true
                child.kill()
            }
            let status = child.wait()
            if done { return outcome }
            let how = hung ? "did not finish within \(caseTimeout) s (a deadlock or an endless loop?); the check process was killed"
                : status.description
            guard let r = running else {
                // Died between cases (while loading, or creating the probe store): nothing to
                // blame a case for and nothing to resume at.
                outcome.results.append(ConformanceResult(suite: "plugin", rule: "plugin.crash", name: "the check process ran to the end",
                                                         failure: "the check process \(how) outside any case"))
                return outcome
            }
            outcome.results.append(ConformanceResult(suite: r.suite, rule: r.rule, name: r.name,
                                                     failure: "the plugin \(how) during this case"))
            next = r.index + 1
        }
        outcome.results.append(ConformanceResult(suite: "plugin", rule: "plugin.crash", name: "the check process ran to the end",
                                                 failure: "stopped after \(maximumRestarts) crashed check processes"))
        return outcome
    }

    /// The child's side: runs the cases from `start` on and reports each as a JSON line.
    static func child(plugin: String, options: JSONValue, start: Int) {
        let session = CheckSession(startAt: start)
        session.willRun = { i, suite, rule, name in
            emit(["start": .number(Double(i)), "suite": .string(suite), "rule": .string(rule), "name": .string(name)])
        }
        session.didRun = { i, r in
            emit(["result": .number(Double(i)), "suite": .string(r.suite), "rule": .string(r.rule), "name": .string(r.name),
                  "failure": r.failure.map { .string($0) } ?? .null])
        }
        do {
            let loaded = try PluginLoader().load(plugin)
            emit(["plugin": .object(["name": .string(loaded.name), "path": .string(loaded.path), "version": .string(loaded.version)])])
            _ = try PluginCheck.run(loaded.path, options: options, loader: PluginLoader(), session: session)
            emit(["done": true])
        } catch {
            emit(["error": .object(["code": .number(Double(error.code.rawValue)), "message": .string(error.message)])])
        }
    }

    /// One line on standard output, written at once (no buffering: the parent must see every
    /// line the child wrote before a crash).
    private static func emit(_ fields: [String: JSONValue]) {
        var line = JSONWriter.string(.object(fields)) + "\n"
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = write(1, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

extension JSONValue {
    /// The value as an Int when it is a whole number.
    fileprivate var wholeNumber: Int? {
        guard case .number(let d) = self, d == d.rounded(), abs(d) < 1e15 else { return nil }
        return Int(d)
    }
}
