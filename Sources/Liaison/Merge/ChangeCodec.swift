import Foundation

/// Decoding of the JSON stored in the change log (values, contexts).
enum ChangeCodec {
    static func decodeValues(_ text: String?) throws -> [String: CellValue]? {
        guard let text else { return nil }
        return try JSONDecoder().decode([String: CellValue].self, from: Data(text.utf8))
    }

    static func decodeValue(_ text: String) -> CellValue? {
        try? JSONDecoder().decode(CellValue.self, from: Data(text.utf8))
    }

    static func decodeContext(_ text: String) throws -> VersionVector {
        VersionVector(try JSONDecoder().decode([String: Int64].self, from: Data(text.utf8)))
    }

    static func encodeContext(_ vector: VersionVector) -> String {
        "{" + vector.entries.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            .map { CanonicalJSON.string($0.key) + ":" + String($0.value) }.joined(separator: ",") + "}"
    }

    static func encodeLevels(_ levels: [String: Int64]?) -> CellValue {
        guard let levels, !levels.isEmpty else { return .null }
        return .text(CanonicalJSON.object(levels.mapValues { .integer($0) }))
    }

    static func decodeLevels(_ text: String?) throws -> [String: Int64]? {
        guard let text else { return nil }
        return try JSONDecoder().decode([String: Int64].self, from: Data(text.utf8))
    }
}
