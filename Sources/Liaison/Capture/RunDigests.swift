import Foundation

/// The change digests one publish run made, per transaction, for the transactions' roots: each as
/// its position `n` and its 32 bytes, in flat arrays (40 bytes a change). A run that publishes a
/// million captured inserts keeps 40 MB here, where an array of hex byte arrays per change took
/// ~150 MB and made the first pull of a large journal the server's peak (W5).
package struct RunDigests {
    fileprivate struct Entries {
        var positions: [Int64] = []
        /// 32 bytes per change, in the order of `positions`.
        var bytes: [UInt8] = []
        var ascending = true
    }

    private var bySeq: [Int64: Entries] = [:]

    package init() {}

    package var isEmpty: Bool { bySeq.isEmpty }

    /// Records the digest (64 lowercase hex bytes) of change `n` of transaction `seq`.
    package mutating func append(seq: Int64, n: Int64, hex: [UInt8]) {
        bySeq[seq, default: Entries()].append(n: n, hex: hex)
    }

    /// Takes every digest of `other` (moved whole when this holds none).
    package mutating func absorb(_ other: RunDigests) {
        if bySeq.isEmpty {
            bySeq = other.bySeq
            return
        }
        for (seq, entries) in other.bySeq {
            var mine = bySeq[seq] ?? Entries()
            for (index, n) in entries.positions.enumerated() {
                mine.append(n: n, raw: entries.bytes[(index * 32)..<(index * 32 + 32)])
            }
            bySeq[seq] = mine
        }
    }

    /// Every change position recorded, transaction by transaction.
    package func forEachPosition(_ body: (Int64) -> Void) {
        for entries in bySeq.values { entries.positions.forEach(body) }
    }

    /// The hex digests of transaction `seq` in position order (what `ChangeDigest.root` joins).
    package func ordered(_ seq: Int64) -> [[UInt8]] {
        guard let entries = bySeq[seq] else { return [] }
        var order = Array(entries.positions.indices)
        if !entries.ascending { order.sort { entries.positions[$0] < entries.positions[$1] } }
        return order.map { Self.hex(entries.bytes[($0 * 32)..<($0 * 32 + 32)]) }
    }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func hex(_ raw: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in raw {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return out
    }

    fileprivate static func nibble(_ digit: UInt8) -> UInt8 {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: digit &- UInt8(ascii: "A") &+ 10
        }
    }
}

extension RunDigests.Entries {
    fileprivate mutating func append(n: Int64, hex: [UInt8]) {
        precondition(hex.count == 64, "a change digest is 64 hex digits")
        note(n)
        var index = 0
        while index < 64 {
            bytes.append(RunDigests.nibble(hex[index]) << 4 | RunDigests.nibble(hex[index + 1]))
            index += 2
        }
    }

    fileprivate mutating func append(n: Int64, raw: ArraySlice<UInt8>) {
        note(n)
        bytes.append(contentsOf: raw)
    }

    private mutating func note(_ n: Int64) {
        if let last = positions.last, last > n { ascending = false }
        positions.append(n)
    }
}
