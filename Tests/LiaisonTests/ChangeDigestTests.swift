import Foundation
import Liaison
import LiaisonProtocol
import Testing

/// Publishing computes change digests over bytes (`ChangeDigest`); they must equal the digests
/// every receiver and `liaison verify` compute from the canonical texts (`TransactionDigest`).
@Suite struct ChangeDigestTests {
    @Test(
        arguments: [
            (#"{"name":"Plain"}"#, nil, nil),
            (#"{"name":"Quote \" and \\ and \n","notes":null}"#, #"{"name":2}"#, nil),
            (nil, nil, #"{"name":"7f9c:3"}"#),
            (#"{"a":1,"b":2.5}"#, #"{"a":1}"#, #"{"a":"x:1","b":"y:2"}"#),
            (nil, nil, nil),
        ] as [(String?, String?, String?)])
    func byteDigestEqualsTheCanonicalOne(values: String?, levels: String?, bases: String?) {
        for (table, id, op, scope) in [
            ("organisation", "5e8c-uuid", "insert", "public"), ("topic", "id \"quoted\"\t", "delete", "eu"),
        ] {
            // The canonical texts, built as strings (`TransactionDigest.change` now hashes bytes too).
            let expected = TransactionDigest.change(
                table: table, id: id, op: op, scope: scope,
                body: TransactionDigest.body(values: values, levels: levels, bases: bases))
            let bytes = ChangeDigest.hex(
                table: table, id: id, op: op, scope: scope, values: values.map { Array($0.utf8) }, levels: levels,
                bases: bases)
            #expect(String(decoding: bytes, as: UTF8.self) == expected)
            // The same with buffers kept from one change to the next (bulk publishing).
            var writer = ChangeDigest.Writer(table: table)
            for _ in 0..<2 {
                var id = id
                var scope = scope
                let reused = id.withUTF8 { id in
                    scope.withUTF8 { scope in
                        writer.hex(
                            id: id, op: op, scope: scope, levels: levels, bases: bases.map { Array($0.utf8) },
                            values: values.map { values in { $0.append(contentsOf: values.utf8) } })
                    }
                }
                #expect(reused == bytes)
            }
        }
    }

    @Test func rootOfByteDigestsEqualsTheCanonicalRoot() {
        let digests = (0..<5).map {
            TransactionDigest.change(
                table: "t", id: "r\($0)", op: "insert", scope: "public",
                body: TransactionDigest.body(values: "{}", levels: nil))
        }
        #expect(ChangeDigest.root(digests.map { Array($0.utf8) }) == TransactionDigest.root(digests))
        #expect(ChangeDigest.root([]) == TransactionDigest.root([]))
    }
}
