import StrataCore
import Testing

@Suite struct CRC32CTests {
    /// Bit by bit, straight from the definition: the reference the tables must agree with.
    func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test func matchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, and of 0xFF.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
    }

    @Test func slicingByEightAgreesWithTheBitwiseDefinitionAtEveryLengthAndAlignment() {
        var g = SeededRandom(seed: 1024)  // seeded: a failure replays
        let data = (0..<200).map { _ in UInt8.random(in: 0...255, using: &g) }
        for start in 0..<8 {
            for length in 0..<(data.count - start) {
                let slice = Array(data[start..<start + length])
                let fast = data.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<start + length])) }
                let tables = data.withUnsafeBytes { CRC32C.checksumWithTables(UnsafeRawBufferPointer(rebasing: $0[start..<start + length])) }
                #expect(fast == reference(slice), "start \(start), length \(length)")
                #expect(tables == reference(slice), "tables: start \(start), length \(length)")
            }
        }
    }

    @Test func continuingAChecksumEqualsChecksummingTheWhole() {
        let data = Array("the quick brown fox jumps over the lazy dog".utf8)
        for split in 0...data.count {
            let first = CRC32C.checksum(Array(data[..<split]))
            let both = Array(data[split...]).withUnsafeBytes { CRC32C.checksum($0, continuing: first) }
            #expect(both == CRC32C.checksum(data), "split at \(split)")
        }
    }
}
