import Foundation

/// The entries of a string-keyed dictionary in key order, sorted in a temporary buffer: by UTF-8
/// bytes (the order of `JSONEncoder`'s `.sortedKeys`) or by `String` comparison (the order of
/// `CanonicalJSON`). The two agree on ASCII keys, which compare by their first eight bytes first.
package struct SortedEntries<Value> {
    package let key: String
    package let value: Value
    /// The key's first eight bytes, big-endian, zero-padded.
    private let prefix: UInt64
    private let isASCII: Bool

    private init(key: String, value: Value) {
        self.key = key
        self.value = value
        (prefix, isASCII) =
            key.utf8.withContiguousStorageIfAvailable(Self.prefix) ?? Self.prefix(of: Array(key.utf8))
    }

    private static func prefix(of utf8: UnsafeBufferPointer<UInt8>) -> (UInt64, Bool) {
        var prefix: UInt64 = 0
        var bits: UInt8 = 0
        for position in utf8.indices {
            bits |= utf8[position]
            if position < 8 { prefix |= UInt64(utf8[position]) << (56 - 8 * UInt64(position)) }
        }
        return (prefix, bits < 0x80)
    }

    private static func prefix(of utf8: [UInt8]) -> (UInt64, Bool) {
        utf8.withUnsafeBufferPointer(prefix)
    }

    /// Calls `body` with the entries sorted; the buffer lives only during the call.
    package static func withSorted<Result>(
        _ dictionary: [String: Value], byUTF8: Bool, _ body: (UnsafeBufferPointer<SortedEntries>) throws -> Result
    ) rethrows -> Result {
        try withUnsafeTemporaryAllocation(of: SortedEntries.self, capacity: dictionary.count) { buffer in
            var count = 0
            for (key, value) in dictionary {
                (buffer.baseAddress! + count).initialize(to: SortedEntries(key: key, value: value))
                count += 1
            }
            defer { _ = buffer.baseAddress.map { $0.deinitialize(count: count) } }
            var entries = UnsafeMutableBufferPointer(rebasing: buffer[..<count])
            entries.sort { precedes($0, $1, byUTF8: byUTF8) }
            return try body(UnsafeBufferPointer(entries))
        }
    }

    private static func precedes(_ a: SortedEntries, _ b: SortedEntries, byUTF8: Bool) -> Bool {
        guard byUTF8 || (a.isASCII && b.isASCII) else { return a.key < b.key }
        if a.prefix != b.prefix { return a.prefix < b.prefix }
        return JSONWriter.precedes(a.key, b.key)
    }
}
