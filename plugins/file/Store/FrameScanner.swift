/// Walks the frames of a log or snapshot and says where the intact ones end and why.
///
/// Damage is classified by what follows it, because that is what separates a torn write from
/// a damaged file:
/// - nothing intact after the first bad frame: a torn or damaged tail (a crash during the last
///   append, or garbage the file system left past it). Cutting it off loses only commits that
///   were never acknowledged as durable.
/// - an intact frame somewhere after it: the damage is inside data that was once written whole,
///   so cutting would throw away acknowledged commits; the caller reports `.corrupt` instead.
///
/// Finding "an intact frame somewhere after" tries every byte offset, since a damaged length
/// says nothing about where the next frame starts. Each try costs one 4-byte checksum unless the
/// length checksum matches by chance (about 1 in 4 billion), so this is O(n) and only runs on
/// damage. A payload that itself contains the bytes of an intact frame could make a torn tail
/// look like inner damage; that errs towards refusing to open, never towards a wrong record.
struct FrameScanner {
    enum Damage: Equatable {
        /// The bytes from `offset` to the end hold no intact frame.
        case tail(offset: Int)
        /// The frame at `offset` is damaged and an intact one starts at `nextIntact`.
        case inner(offset: Int, nextIntact: Int)
    }

    /// The payload ranges of the intact frames before any damage, in file order.
    private(set) var payloads: [Range<Int>] = []
    /// The end of the last intact frame before any damage (where the file would be cut).
    private(set) var intactEnd: Int
    private(set) var damage: Damage?

    /// Scans `bytes` from `start` (just past the file header) to the end. Complexity: O(n).
    init(_ bytes: UnsafeRawBufferPointer, from start: Int) {
        var at = start
        intactEnd = start
        while at < bytes.count {
            guard let n = Frame.intactPayloadLength(in: bytes, at: at) else {
                var next = at + 1
                while next < bytes.count, Frame.intactPayloadLength(in: bytes, at: next) == nil { next += 1 }
                damage = next < bytes.count ? .inner(offset: at, nextIntact: next) : .tail(offset: at)
                return
            }
            payloads.append(at + Frame.headerSize..<at + Frame.headerSize + n)
            at += Frame.headerSize + n
            intactEnd = at
        }
    }
}
