import Foundation

/// Decoding of the JSON stored in the change log (values, contexts), through `WireJSON`'s fast
/// reader (which leaves anything unusual to `JSONDecoder`).
enum ChangeCodec {
    static func decodeValues(_ text: String?) throws -> [String: CellValue]? {
        guard let text else { return nil }
        return try WireJSON.decode([String: CellValue].self, from: text)
    }

    static func decodeValue(_ text: String) -> CellValue? {
        try? WireJSON.decode(CellValue.self, from: text)
    }

    static func decodeContext(_ text: String) throws -> VersionVector {
        VersionVector(try WireJSON.decode([String: Int64].self, from: text))
    }

    static func encodeContext(_ vector: VersionVector) -> String {
        "{"
            + vector.entries.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            .map { CanonicalJSON.string($0.key) + ":" + String($0.value) }.joined(separator: ",") + "}"
    }

    static func encodeLevels(_ levels: [String: Int64]?) -> CellValue {
        guard let levels, !levels.isEmpty else { return .null }
        return .text(CanonicalJSON.object(levels.mapValues { .integer($0) }))
    }

    static func decodeLevels(_ text: String?) throws -> [String: Int64]? {
        guard let text else { return nil }
        return try WireJSON.decode([String: Int64].self, from: text)
    }
}
