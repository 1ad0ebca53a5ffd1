import Foundation
import LiaisonProtocol

/// Seeded random wire values for `FastJSONTests`: awkward strings, numbers at the edges, optional
/// properties present or not.
struct WireSamples {
    private var random: SplitMix

    init(seed: UInt64) { random = SplitMix(state: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ choices: [T]) -> T { choices[int(0...choices.count - 1)] }
    mutating func maybe<T>(_ make: (inout WireSamples) -> T) -> T? { chance(50) ? make(&self) : nil }

    /// Text mixing ASCII, JSON's special characters, every control character, and multi-byte UTF-8.
    mutating func text(maxLength: Int = 24) -> String {
        let pieces: [String] = [
            "a", "Z", "0", " ", "-", "_", ":", "\"", "\\", "/", "\u{7F}", "é", "e\u{301}", "Türkiye", "中文", "😀",
            "👩‍👩‍👧", "\u{2028}", "\u{FEFF}", "\u{10FFFF}", "\u{212A}", "{", "}", "[", "]", ",", "null", "1e5",
        ]
        var text = ""
        for _ in 0..<int(0...maxLength) {
            if chance(15) {
                text.unicodeScalars.append(Unicode.Scalar(UInt8(int(0...0x1F))))
            } else {
                text += pick(pieces)
            }
        }
        return text
    }

    /// A key: mostly plain identifiers (sorting must match), sometimes awkward text.
    mutating func key() -> String {
        chance(80)
            ? pick(["id", "name", "a", "a_b", "aB", "Ab", "B", "a10", "a9", "parent_id", "é", "Å", "ﬁ", ""])
            : text(maxLength: 6)
    }

    mutating func integer() -> Int64 {
        switch int(0...5) {
        case 0: return pick([0, 1, -1, Int64.max, Int64.min, 9_007_199_254_740_993, -9_007_199_254_740_992])
        case 1: return Int64(int(-1000...1000))
        default: return Int64(bitPattern: random.next()) >> UInt64(int(0...63))
        }
    }

    mutating func real() -> Double {
        switch int(0...6) {
        case 0:
            return pick([
                0.5, -0.0, 1e-7, 1e15, 1e16, 1e21, 1e22, .leastNonzeroMagnitude, 2.2250738585072014e-308,
                .greatestFiniteMagnitude, 0.1, 2.5, 100,
            ])
        case 1: return Double(int(-100_000...100_000)) / 64
        case 2: return Double(integer())
        default:
            var value: Double
            repeat { value = Double(bitPattern: random.next()) } while !value.isFinite
            return value
        }
    }

    mutating func cell() -> CellValue {
        switch int(0...5) {
        case 0: return .null
        case 1: return .integer(integer())
        case 2: return .real(real())
        default: return .text(text())
        }
    }

    mutating func values() -> [String: CellValue] {
        var values: [String: CellValue] = [:]
        for _ in 0..<int(0...6) { values[key()] = cell() }
        return values
    }

    mutating func levels() -> [String: Int64] {
        var levels: [String: Int64] = [:]
        for _ in 0..<int(0...3) { levels[key()] = integer() }
        return levels
    }

    mutating func vector() -> VersionVector {
        var vector = VersionVector()
        for _ in 0..<int(0...4) {
            vector[chance(70) ? UUID(uuid: uuidBytes()).uuidString.lowercased() : text()] = integer()
        }
        return vector
    }

    private mutating func uuidBytes() -> uuid_t {
        let a = random.next()
        let b = random.next()
        return withUnsafeBytes(of: (a, b)) { $0.load(as: uuid_t.self) }
    }

    mutating func change() -> ChangeRecord {
        let op = pick([ChangeRecord.Operation.insert, .update, .delete])
        return ChangeRecord(
            table: text(maxLength: 8), id: text(), op: op, values: chance(85) ? values() : nil,
            levels: maybe { $0.levels() }, scope: maybe { $0.text() }, index: maybe { $0.int(-5...100_000) })
    }

    mutating func transaction() -> TransactionRecord {
        var record = TransactionRecord(
            origin: text(), site: text(maxLength: 6), seq: integer(), hlc: HybridTimestamp(rawValue: integer()),
            author: text(), context: vector(), resolves: maybe { s in (0..<s.int(0...2)).map { _ in s.text() } },
            total: int(0...1_000), offset: int(0...1_000), changes: (0..<int(0...4)).map { _ in change() },
            previous: maybe { $0.text() }, digests: maybe { s in (0..<s.int(0...3)).map { _ in s.text() } },
            signature: maybe { $0.text() })
        record.span = maybe { $0.int(0...1_000) }
        record.evictions = maybe { s in
            (0..<s.int(0...2)).map { _ in
                ChangeOutline(
                    index: s.int(0...9), table: s.text(maxLength: 8), id: s.text(), op: .update,
                    scope: s.text(maxLength: 8), body: s.text(maxLength: 8))
            }
        }
        return record
    }

    mutating func keys() -> [String: SiteKeyRecord] {
        var keys: [String: SiteKeyRecord] = [:]
        for _ in 0..<int(0...2) { keys[text()] = SiteKeyRecord(site: text(), key: text()) }
        return keys
    }

    mutating func pullRequest() -> PullRequest {
        PullRequest(
            protocolVersion: int(0...3), cursor: maybe { $0.text() }, vector: vector(),
            limit: maybe { $0.int(-1...5_000) },
            wanted: maybe { s in
                (0..<s.int(0...2)).map { _ in
                    WantedTransaction(
                        origin: s.text(), seq: s.integer(),
                        missing: s.maybe { t in (0..<t.int(0...3)).map { _ in t.int(0...9_999) } })
                }
            },
            form: maybe { s in
                let text = s.text()
                return s.pick(["packed", text])
            })
    }

    mutating func pullResponse() -> PullResponse {
        PullResponse(
            protocolVersion: int(0...3), transactions: (0..<int(0...3)).map { _ in transaction() }, cursor: text(),
            hasMore: chance(50), keys: maybe { $0.keys() })
    }

    mutating func pushRequest() -> PushRequest {
        PushRequest(
            protocolVersion: int(0...3), transactions: (0..<int(0...3)).map { _ in transaction() },
            keys: maybe { $0.keys() })
    }

    mutating func pushResponse() -> PushResponse {
        PushResponse(
            protocolVersion: int(0...3), applied: int(0...9), skipped: int(0...9), staged: int(0...9), vector: vector())
    }

    /// Rewrites a JSON document into an equivalent one: keys shuffled, whitespace added, characters
    /// escaped as `\uXXXX` (surrogate pairs included), numbers in other notations, unknown keys added.
    mutating func reformat(_ json: [UInt8]) -> [UInt8] {
        var reader = JSONTree.Reader(bytes: json)
        var out = ""
        write(reader.value(), to: &out)
        return Array(out.utf8)
    }

    private mutating func space(_ out: inout String) {
        if chance(30) { out += pick([" ", "\n", "\t", "\r\n  "]) }
    }

    /// Objects under these keys are dictionaries, where an unknown key would be a new entry.
    private static let dictionaryKeys: Set = ["values", "levels", "context", "vector", "keys"]

    private mutating func write(_ tree: JSONTree, under parent: String? = nil, to out: inout String) {
        space(&out)
        switch tree {
        case .literal(let text): out += text
        case .number(let text): out += renumber(text)
        case .string(let text): writeString(text, to: &out)
        case .array(let elements):
            out += "["
            for (position, element) in elements.enumerated() {
                if position > 0 { out += "," }
                write(element, under: parent, to: &out)
            }
            space(&out)
            out += "]"
        case .object(var members):
            if chance(30), !Self.dictionaryKeys.contains(parent ?? "") {
                members.insert(("x-unknown-\(int(0...9))", unknownValue(depth: 3)), at: int(0...members.count))
            }
            members.shuffle(using: &random)
            out += "{"
            for (position, member) in members.enumerated() {
                if position > 0 { out += "," }
                space(&out)
                writeString(member.0, to: &out)
                space(&out)
                out += ":"
                write(member.1, under: member.0, to: &out)
            }
            space(&out)
            out += "}"
        }
        space(&out)
    }

    private mutating func unknownValue(depth: Int) -> JSONTree {
        switch depth == 0 ? int(0...3) : int(0...5) {
        case 0: return .literal(pick(["null", "true", "false"]))
        case 1: return .number(pick(["0", "-12.5e-3", "1E400", "123456789012345678901234567890"]))
        case 2: return .string(text())
        case 3: return .string("")
        case 4: return .array((0..<int(0...3)).map { _ in unknownValue(depth: depth - 1) })
        default: return .object((0..<int(0...3)).map { _ in (text(maxLength: 4), unknownValue(depth: depth - 1)) })
        }
    }

    private mutating func writeString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            let escapeAnyway = chance(10)
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/" where escapeAnyway: out += "\\/"
            case _ where scalar.value < 0x20 || escapeAnyway:
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16, uppercase: chance(50))
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// The same number in another notation, when it is a plain integer.
    private mutating func renumber(_ text: String) -> String {
        guard chance(30), !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else { return text }
        switch int(0...3) {
        case 0: return text + ".0"
        case 1: return text + "e0"
        case 2 where !text.hasPrefix("0") && !text.hasPrefix("-0"): return text + "0E-1"
        default: return text + ".000e+00"
        }
    }
}

