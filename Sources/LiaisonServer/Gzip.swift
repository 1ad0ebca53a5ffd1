import CZlib
import Foundation

/// gzip compression of response bodies (zlib, level 6).
enum Gzip {
    static func compress(_ input: Data, level: Int32 = 6) -> Data? {
        var stream = z_stream()
        guard
            deflateInit2_(
                &stream, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
                == Z_OK
        else { return nil }
        defer { deflateEnd(&stream) }
        var output = Data(count: Int(deflateBound(&stream, UInt(input.count))) + 32)
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
