import Foundation
import Liaison

/// Hostile pulls and poisoned pushes: every push is unacceptable by construction.
extension FaultFuzzer {
    // MARK: - Pull

    mutating func hostilePull() -> FaultRequest {
        var request: [String: Any] = ["protocolVersion": 1, "cursor": "0", "vector": [String: Any]()]
        switch int(6) {
        case 0:
            request["cursor"] = pick(
                [
                    "abc", "1:2", "-1:0:0", "0:0:2147483648", "9223372036854775806:0:0", "9223372036854775807:0:0",
                    "9223372036854775807:9223372036854775807:2147483647", "1:9223372036854775807:0",
                    "0:0:1", "١:٠:٠", " 1:0:0", "1:0:0 ", "0x10:0:0", "+1:0:0",
                    String(repeating: "9", count: 100) + ":0:0",
                    String(repeating: "1:", count: 5_000), "1:0:0\u{0}", "::", "", "0",
                    "organisation; DROP TABLE topic", NSNull(), 5, ["a"], ["order": 1],
                ] as [Any])
        case 1:
            request["vector"] = pick(
                [
                    ["x": -1], ["x": Int64.max], ["x": 1.5], ["x": "1"], [Any](), "abc", NSNull(),
                    [serverSiteID: Int64.max], [serverSiteID: Int64.min], ["'; DROP TABLE _liaison_tx; --": 1],
                ] as [Any])
        case 2:
            var vector: [String: Any] = [:]
            for index in 0..<(pick([100, 5_000])) { vector["site-\(index)-\(randomUUID())"] = index }
            request["vector"] = vector
        case 3:
            request["limit"] = pick([0, -1, Int64.max, Int64.min, 1.5, "10", NSNull(), 1e30, [1]] as [Any])
        case 4:
            request["protocolVersion"] = pick([0, 2, -1, "1", NSNull(), 1.5, Int64.max] as [Any])
        default:
            request["extra"] = wrongValue()
            request["cursor"] = pick(["0", "0:0:0", "1:0:0"])
            request[pick(["Cursor", "vector ", "\u{0}", "__proto__", "constructor"])] = wrongValue()
        }
        let body = Self.json(request)
        return FaultRequest(
            method: "POST", path: "/v1/pull", headers: [], body: body, token: token, kind: "hostile pull",
            expectation: .harmless)
    }

    // MARK: - Push

    /// A transaction from a new site that the server would apply if nothing were wrong with it.
    mutating func validTransaction() -> [String: Any] {
        let number = counter * 1_000 + int(1_000)
        return [
            "origin": randomUUID(), "site": "MA-DGST", "seq": 1, "hlc": Self.nowHLC, "author": "fuzz",
            "context": [String: Any](),
            "total": 1, "offset": 0,
            "changes": [
                [
                    "table": "topic", "id": "topic-fuzz-\(number)", "op": "insert",
                    "values": [
                        "name": "Fuzz \(number)", "scope": "public", "owner": "MA-DGST", "description": NSNull(),
                    ],
                ] as [String: Any]
            ],
        ]
    }

