/// Walks the frames of a log or snapshot and says where the intact ones end and why.
///
/// The first frame that is not intact is judged by what an interrupted append can leave, since
/// that alone may be cut off: see `isTornTail`. Anything else is damage to bytes that were once
/// written whole (a flipped bit, an overwritten block), and cutting there would throw away
/// acknowledged commits, so the caller reports `.corrupt` instead.
///
/// Finding an intact frame after damage tries every byte offset, since a damaged length says
/// nothing about where the next frame starts. Each try costs one 4-byte checksum unless the
/// length checksum matches by chance (about 1 in 4 billion), so this is O(n) and only runs on
/// damage. A payload that itself holds the bytes of an intact frame could make a torn tail look
/// like damage with an intact frame after it; that errs towards refusing to open, never towards
/// a wrong record.
struct FrameScanner {
    enum Damage: Equatable {
        /// The bytes from `offset` to the end are an append that did not finish (`isTornTail`),
        /// and no intact frame follows.
        case torn(offset: Int)
        /// The frame at `offset` is damaged in the way `inspection` says; `nextIntact` is where
        /// an intact frame starts after it, if one does.
        case damaged(offset: Int, inspection: Frame.Inspection, nextIntact: Int?)

        var offset: Int {
            switch self {
            case .torn(let offset), .damaged(let offset, _, _): offset
            }
        }
    }

    /// The payload ranges of the intact frames before any damage, in file order.
    private(set) var payloads: [Range<Int>] = []
    /// The end of the last intact frame before any damage (where a torn tail would be cut).
    private(set) var intactEnd: Int
    private(set) var damage: Damage?

    /// Scans `bytes` from `start` (just past the file header) to the end. Complexity: O(n).
    init(_ bytes: UnsafeRawBufferPointer, from start: Int) {
        var at = start
        intactEnd = start
        while at < bytes.count {
            let inspection = Frame.inspect(bytes, at: at)
            guard case .intact(let n) = inspection else {
                let next = Self.nextIntact(bytes, after: at)
                if next == nil, Self.isTornTail(bytes, from: at) {
                    damage = .torn(offset: at)
                } else {
                    damage = .damaged(offset: at, inspection: inspection, nextIntact: next)
                }
                return
            }
            payloads.append(at + Frame.headerSize..<at + Frame.headerSize + n)
            at += Frame.headerSize + n
            intactEnd = at
        }
    }

    /// The first offset after `offset` where an intact frame starts, or nil. Complexity: O(n).
    static func nextIntact(_ bytes: UnsafeRawBufferPointer, after offset: Int) -> Int? {
        var next = offset + 1
        while next < bytes.count {
            if Frame.intactPayloadLength(in: bytes, at: next) != nil { return next }
            next += 1
        }
        return nil
    }

    /// Whether the bytes from `offset` (where the last intact frame ends) to the end of the file
    /// are what an unfinished append leaves, and nothing else. An append is one `pwrite` of a
    /// whole frame at the end of the file; a process killed during it, or a power cut before
    /// its sync, leaves a prefix of that frame, and the file system may leave zeros where data
    /// it had not yet written should be. So the tail is "truly incomplete" when, with its
    /// trailing zero bytes set aside, it is
    /// - shorter than a frame header (12 bytes): a length header written in part, or nothing
    ///   but zeros; or
    /// - a header whose length checksum matches and whose payload is shorter than that length
    ///   (zeros counted): a short final frame.
    ///
    /// Everything else is damage, the last frame included: a complete frame (trusted length,
    /// every payload byte present) whose payload checksum fails, a length field with a bad
    /// checksum or an impossible length followed by at least a header's worth of non-zero bytes.
    /// A torn write cannot make those: it never changes bytes it wrote, only leaves some out.
    /// A complete frame whose end the file system filled with zeros is judged damage too: ext4
    /// (in its default ordered mode) and XFS make a larger size durable only after the data it
    /// covers, so that takes damage, and the open errs towards refusing over cutting.
    static func isTornTail(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Bool {
        var end = bytes.count
        while end > offset, bytes[end - 1] == 0 { end -= 1 }
        if end - offset < Frame.headerSize { return true }
        if case .short = Frame.inspect(bytes, at: offset) { return true }
        return false
    }
}
