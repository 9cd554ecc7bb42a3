#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Waiting for a connection's next request by polling its socket for a few microseconds
/// instead of letting the event loop's thread sleep in `epoll_wait` (`--busy-poll-us`): what
/// Linux's `busy_poll` and Netty's epoll busy-wait do, for a client that sends its next
/// request as soon as it has read the last answer.
///
/// Why: on this VM a thread that sleeps between two requests pays twice: its wake-up, and an
/// engine call that then runs slower than back to back (bench/README.md, "Busy polling": a
/// 100k-memory recall after a 50 µs `usleep` took 40 to 100 µs longer than one after a 50 µs
/// spin, also when other threads kept the core from halting). Polling keeps the thread running
/// until the request is there: 45 to 70 µs off a back-to-back client's p50 there.
///
/// What it costs: the thread's CPU for at most the budget after each answer the recall fast lane
/// makes, and only while no engine call is in flight; a request on another connection of the
/// same loop waits at most the budget. Off (0) unless asked for.
enum BusyPoll {
    /// The socket descriptor of `channel` (a TCP connection), found by comparing the addresses
    /// of this process's sockets with the channel's; nil when none matches or the platform has
    /// no `/proc/self/fd`. SwiftNIO does not expose a channel's descriptor.
    ///
    /// The number is valid while the channel is open; the caller uses it only on the channel's
    /// own event loop, where the channel is closed.
    static func descriptor(of channel: Channel) -> Int32? {
        #if os(Linux)
        guard let local = channel.localAddress, let remote = channel.remoteAddress,
              let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name) else { continue }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { continue }
            if same(local, fd, getsockname), same(remote, fd, getpeername) { return fd }
        }
        return nil
        #else
        return nil
        #endif
    }

    /// What a wait found.
    enum Found: Equatable {
        /// Nothing within the budget, or the server stopped being idle.
        case nothing
        /// Input, its first `count` bytes copied (peeked, not read: they stay in the socket).
        case input(count: Int)
        /// The peer hung up, or the socket is in error: for the event loop to read.
        case closedOrFailed
    }

    /// Polls `fd` for input until some comes, `idle` turns false, or `budget` has passed, and
    /// peeks at what came (`recv` with `MSG_PEEK`) into `buffer`.
    ///
    /// Why `poll` and then a peek, not a spin on the peek alone (one system call fewer once the
    /// request is in): `recv` locks the socket, so a segment that arrives while the spin holds
    /// the lock waits in the socket's backlog, and the spin would hold it most of the time. A
    /// spin on the peek was tried and measured no faster (bench/README.md, "Session 19").
    static func wait(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, budget: Duration, idle: () -> Bool) -> Found {
        let end = ContinuousClock.now + budget
        var request = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        repeat {
            request.revents = 0
            let ready = poll(&request, 1, 0)
            if ready > 0 {
                let count = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_PEEK | MSG_DONTWAIT))
                if count > 0 { return .input(count: count) }
                if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { return .closedOrFailed }
            } else if ready < 0, errno != EINTR {
                return .closedOrFailed
            }
        } while idle() && ContinuousClock.now < end
        return .nothing
    }

    /// Whether `fd`'s address, as `query` (getsockname or getpeername) reads it, is `address`
    /// (family, port and IP).
    private static func same(_ address: SocketAddress, _ fd: Int32,
                             _ query: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> Bool {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let found = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { query(fd, $0, &length) }
        }
        guard found == 0 else { return false }
        return address.withSockAddr { (expected, _) -> Bool in
            withUnsafeBytes(of: &storage) { raw -> Bool in
                let actual = raw.baseAddress!.assumingMemoryBound(to: sockaddr.self)
                guard actual.pointee.sa_family == expected.pointee.sa_family else { return false }
                switch Int32(actual.pointee.sa_family) {
                case AF_INET:
                    let a = raw.load(as: sockaddr_in.self)
                    let b = UnsafeRawPointer(expected).load(as: sockaddr_in.self)
                    return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr
                case AF_INET6:
                    let a = raw.load(as: sockaddr_in6.self)
                    let b = UnsafeRawPointer(expected).load(as: sockaddr_in6.self)
                    return a.sin6_port == b.sin6_port
                        && withUnsafeBytes(of: a.sin6_addr) { x in withUnsafeBytes(of: b.sin6_addr) { y in x.elementsEqual(y) } }
                default:
                    return false
                }
            }
        }
    }
}
