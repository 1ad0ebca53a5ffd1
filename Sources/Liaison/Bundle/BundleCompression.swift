import CZlib
import Foundation

/// Compression of a bundle's body before it is sealed: zlib's deflate (RFC 1950 stream, level 9).
///
/// The signature and the envelope's digest cover the plaintext body, so compression changes
/// nothing about what is signed; a receiver inflates what it opened, bounded (a deflate stream of
/// a few MiB could inflate to many GiB), and then checks the digest.
package enum BundleCompression {
    /// The name in `BundleEnvelope.compression`.
    package static let method = "deflate"

    package static func compress(_ input: Data) throws -> Data {
        guard let output = Deflate.compress(input, level: 9, framing: .zlib) else {
            throw LiaisonError(.invalidInput, "zlib could not compress the bundle")
        }
        return output
    }

    /// Inflates `input`, refusing (as a hostile file) anything that is not one whole zlib stream or
    /// that inflates past `limit` bytes.
    package static func decompress(_ input: Data, limit: Int) throws -> Data {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw LiaisonError(.invalidInput, "cannot start zlib to open the bundle")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        var status: Int32 = Z_OK
        try input.withUnsafeBytes { (source: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                let produced = chunk.withUnsafeMutableBytes { (target: UnsafeMutableRawBufferPointer) -> Int in
                    stream.next_out = target.bindMemory(to: Bytef.self).baseAddress
                    stream.avail_out = uInt(target.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return target.count - Int(stream.avail_out)
                }
                if status == Z_BUF_ERROR, stream.avail_in == 0 {
                    throw BundleFile.refused("its compressed payload is cut short")
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    throw BundleFile.refused("its compressed payload is not a valid deflate stream (altered or cut)")
                }
                guard output.count + produced <= limit else {
                    throw BundleFile.refused("its payload inflates past \(limit >> 20) MiB")
                }
                output.append(contentsOf: chunk[0..<produced])
                if status == Z_OK, produced == 0, stream.avail_in == 0 {
                    throw BundleFile.refused("its compressed payload is cut short")
                }
            } while status != Z_STREAM_END
        }
        guard stream.avail_in == 0 else {
            throw BundleFile.refused("its compressed payload has bytes after the end of the stream")
        }
        return output
    }
}

extension Replica {
    /// Tests play a carrier who alters a bundle: `data`'s envelope (digest and signature kept) over
    /// `body` (plaintext bytes) compressed as the envelope says, or raw bytes when `compressed` is false.
    package static func bundleReplacingPayload(of data: Data, with body: Data, compressed: Bool = true) throws -> Data {
        var (envelope, _) = try BundleFile.decode(data)
        let payload = compressed ? try BundleCompression.compress(body) : body
        envelope.seal = nil
        envelope.length = payload.count
        return try BundleFile.encode(envelope, payload: payload)
    }

    /// The plaintext body of an unsealed bundle file (tests read it to alter it).
    package static func bundlePlaintext(of data: Data, limit: Int = BundleFile.maxBytes) throws -> Data {
        let (envelope, payload) = try BundleFile.decode(data)
        return envelope.compression == nil ? payload : try BundleCompression.decompress(payload, limit: limit)
    }
}
