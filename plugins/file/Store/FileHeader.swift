import StrataCore

/// The header at the start of the log, of the snapshot and of a named snapshot. All integers
/// are little-endian.
///
///     offset  size  log ("STRATALG")   snapshot ("STRATASN")   named snapshot ("STRATANS")
///     0       8     magic              magic                   magic
///     8       4     format version (1) format version (1)      format version (1)
///     12      4     dimension          dimension               dimension
///     16      4     metric (0 cosine, 1 dot, 2 l2)
///     20      8     -                  sequence number of the last commit it holds
///     28      8     -                  number of frames that follow
///     36      8     -                  -                       creation time, ms since 1970 UTC
///     44      8     -                  -                       number of records it holds
///     20/36/52 4    CRC-32C of the bytes before it
///
/// The dimension and metric live here so a store reopened with other settings fails with both
/// values named instead of misreading vectors. The snapshot's frame count makes a snapshot cut
/// short detectable even though each frame it holds is whole. A named snapshot
/// (`PATH.snapshots/NAME.snapshot`, see FileSnapshots.swift) holds records only, no history;
/// its time and count let `snapshots()` list it from the header alone.
struct FileHeader: Equatable {
    enum Kind {
        case log, snapshot, named

        var magic: [UInt8] {
            switch self {
            case .log: Array("STRATALG".utf8)
            case .snapshot: Array("STRATASN".utf8)
            case .named: Array("STRATANS".utf8)
            }
        }

        var size: Int {
            switch self {
            case .log: 24
            case .snapshot: 40
            case .named: 56
            }
        }

        var noun: String {
            switch self {
            case .log: "log"
            case .snapshot: "snapshot"
            case .named: "named snapshot"
            }
        }
    }

    /// The format this code writes; a file with a higher version is refused, not guessed at.
    static let currentVersion: UInt32 = 1

    var kind: Kind
    var dimension: Int
    var metric: Metric
    /// Snapshot only: the sequence number of the last commit the snapshot includes.
    var lastSequence: UInt64 = 0
    /// Snapshot only: how many frames follow the header.
    var frameCount: UInt64 = 0
    /// Named snapshot only: when it was made, and how many records it holds.
    var createdAt = Timestamp(milliseconds: 0)
    var records: UInt64 = 0

    static func code(of metric: Metric) -> UInt32 {
        switch metric {
        case .cosine: 0
        case .dot: 1
        case .l2: 2
        }
    }

    var bytes: [UInt8] {
        var w = ByteWriter(reservingCapacity: kind.size)
        w.raw(kind.magic)
        w.u32(Self.currentVersion)
        w.u32(UInt32(dimension))
        w.u32(Self.code(of: metric))
        if kind != .log {
            w.u64(lastSequence)
            w.u64(frameCount)
        }
        if kind == .named {
            w.u64(UInt64(bitPattern: createdAt.milliseconds))
            w.u64(records)
        }
        w.u32(CRC32C.checksum(w.bytes))
        return w.bytes
    }

    /// Decodes the header at the start of `bytes`; `path` names the file in errors.
    static func decode(_ bytes: UnsafeRawBufferPointer, kind: Kind, path: String) throws(StrataError) -> FileHeader {
        let name = "file store \(kind.noun) \"\(path)\""
        guard bytes.count >= kind.magic.count, Array(bytes[0..<kind.magic.count]) == kind.magic else {
            throw StrataError(.corrupt, "\(name) is not a Strata file-store \(kind.noun): it does not start with \"\(String(decoding: kind.magic, as: UTF8.self))\"")
        }
        guard bytes.count >= kind.size else {
            throw StrataError(.corrupt, "\(name) is \(bytes.count) bytes, shorter than its \(kind.size)-byte header")
        }
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[0..<kind.size]), what: "header of \(name)")
        _ = try r.raw(kind.magic.count)
        let version = try r.u32()
        // The version is checked before the checksum: a newer format may lay its header out
        // differently, and "written by a newer Strata" is the useful message then.
        guard version <= currentVersion else {
            throw StrataError(.unsupported, "\(name) has format version \(version); this plugin reads versions up to \(currentVersion): open it with a newer Strata")
        }
        let dimension = try r.u32()
        let metricCode = try r.u32()
        var header = FileHeader(kind: kind, dimension: Int(dimension), metric: .cosine)
        if kind != .log {
            header.lastSequence = try r.u64()
            header.frameCount = try r.u64()
        }
        if kind == .named {
            header.createdAt = Timestamp(milliseconds: Int64(bitPattern: try r.u64()))
            header.records = try r.u64()
        }
        let stored = try r.u32()
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<kind.size - 4]))
        guard stored == computed else {
            throw StrataError(.corrupt, "\(name): the header checksum does not match (stored \(hex(stored)), computed \(hex(computed)))")
        }
        guard version >= 1, let metric = Metric.allCases.first(where: { code(of: $0) == metricCode }), dimension >= 1 else {
            throw StrataError(.corrupt, "\(name): the header holds version \(version), dimension \(dimension), metric code \(metricCode)")
        }
        header.metric = metric
        return header
    }
}

/// `0x1234abcd`, for checksums in messages.
func hex(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
