import Foundation
import Liaison

/// Damaged JSON texts: truncations, nesting, huge numbers, stray bytes.
extension FaultFuzzer {
    // MARK: - Broken JSON

    /// A poisoned push (or a pull) whose JSON text is then damaged in a way that cannot turn a
    /// poison into a valid value.
    mutating func brokenJSON() -> FaultRequest {
        let isPush = chance(0.6)
        var text: Data
        // Damage may leave the JSON readable (a byte inside a key): the poison then decides.
        var expectation = FaultRequest.Expectation.harmless
        if isPush {
            let (push, _, poison) = poisonedPushObject()
            text = Self.json(push)
            expectation = poison
        } else {
            text = Self.json(["protocolVersion": 1, "cursor": "0", "vector": [String: Any]()])
        }
        let damage: String
        switch int(11) {
        case 0:
            text = text.prefix(int(max(1, text.count)))
            damage = "truncated JSON"
        case 1, 2:
            let bytes: [UInt8] = [0x00, 0xff, 0x7b, 0x22, 0x5c, 0x5d]
            var damaged = [UInt8](text)
            for _ in 0..<(1 + int(3)) {
                let position = int(damaged.count)
                if chance(0.5) { damaged[position] = pick(bytes) } else { damaged.insert(pick(bytes), at: position) }
            }
            text = Data(damaged)
            damage = "damaged JSON"
        case 3:
            let depth = pick([1_000, 10_000, 100_000])
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            let place = pick(["transactions", "vector", "cursor", "protocolVersion", "top"])
            text = Data(
                (place == "top"
                    ? nested
                    : "{\"protocolVersion\":1,\"cursor\":\"0\",\"vector\":{},\"transactions\":[],\"\(place)\":\(nested)}")
                    .utf8)
            damage = "\(depth) nested arrays at \(place)"
        case 4:
            let depth = pick([1_000, 10_000])
            text = Data((String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)).utf8)
            damage = "\(depth) nested objects"
        case 5:
            let literal = hugeNumberLiteral()
            let field = pick(["protocolVersion", "seq", "hlc", "total", "offset", "limit"])
            text = Data(
                "{\"protocolVersion\":\(field == "protocolVersion" ? literal : "1"),\"cursor\":\"0\",\"vector\":{},\"limit\":\(field == "limit" ? literal : "10"),\"transactions\":[{\"origin\":\"\(randomUUID())\",\"site\":\"MA-DGST\",\"seq\":\(field == "seq" ? literal : "2"),\"hlc\":\(field == "hlc" ? literal : "1"),\"author\":\"a\",\"context\":{},\"total\":\(field == "total" ? literal : "1"),\"offset\":\(field == "offset" ? literal : "0"),\"changes\":[{\"table\":\"nope\",\"id\":\"t\",\"op\":\"insert\",\"values\":{\"name\":\"x\"}}]}]}"
                    .utf8)
            damage = "a huge number in \(field)"
        case 6:
            var damaged = [UInt8](text)
            let position = int(damaged.count)
            damaged.insert(
                contentsOf: pick([[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]]),
                at: position)
            text = Data(damaged)
            damage = "invalid UTF-8"
        case 7:
            text = Data(
                pick(["", "null", "[]", "\"push\"", "123", "{}", "true", "{\"protocolVersion\":1}", " ", "\u{FEFF}{}"])
                    .utf8)
            damage = "a JSON value of the wrong shape"
        case 8:
            text = Data([0xef, 0xbb, 0xbf]) + text + Data("/* comment */".utf8)
            damage = "a byte order mark and a comment"
        case 9:
            // Every field of a pull or push of the wrong type.
            let field = pick(["protocolVersion", "transactions", "cursor", "vector", "limit"])
            var object: [String: Any] = [
                "protocolVersion": 1, "cursor": "0", "vector": [String: Any](), "transactions": [Any](),
            ]
            object[field] = wrongValue()
            if isPush { object["transactions"] = [["origin": 5, "seq": "one", "changes": "none"]] }
            text = Self.json(object)
            damage = "wrong types"
        default:
            text = Data(
                "{\"protocolVersion\":1,\"transactions\":[{\"origin\":\"\(randomUUID())\",\"site\":\"MA-DGST\",\"seq\":2,\"hlc\":1,\"author\":\"\(String(repeating: "a", count: 200_000))\",\"context\":{},\"total\":1,\"offset\":0,\"changes\":[{\"table\":\"nope\",\"id\":\"t\",\"op\":\"insert\",\"values\":{}}]}]}"
                    .utf8)
            damage = "a 200 kB string"
        }
        let path = isPush ? "/v1/push" : "/v1/pull"
        return FaultRequest(
            method: "POST", path: path, headers: [], body: text, token: token, kind: damage + " to " + path,
            expectation: expectation)
    }
}