/// A JSON document as a tree, numbers kept as written; reads only well-formed input.
indirect enum JSONTree {
    case literal(String)
    case number(String)
    case string(String)
    case array([JSONTree])
    case object([(String, JSONTree)])

    struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func value() -> JSONTree {
            skipSpace()
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [(String, JSONTree)] = []
                while true {
                    skipSpace()
                    if bytes[index] == UInt8(ascii: "}") { break }
                    if bytes[index] == UInt8(ascii: ",") { index += 1 }
                    guard case .string(let key) = value() else { fatalError("expected a key") }
                    skipSpace()
                    index += 1
                    members.append((key, value()))
                }
                index += 1
                return .object(members)
            case UInt8(ascii: "["):
                index += 1
                var elements: [JSONTree] = []
                while true {
                    skipSpace()
                    if bytes[index] == UInt8(ascii: "]") { break }
                    if bytes[index] == UInt8(ascii: ",") { index += 1 }
                    elements.append(value())
                }
                index += 1
                return .array(elements)
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while bytes[index] != UInt8(ascii: "\"") { index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1 }
                index += 1
                let quoted = Data(bytes[start..<index])
                return .string(try! JSONDecoder().decode(String.self, from: quoted))
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                let length = bytes[index] == UInt8(ascii: "f") ? 5 : 4
                defer { index += length }
                return .literal(String(decoding: bytes[index..<index + length], as: UTF8.self))
            default:
                let start = index
                while index < bytes.count, "+-.0123456789eE".utf8.contains(bytes[index]) { index += 1 }
                return .number(String(decoding: bytes[start..<index], as: UTF8.self))
            }
        }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }
    }
}

/// SplitMix64, local to these tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
