import CStrataSIMD

/// CRC-32C (Castagnoli): the checksum of every frame and header of the file store, and of the
/// rows of a SQLite snapshot.
///
/// Reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF, the variant iSCSI,
/// ext4 and LevelDB use; its check value (the checksum of the ASCII bytes "123456789") is
/// 0xE3069283. Chosen over CRC-32 (zlib) because it detects more error patterns in the record
/// sizes a log writes, and over a cryptographic hash because it costs about a byte per cycle.
///
/// On x86-64 CPUs with SSE4.2 the crc32 instruction folds eight bytes a step
/// (`strata_crc32c_fold`); elsewhere slicing-by-8, eight 256-entry tables, folds eight input
/// bytes per step instead of one. Both give the same bits (CRC32CTests). The hardware path
/// matters for the SQLite store, which checks every row's checksum as it loads the store.
/// Complexity: O(n).
public enum CRC32C {
    private static let hardware = strata_crc32c_hardware() == 1

    /// `tables[k * 256 + b]`: the CRC of byte `b` followed by `k` zero bytes. Table 0 is the
    /// classic byte-at-a-time table; table k extends table k - 1 by one more zero byte.
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for b in 0..<256 {
            var crc = UInt32(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            t[b] = crc
        }
        for k in 1..<8 {
            for b in 0..<256 {
                let previous = t[(k - 1) * 256 + b]
                t[k * 256 + b] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()

    /// The CRC-32C of `bytes`. Pass an earlier result as `continuing` to checksum data given in
    /// pieces: `checksum(b, continuing: checksum(a))` equals the checksum of `a` followed by `b`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        guard hardware, let base = bytes.baseAddress else { return checksumWithTables(bytes, continuing: previous) }
        return ~strata_crc32c_fold(~previous, base, bytes.count)
    }

    /// The table path, which every CPU runs: `checksum` uses it where the CPU has no crc32
    /// instruction, and tests hold the two paths to the same bits.
    public static func checksumWithTables(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        var crc = ~previous
        tables.withUnsafeBufferPointer { t in
            guard var p = bytes.baseAddress else { return }
            var n = bytes.count
            while n >= 8 {
                let one = UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) ^ crc
                let two = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                crc = t[7 * 256 + Int(one & 0xFF)] ^ t[6 * 256 + Int((one >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((one >> 16) & 0xFF)] ^ t[4 * 256 + Int(one >> 24)]
                    ^ t[3 * 256 + Int(two & 0xFF)] ^ t[2 * 256 + Int((two >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((two >> 16) & 0xFF)] ^ t[Int(two >> 24)]
                p += 8
                n -= 8
            }
            while n > 0 {
                crc = t[Int((crc ^ UInt32(p.load(as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
                p += 1
                n -= 1
            }
        }
        return ~crc
    }

    /// The CRC-32C of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
