import CZlib
import Foundation

/// One pass of zlib's deflate over a whole buffer, shared by bundles (a zlib stream) and HTTP
/// answers (gzip).
package enum Deflate {
    /// The framing around the deflate data.
    package enum Framing: Int32 {
        /// RFC 1950 (zlib), window bits 15.
        case zlib = 15
        /// RFC 1952 (gzip), window bits 15 + 16.
        case gzip = 31
    }

    /// `input` compressed at `level` (0–9), or `nil` when zlib refuses.
    package static func compress(_ input: Data, level: Int32, framing: Framing) -> Data? {
        var stream = z_stream()
        guard
            deflateInit2_(
                &stream, level, Z_DEFLATED, framing.rawValue, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { return nil }
        defer { deflateEnd(&stream) }
        var output = Data(count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        let produced: Int? = input.withUnsafeBytes { (source: UnsafeRawBufferPointer) -> Int? in
            output.withUnsafeMutableBytes { (target: UnsafeMutableRawBufferPointer) -> Int? in
                stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = target.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(target.count)
                guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { return nil }
                return Int(stream.total_out)
            }
        }
        guard let produced else { return nil }
        output.count = produced
        return output
    }
}
