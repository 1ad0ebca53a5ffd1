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
    ///
    /// Each of the two texts hashed is built whole in one buffer and hashed in one call: a
    /// `SHA256.update` per part cost more than the hashing itself (publishing runs this per change).
    package static func hex(
        table: String, id: String, op: String, scope: String, values: [UInt8]?, levels: String?, bases: String?
    ) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity((values?.count ?? 0) + (levels?.utf8.count ?? 0) + (bases?.utf8.count ?? 0) + 40)
        appendBody(to: &body, bases: bases?.utf8, levels: levels, hasValues: values != nil) {
            if let values { $0.append(contentsOf: values) }
        }
        var outer: [UInt8] = bodyOpen
        outer.reserveCapacity(bodyOpen.count + 64 + id.utf8.count + scope.utf8.count + table.utf8.count + 48)
        appendHex(SHA256.hash(data: body), to: &outer)
        outer.append(contentsOf: idKey)
        appendString(id, to: &outer)
        outer.append(contentsOf: opKey)
        appendString(op, to: &outer)
        outer.append(contentsOf: scopeKey)
        appendString(scope, to: &outer)
        outer.append(contentsOf: tableKey)
        appendString(table, to: &outer)
        outer.append(contentsOf: close)
        var result: [UInt8] = []
        result.reserveCapacity(64)
        appendHex(SHA256.hash(data: outer), to: &result)
        return result
    }

    /// `hex(table:…)` for changes of one table, with buffers kept from one change to the next:
    /// the bulk publishing functions run it per row, and writing the values straight into the
    /// text hashed saves a copy and two allocations a change (`ChangeDigestTests` compares the two).
    package struct Writer {
        private var body: [UInt8] = []
        private var outer: [UInt8] = []
        /// `,"table":"NAME"}`.
        private let tableTail: [UInt8]

        package init(table: String) {
            var tail = ChangeDigest.tableKey
            appendString(table, to: &tail)
            tail.append(contentsOf: ChangeDigest.close)
            tableTail = tail
            body.reserveCapacity(1024)
            outer.reserveCapacity(256)
        }

        /// The digest of a change whose values (`nil`: a deletion) `values` appends as a JSON object.
        package mutating func hex(
            id: UnsafeBufferPointer<UInt8>, op: String, scope: UnsafeBufferPointer<UInt8>, levels: String?,
            bases: [UInt8]?, values: ((inout [UInt8]) -> Void)?
        ) -> [UInt8] {
            body.removeAll(keepingCapacity: true)
            ChangeDigest.appendBody(to: &body, bases: bases, levels: levels, hasValues: values != nil) {
                values?(&$0)
            }
            outer.removeAll(keepingCapacity: true)
            outer.append(contentsOf: bodyOpen)
            appendHex(SHA256.hash(data: body), to: &outer)
            outer.append(contentsOf: idKey)
            RowJSON.appendText(id.baseAddress, id.count, to: &outer)
            outer.append(contentsOf: opKey)
            appendString(op, to: &outer)
            outer.append(contentsOf: scopeKey)
            RowJSON.appendText(scope.baseAddress, scope.count, to: &outer)
            outer.append(contentsOf: tableTail)
            var result: [UInt8] = []
            result.reserveCapacity(64)
            appendHex(SHA256.hash(data: outer), to: &result)
            return result
        }
    }

    private static let basesFirst = Array("{\"bases\":".utf8)
    private static let levelsFirst = Array("{\"levels\":".utf8)
    private static let levelsAfter = Array(",\"levels\":".utf8)
    private static let idKey = Array("\",\"id\":".utf8)
    private static let opKey = Array(",\"op\":".utf8)
    private static let scopeKey = Array(",\"scope\":".utf8)
    private static let tableKey = Array(",\"table\":".utf8)

    /// The text hashed first, `{"bases":…,"levels":…,"values":…}` with the members the change
    /// has, in that order (`{}` for none); `values` writes the values object when `hasValues`.
    private static func appendBody(
        to body: inout [UInt8], bases: (some Sequence<UInt8>)?, levels: String?, hasValues: Bool,
        values: (inout [UInt8]) -> Void
    ) {
        var separator = false
        if let bases {
            body.append(contentsOf: basesFirst)
            body.append(contentsOf: bases)
            separator = true
        }
        if let levels {
            body.append(contentsOf: separator ? levelsAfter : levelsFirst)
            body.append(contentsOf: levels.utf8)
            separator = true
        }
        if hasValues {
            body.append(contentsOf: separator ? valuesAfter : valuesFirst)
            values(&body)
            separator = true
        }
        body.append(contentsOf: separator ? close : empty)
    }

    /// A JSON string as `CanonicalJSON.appendString` writes it, as bytes.
    private static func appendString(_ text: String, to out: inout [UInt8]) {
        var text = text
        // No pointer only for no bytes, which `appendText` writes as `""` too.
        text.withUTF8 { RowJSON.appendText($0.baseAddress, $0.count, to: &out) }
    }

    private static func appendHex(_ digest: SHA256.Digest, to out: inout [UInt8]) {
        digest.withUnsafeBytes { bytes in
            for byte in bytes {
                out.append(hexDigits[Int(byte &>> 4)])
                out.append(hexDigits[Int(byte & 15)])
            }
        }
    }

    /// The root of a transaction's change digests (hex bytes, in order): as `TransactionDigest.root`.
    /// The digests are joined first and hashed in one call (a transaction may hold 100,000).
    package static func root(_ digests: [[UInt8]]) -> String {
        var joined: [UInt8] = []
        joined.reserveCapacity(digests.reduce(0) { $0 + $1.count })
        for digest in digests { joined.append(contentsOf: digest) }
        var out: [UInt8] = []
        out.reserveCapacity(64)
        appendHex(SHA256.hash(data: joined), to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
