#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// This executable run again as a child with other arguments, its standard output read line by
/// line through a pipe (standard error is shared). For work that may crash the process running
/// it, such as calling a plugin under test.
final class ChildProcess {
    private let pid: pid_t
    private let output: Int32
    private var buffer: [UInt8] = []
    private var ended = false
    private var reaped: Int32?
    /// Whether the last `readLine` gave up because nothing arrived in time.
    private(set) var timedOut = false

    /// How a child ended.
    enum Status: CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        var description: String {
            switch self {
            case .exited(let code): return "exited with status \(code)"
            case .signalled(let signal):
                let name = strsignal(signal).map { String(cString: $0) } ?? "signal"
                return "crashed with signal \(signal) (\(name))"
            }
        }
    }

    private init(pid: pid_t, output: Int32) {
        self.pid = pid
        self.output = output
    }

    deinit {
        if reaped == nil { kill(); _ = wait() }
        close(output)
    }

    /// Starts /proc/self/exe (or `executable`, found on PATH when it has no "/") with `arguments`.
    static func spawn(_ arguments: [String], executable: String = "/proc/self/exe") throws(StrataError) -> ChildProcess {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw StrataError(.io, "cannot make a pipe for the check process: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = executable.contains("/") ? posix_spawn(&pid, executable, &actions, nil, argv, environ)
            : posix_spawnp(&pid, executable, &actions, nil, argv, environ)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw StrataError(.io, "cannot start the check process: \(String(cString: strerror(rc)))")
        }
        return ChildProcess(pid: pid, output: fds[0])
    }

    /// The next line of the child's output, without its newline; nil at the end of the output
    /// or when nothing arrives for `timeoutSeconds` (then `timedOut` is set).
    func readLine(timeoutSeconds: Int32) -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            if ended { return nil }
            var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, timeoutSeconds * 1000)
            if ready == 0 { timedOut = true; return nil }
            if ready < 0 { if errno == EINTR { continue }; ended = true; continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ended = true; continue }
            buffer += chunk[0..<n]
        }
    }

    func kill() { _ = Glibc.kill(pid, SIGKILL) }

    /// Waits for the child to end.
    func wait() -> Status {
        if reaped == nil {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            reaped = status
        }
        let status = reaped!
        // WIFEXITED / WTERMSIG are macros Swift does not import.
        if status & 0x7F == 0 { return .exited((status >> 8) & 0xFF) }
        return .signalled(status & 0x7F)
    }
}
