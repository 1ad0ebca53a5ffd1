import Crypto
import Foundation

/// The hash of one row: SHA-256 over its table, and each column's name, value and version (the
/// site id and sequence number of the transaction that wrote it), in the schema's column order.
/// Replicas that applied the same transactions compute the same bytes for a row.
///
/// A cell's version is its own, else the row's insert (`_liaison_version` column `''`), as the
/// applier reads it: a replica that received the row whole with a move records a version per
/// cell, the one that made it records the insert once, and both mean the same. The `id` column
/// carries no version (it never changes).
enum RowDigest {
    /// The rule version: a replica whose digests were kept under another hashes every row again.
    static let rule = 2

    /// The hash of a row, 32 bytes.
    static func hash(table: String, columns: [String], values: [CellValue], versions: [String: (String, Int64)])
        -> [UInt8]
    {
        var hasher = SHA256()
        var bytes: [UInt8] = Array("liaison-row-v2\u{0}".utf8)
        append(table, to: &bytes)
        for (position, column) in columns.enumerated() {
            append(column, to: &bytes)
            switch values[position] {
            case .null: bytes.append(UInt8(ascii: "n"))
            case .integer(let value):
                bytes.append(UInt8(ascii: "i"))
                append(String(value), to: &bytes)
            case .real(let value):
                bytes.append(UInt8(ascii: "r"))
                append(String(value.bitPattern, radix: 16), to: &bytes)
            case .text(let value):
                bytes.append(UInt8(ascii: "t"))
                append(value, to: &bytes)
            }
            if position > 0, let (site, seq) = versions[column] ?? versions[""] {
                bytes.append(UInt8(ascii: "v"))
                append(site, to: &bytes)
                append(String(seq), to: &bytes)
            } else {
                bytes.append(UInt8(ascii: "-"))
            }
        }
        hasher.update(data: bytes)
        return Array(hasher.finalize())
    }

    /// Length-prefixed, so no two rows encode to the same bytes.
    private static func append(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = Array(text.utf8)
        bytes.append(contentsOf: Array(String(utf8.count).utf8))
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: utf8)
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// What a row's hash looks like on the wire: its first 16 bytes in hex.
    static func wireHash(_ hash: [UInt8]) -> String { hex(hash.prefix(16)) }
}

/// An order-independent fingerprint of a set of rows: their hashes added as 256-bit numbers
/// (modulo 2^256), and their count. Adding and removing a row are each one addition.
struct DigestSum: Equatable {
    /// Little-endian 64-bit limbs.
    private(set) var limbs: [UInt64] = [0, 0, 0, 0]
    private(set) var count = 0

    init() {}

    init?(hex: String, count: Int) {
        guard let bytes = RowDigest.bytes(hex: hex), bytes.count == 32 else { return nil }
        limbs = Self.limbs(bytes)
        self.count = count
    }

    mutating func add(_ hash: [UInt8]) {
        var carry: UInt64 = 0
        for (index, limb) in Self.limbs(hash).enumerated() {
            let (partial, overflow1) = limbs[index].addingReportingOverflow(limb)
            let (total, overflow2) = partial.addingReportingOverflow(carry)
            limbs[index] = total
            carry = (overflow1 ? 1 : 0) + (overflow2 ? 1 : 0)
        }
        count += 1
    }

    /// Adds another set's sum and count (a parent node from its children).
    mutating func add(_ other: DigestSum) {
        var carry: UInt64 = 0
        for index in 0..<4 {
            let (partial, overflow1) = limbs[index].addingReportingOverflow(other.limbs[index])
            let (total, overflow2) = partial.addingReportingOverflow(carry)
            limbs[index] = total
            carry = (overflow1 ? 1 : 0) + (overflow2 ? 1 : 0)
        }
        count += other.count
    }

    mutating func remove(_ hash: [UInt8]) {
        var borrow: UInt64 = 0
        for (index, limb) in Self.limbs(hash).enumerated() {
            let (partial, overflow1) = limbs[index].subtractingReportingOverflow(limb)
            let (total, overflow2) = partial.subtractingReportingOverflow(borrow)
            limbs[index] = total
            borrow = (overflow1 ? 1 : 0) + (overflow2 ? 1 : 0)
        }
        count -= 1
    }

    /// The 32-byte sum in hex (stored between refreshes).
    var hex: String {
        var bytes: [UInt8] = []
        for limb in limbs {
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: limb >> UInt64(shift)))
            }
        }
        return RowDigest.hex(bytes)
    }

    /// What is compared: the first 16 bytes of SHA-256 over the sum and the count, in hex.
    var fingerprint: String {
        var bytes = RowDigest.bytes(hex: hex) ?? []
        var size = UInt64(count).littleEndian
        withUnsafeBytes(of: &size) { bytes.append(contentsOf: $0) }
        return RowDigest.hex(SHA256.hash(data: bytes).prefix(16))
    }

    private static func limbs(_ bytes: [UInt8]) -> [UInt64] {
        (0..<4).map { limb in
            (0..<8).reduce(UInt64(0)) { value, byte in
                // A stored hash cut short (the file edited by hand) counts its missing bytes as 0.
                let index = limb * 8 + byte
                return index < bytes.count ? value | UInt64(bytes[index]) << UInt64(byte * 8) : value
            }
        }
    }
}