    /// Makes `transaction` unacceptable and says how.
    mutating func poison(_ transaction: inout [String: Any]) -> (String, FaultRequest.Expectation) {
        var change = (transaction["changes"] as! [[String: Any]])[0]
        var values = change["values"] as! [String: Any]
        let result: (String, FaultRequest.Expectation)
        switch int(14) {
        case 0:
            change["table"] = pick([
                "organisation; DROP TABLE topic", "topic; --", "\"topic\"", "topic\"--", "sqlite_master",
                "_liaison_meta",
                "_liaison_tx", "topic WHERE 1=1", "", "TOPIC", "topic ", String(repeating: "t", count: 5_000),
                "top\u{0}ic",
                "../topic", "organisation'); DROP TABLE topic;--", "main.topic", "temp.topic", "topic/*",
            ])
            result = ("SQL in a table name", .refused)
        case 1:
            values[
                pick([
                    "name\"--", "name = 'x'; --", "rowid", "_rowid_", "oid", "", "nmae", "id", "NAME", "name\u{0}",
                    "\"name\"",
                    String(repeating: "c", count: 3_000), "scope; DROP TABLE topic", "name\" = 'x' WHERE 1=1; --",
                ])
            ] = "Injected"
            result = ("SQL in a column name", .refused)
        case 2:
            switch int(4) {
            case 0: values["name"] = pick([42, NSNull(), 1.5, Int64.max] as [Any])
            case 1:
                values["scope"] = pick([
                    "Not A Scope", "'; DROP TABLE topic; --", "", String(repeating: "s", count: 500),
                ])
            case 2: values["owner"] = pick(["nl-nctv", "", String(repeating: "X", count: 40), "NL NCTV"])
            default: values["name"] = pick([true, [1], ["a": 1]] as [Any])
            }
            result = ("a value of the wrong type", .refused)
        case 3:
            transaction["seq"] = pick([0, -1, Int64.min, 2, Int64.max, 1_000_000] as [Int64])
            result = ("a sequence number out of order", .refused)
        case 4:
            transaction["hlc"] = pick([Int64.max, Self.nowHLC + (86_400_000 << 16), Self.nowHLC + (3_600_000 << 16)])
            result = ("a timestamp far ahead", .refused)
        case 5:
            transaction["total"] = pick([0, -1, Int.min])
            result = ("a total smaller than its changes", .refused)
        case 6:
            transaction["offset"] = pick([-1, 5, Int.min, Int.max - 10, Int.max])
            result = ("an offset past its total", .refused)
        case 7:
            change["id"] = pick(["", "with space", "\u{7f}", String(repeating: "i", count: 129), "a\nb", "tab\there"])
            result = ("an invalid row id", .refused)
        case 8:
            if chance(0.5) {
                transaction["origin"] = ""
            } else {
                transaction["site"] = pick([
                    "ma-dgst", "'; DROP TABLE topic; --", "", "M", String(repeating: "A", count: 40),
                ])
            }
            result = ("an invalid origin", .refused)
        case 9:
            transaction["context"] = [randomUUID(): pick([3, 1, Int64.max] as [Int64])]
            result = ("an unmet causal context", .refused)
        case 10:
            change["op"] = "update"
            transaction["changes"] = [change.filter { $0.key != "values" }]
            return ("an update without values", .refused)
        case 11:
            transaction["origin"] = serverSiteID
            transaction["site"] = "NL-NCTV"
            if chance(0.5) {
                transaction["seq"] = 1
                result = ("the server's own transaction again", .harmless)
            } else {
                transaction["seq"] = pick([1_000, 50] as [Int64])
                result = ("a transaction claiming the server's own site", .refused)
            }
        case 12:
            transaction["total"] = pick([2, 1_000])
            result = ("the first piece of a larger transaction (staged)", .harmless)
        default:
            change["table"] = pick(["nope", "organisation; DROP TABLE topic"])
            transaction["extra"] = wrongValue()
            change["unknownField"] = wrongValue()
            result = ("unknown fields and an unknown table", .refused)
        }
        change["values"] = values
        transaction["changes"] = [change]
        return result
    }

    mutating func poisonedPushObject() -> ([String: Any], String, FaultRequest.Expectation) {
        if chance(0.08) { return impossiblySizedBatch() }
        var transaction = validTransaction()
        let (kind, expectation) = poison(&transaction)
        var transactions: [[String: Any]] = [transaction]
        var label = kind
        if expectation == .refused && chance(0.2) {
            // A valid transaction first: the batch must be refused whole.
            transactions.insert(validTransaction(), at: 0)
            label = "a valid transaction, then " + kind
            return (["protocolVersion": 1, "transactions": transactions], label, .refused)
        }
        if chance(0.05) {
            transactions = Array(repeating: transaction, count: 2_000)
            label = "2,000 copies of " + kind
        }
        var push: [String: Any] = ["protocolVersion": 1, "transactions": transactions]
        if chance(0.1) { push["protocolVersion"] = pick([0, 2, -1, "1", NSNull(), 1.5] as [Any]) }
        if chance(0.1) { push["unknown"] = wrongValue() }
        return (push, label, expectation)
    }

    /// Five transactions of a site whose key the push itself brings, so the server checks their
    /// signatures ahead on every core; one claims a size far beyond the changes it carries.
    mutating func impossiblySizedBatch() -> ([String: Any], String, FaultRequest.Expectation) {
        let origin = randomUUID()
        var batch: [[String: Any]] = (1...5).map { seq in
            var transaction = validTransaction()
            transaction["origin"] = origin
            transaction["seq"] = seq
            transaction["signature"] = randomData(64).base64EncodedString()
            return transaction
        }
        let size = pick([Int.max / 2, Int.max, 1 << 40, 1 << 31])
        let victim = int(batch.count)
        batch[victim]["total"] = size
        batch[victim]["span"] = size
        let keys = [origin: ["key": randomData(32).base64EncodedString(), "site": "MA-DGST"]]
        return (
            ["protocolVersion": 1, "transactions": batch, "keys": keys],
            "a batch with its key, one transaction claiming \(size) changes", .refused
        )
    }

    mutating func poisonedPush() -> FaultRequest {
        let (push, kind, expectation) = poisonedPushObject()
        return FaultRequest(
            method: "POST", path: "/v1/push", headers: [], body: Self.json(push), token: token,
            kind: "push with " + kind,
            expectation: expectation)
    }
}
