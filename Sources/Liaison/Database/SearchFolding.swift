import CSQLite
import Foundation

/// Search that ignores case, accents and width in any script: "securite" and "SÉCURITÉ" both find
/// "Sécurité", "مكافحة" finds "مُكافحة". Both sides are folded the same way (`fold`); SQL gets it
/// as the function `liaison_contains(needle, value, …)`, registered on every connection, so a
/// search stays inside the one statement that filters, sorts and pages.
public enum SearchFolding {
    /// `text` without case, accents, other combining marks and width differences.
    public static func fold(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.lowercased() }
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        var scalars = String.UnicodeScalarView()
        for scalar in folded.decomposedStringWithCanonicalMapping.unicodeScalars
        where scalar.properties.generalCategory != .nonspacingMark {
            scalars.append(scalar)
        }
        return String(scalars).lowercased()
    }

    /// Whether the UTF-8 `text`, folded, contains `needle` (already folded, UTF-8).
    ///
    /// Folds scalar by scalar through `FoldTable` (one lookup each below U+2000: Latin, Greek,
    /// Cyrillic, Hebrew, Arabic), so a search of 100,000 rows does not call Foundation per row.
    /// Plain pointer loops: this runs once per row and column searched, in debug builds too.
    @_optimize(speed)
    static func contains(_ text: UnsafeBufferPointer<UInt8>, folded needle: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let needleStart = needle.baseAddress, needle.count > 0 else { return true }
        guard let start = text.baseAddress, text.count > 0 else { return false }
        let count = text.count
        var index = 0
        // Folding a scalar yields at most 3 scalars of at most 4 bytes each (checked in FoldTable).
        let capacity = count * 12
        // On the stack when small (most cells), on the heap beyond.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer -> Bool in
            let folded = buffer.baseAddress!
            var length = 0
            let table = FoldTable.shared
            while index < count {
                let byte = start[index]
                if byte < 0x80 {
                    folded[length] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                    length += 1
                    index += 1
                    continue
                }
                let width = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                guard index + width <= count else { break }
                var value = UInt32(width == 1 ? byte : byte & (0x7F >> UInt8(width)))
                var offset = 1
                while offset < width {
                    value = value << 6 | UInt32(start[index + offset] & 0x3F)
                    offset += 1
                }
                index += width
                if value < FoldTable.limit {
                    length += table.copy(Int(value), to: folded + length)
                } else if let scalar = Unicode.Scalar(value) {
                    for unit in fold(String(Character(scalar))).utf8 where length < capacity {
                        folded[length] = unit
                        length += 1
                    }
                }
            }
            return find(needleStart, needle.count, in: folded, length, lowering: false)
        }
    }

    /// Plain byte search of `needle` in `text`, ASCII letters lowered when `lowering`.
    @_optimize(speed)
    private static func find(
        _ needle: UnsafePointer<UInt8>, _ needleCount: Int, in text: UnsafePointer<UInt8>, _ count: Int,
        lowering: Bool
    ) -> Bool {
        guard count >= needleCount else { return false }
        let first = needle[0]
        var start = 0
        while start <= count - needleCount {
            var byte = text[start]
            if lowering, byte >= 0x41, byte <= 0x5A { byte |= 0x20 }
            if byte == first {
                var index = 1
                while index < needleCount {
                    var other = text[start + index]
                    if lowering, other >= 0x41, other <= 0x5A { other |= 0x20 }
                    if other != needle[index] { break }
                    index += 1
                }
                if index == needleCount { return true }
            }
            start += 1
        }
        return false
    }

    /// Registers `liaison_contains(needle, value, …)`: 1 when any non-null value, folded, contains
    /// `needle` (which the caller folds with `fold`), else 0.
    static func register(on handle: OpaquePointer) {
        sqlite3_create_function_v2(
            handle, "liaison_contains", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil,
            { context, count, values in
                guard let values, count >= 1, let needleText = sqlite3_value_text(values[0]) else {
                    sqlite3_result_int(context, 0)
                    return
                }
                let needle = UnsafeBufferPointer(start: needleText, count: Int(sqlite3_value_bytes(values[0])))
                for index in 1..<Int(max(count, 1)) {
                    let value = values[index]
                    guard sqlite3_value_type(value) != SQLITE_NULL, let text = sqlite3_value_text(value) else {
                        continue
                    }
                    let bytes = UnsafeBufferPointer(start: text, count: Int(sqlite3_value_bytes(value)))
                    if SearchFolding.contains(bytes, folded: needle) {
                        sqlite3_result_int(context, 1)
                        return
                    }
                }
                sqlite3_result_int(context, 0)
            }, nil, nil, nil)
    }
}

/// Every scalar below U+2000 folded once (`SearchFolding.fold`), as UTF-8 bytes laid end to end.
private final class FoldTable: @unchecked Sendable {
    static let limit: UInt32 = 0x2000
    static let shared = FoldTable()
    /// Where each scalar's folded bytes start in `bytes` (one more entry than scalars); never
    /// written after `init`.
    private let starts: UnsafeMutablePointer<Int32>
    private let bytes: UnsafeMutablePointer<UInt8>

    private init() {
        var starts: [Int32] = []
        var bytes: [UInt8] = []
        for value in 0..<Self.limit {
            starts.append(Int32(bytes.count))
            if let scalar = Unicode.Scalar(value) {
                // At most 12 bytes per scalar, as `SearchFolding.contains` reserves.
                bytes.append(contentsOf: SearchFolding.fold(String(Character(scalar))).utf8.prefix(12))
            }
        }
        starts.append(Int32(bytes.count))
        self.starts = .allocate(capacity: starts.count)
        self.starts.initialize(from: starts, count: starts.count)
        self.bytes = .allocate(capacity: max(bytes.count, 1))
        self.bytes.initialize(from: bytes, count: bytes.count)
    }

    /// Copies the folded bytes of scalar `value` to `target`; returns how many.
    @_optimize(speed)
    func copy(_ value: Int, to target: UnsafeMutablePointer<UInt8>) -> Int {
        let start = Int(starts[value])
        let count = Int(starts[value + 1]) - start
        target.update(from: bytes + start, count: count)
        return count
    }
}
