// A correct program that ThreadSanitizer reports as a "Swift access race" on Linux (Swift 6.3.1):
// Synchronization.Mutex locks with futex syscalls and atomics inside the uninstrumented
// libswiftSynchronization, so TSan sees no happens-before between two withLock bodies. It prints
// 8000 every time; `swiftc -sanitize=thread -g scripts/tsan-mutex-repro.swift -o /tmp/m && /tmp/m`
// reports a race in about one run of three. See scripts/sanitize-tsan.supp.
import Synchronization
import Glibc
final class Box: Sendable { let m = Mutex<[Int]>([]) }
let box = Box()
var threads: [pthread_t] = []
for _ in 0..<4 {
    var t = pthread_t()
    pthread_create(&t, nil, { _ in
        for i in 0..<2000 { box.m.withLock { $0.append(i) } }
        return nil
    }, nil)
    threads.append(t)
}
for t in threads { pthread_join(t, nil) }
print(box.m.withLock { $0.count })
