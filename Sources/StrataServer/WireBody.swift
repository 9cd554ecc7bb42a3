import NIOCore
import StrataCore
import StrataWire

extension ByteBuffer {
    /// The readable bytes parsed as wire JSON where they lie (`Wire.parse`), without copying a
    /// request's body into an array first: the router's bodies (`MemoryService.body`) and the
    /// recall fast lane's.
    func wireJSON(what: String) throws(StrataError) -> JSONValue {
        let parsed = withUnsafeReadableBytes { raw -> Result<JSONValue, StrataError> in
            do throws(StrataError) {
                return .success(try Wire.parse(bytes: raw.assumingMemoryBound(to: UInt8.self), what: what))
            } catch {
                return .failure(error)
            }
        }
        return try parsed.get()
    }
}
