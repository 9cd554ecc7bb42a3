/// CRC-32C (Castagnoli): the checksum of every frame and header of the file store, and of the
/// rows of a SQLite snapshot.
///
/// Reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF, the variant iSCSI,
/// ext4 and LevelDB use; its check value (the checksum of the ASCII bytes "123456789") is
/// 0xE3069283. Chosen over CRC-32 (zlib) because it detects more error patterns in the record
/// sizes a log writes, and over a cryptographic hash because it costs about a byte per cycle.
///
/// Slicing-by-8: eight 256-entry tables let the loop fold eight input bytes per step instead of
/// one. Complexity: O(n).
public enum CRC32C {
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
