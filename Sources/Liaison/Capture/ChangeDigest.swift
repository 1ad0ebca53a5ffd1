import Crypto
import Foundation

/// `TransactionDigest.change` computed over bytes, without building the JSON texts as strings:
/// publishing runs it for every change. Same bytes hashed, same digest
/// (`ChangeDigestTests` compares the two).
package enum ChangeDigest {
    private static let hexDigits = Array("0123456789abcdef".utf8)
    private static let valuesFirst = Array("{\"values\":".utf8)
    private static let valuesAfter = Array(",\"values\":".utf8)
    private static let close = Array("}".utf8)
    private static let empty = Array("{}".utf8)
    private static let bodyOpen = Array("{\"body\":\"".utf8)

    /// The lower-case hex digest of a change, as UTF-8 bytes.
    package static func hex(
        table: String, id: String, op: String, scope: String, values: [UInt8]?, levels: String?, bases: String?
    ) -> [UInt8] {
        var body = SHA256()
        var separator = false
        func part(_ key: StaticString, _ text: some Sequence<UInt8>) {
            body.update(data: separator ? Array(",\"".utf8) : Array("{\"".utf8))
            key.withUTF8Buffer { body.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            body.update(data: Array("\":".utf8))
            body.update(data: Array(text))
            separator = true
        }
        if let bases { part("bases", bases.utf8) }
        if let levels { part("levels", levels.utf8) }
        if let values {
            body.update(data: separator ? valuesAfter : valuesFirst)
            values.withUnsafeBytes { body.update(bufferPointer: $0) }
            separator = true
        }
        body.update(data: separator ? close : empty)
        var outer = SHA256()
        outer.update(data: bodyOpen)
        outer.update(data: hex(body.finalize()))
        var tail = "\",\"id\":"
        CanonicalJSON.appendString(id, to: &tail)
        tail += ",\"op\":"
        CanonicalJSON.appendString(op, to: &tail)
        tail += ",\"scope\":"
        CanonicalJSON.appendString(scope, to: &tail)
        tail += ",\"table\":"
        CanonicalJSON.appendString(table, to: &tail)
        tail += "}"
        var tailBytes = tail
        tailBytes.withUTF8 { outer.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return hex(outer.finalize())
    }

    private static func hex(_ digest: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 15)])
        }
        return out
    }

    /// The root of a transaction's change digests (hex bytes, in order): as `TransactionDigest.root`.
    package static func root(_ digests: [[UInt8]]) -> String {
        var hasher = SHA256()
        for digest in digests { digest.withUnsafeBytes { hasher.update(bufferPointer: $0) } }
        return String(decoding: hex(hasher.finalize()), as: UTF8.self)
    }
}
