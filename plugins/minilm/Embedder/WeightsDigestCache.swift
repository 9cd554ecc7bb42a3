#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// The weights' digest (`MiniLMModel.weightsDigest`) remembered beside the model, so that a
/// process does not read all 91 MB of the file to compute it again: one CRC-32C pass and the
/// faults of the 47 MB word table it would otherwise touch were about a sixth of a fresh
/// `strata recall`.
///
/// The digest is kept with the file's identity as `stat` gives it (device, inode, size,
/// modification and status-change times to the nanosecond), the way build tools decide that a
/// file is unchanged. Any write to the file changes its status-change time, which no user can
/// set back, so a changed model never reuses an old digest. The remembered digest lives in
/// `.strata-weights-digest` in the model folder; when the folder is not writable nothing is
/// remembered and each load computes the digest.
enum WeightsDigestCache {
    static let fileName = ".strata-weights-digest"
    static let header = "strata-weights-digest 1"

    /// The identity of the file at `path`, or nil when it cannot be read.
    static func identity(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino), UInt64(info.st_size),
                UInt64(info.st_mtim.tv_sec), UInt64(info.st_mtim.tv_nsec), UInt64(info.st_ctim.tv_sec), UInt64(info.st_ctim.tv_nsec)]
            .map(String.init).joined(separator: " ")
    }

    /// The digest remembered in `directory` for a file whose identity is `identity`.
    static func remembered(in directory: String, identity: String) -> UInt32? {
        guard let bytes = try? WholeFile.read(directory + "/" + fileName), bytes.count < 4096 else { return nil }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.count == 3, lines[0] == header, lines[1] == identity else { return nil }
        return UInt32(lines[2], radix: 16)
    }

    /// Remembers `digest` for `identity` in `directory` (written whole and renamed into place;
    /// nothing when the folder is not writable).
    static func remember(_ digest: UInt32, in directory: String, identity: String) {
        let path = directory + "/" + fileName
        let temporary = path + ".tmp-\(getpid())"
        var text = "\(header)\n\(identity)\n\(String(digest, radix: 16))\n"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let written = text.withUTF8 { write(fd, $0.baseAddress, $0.count) == $0.count }
        close(fd)
        if !written || rename(temporary, path) != 0 { unlink(temporary) }
    }
}
