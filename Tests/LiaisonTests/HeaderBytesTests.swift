import Foundation
import Liaison
import LiaisonProtocol
import Testing

/// A header's signed bytes are written into one byte buffer (`TransactionDigest.header`); they must
/// be the canonical JSON text every signer and `liaison verify` agree on, built here as a string.
@Suite struct HeaderBytesTests {
    /// The canonical text of a header, written with `CanonicalJSON` as strings.
    static func canonical(
        origin: String, site: String, seq: Int64, hlc: Int64, author: String, context: String, resolves: [String]?,
        previous: String?, root: String, total: Int
    ) -> String {
        var out =
            "{\"author\":" + CanonicalJSON.string(author) + ",\"context\":" + context + ",\"hlc\":" + String(hlc)
            + ",\"origin\":" + CanonicalJSON.string(origin)
        if let previous { out += ",\"previous\":" + CanonicalJSON.string(previous) }
        if let resolves, !resolves.isEmpty {
            out += ",\"resolves\":[" + resolves.map(CanonicalJSON.string).joined(separator: ",") + "]"
        }
        out +=
            ",\"root\":" + CanonicalJSON.string(root) + ",\"seq\":" + String(seq) + ",\"site\":"
            + CanonicalJSON.string(site) + ",\"total\":" + String(total) + "}"
        return out
    }

    @Test(
        arguments: [
            ("bench", #"{"7f9c":3}"#, nil, nil, 1 as Int64, 0),
            ("Ana \"quoted\" \\ back\nslash\t\u{1}", "{}", ["c1", "c\"2"], "ab" + String(repeating: "0", count: 62),
                9_223_372_036_854_775_807, 100_000),
            ("Zoë 中文 🙂", #"{"a":1,"b":2}"#, [], "", 42, 1),
            ("", "{}", ["only"], nil, 2, 7),
        ] as [(String, String, [String]?, String?, Int64, Int)])
    func bytesEqualTheCanonicalText(
        author: String, context: String, resolves: [String]?, previous: String?, seq: Int64, total: Int
    ) {
        for hlc: Int64 in [0, 1_764_547_200_000 << 16, -5] {
            let bytes = TransactionDigest.header(
                origin: "site-id \u{7f}é", site: "NL-NCTV", seq: seq, hlc: hlc, author: author, context: context,
                resolves: resolves, previous: previous, root: String(repeating: "f", count: 64), total: total)
            let text = Self.canonical(
                origin: "site-id \u{7f}é", site: "NL-NCTV", seq: seq, hlc: hlc, author: author, context: context,
                resolves: resolves, previous: previous, root: String(repeating: "f", count: 64), total: total)
            #expect(bytes == Data(text.utf8))
        }
    }
}
