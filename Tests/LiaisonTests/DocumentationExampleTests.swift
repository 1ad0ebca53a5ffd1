import Foundation
import Liaison
import LiaisonProtocol
import Testing

/// Every worked example of docs/PROTOCOL.md, recomputed with the code: request and answer
/// signatures, change digests, roots, headers, introductions and the signatures of every whole
/// transaction in its pull and push examples. The document cannot drift from the wire again.
@Suite struct DocumentationExampleTests {
    static let document: String = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/PROTOCOL.md")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    /// The `name = value` lines of the block fenced as ```` ```text example=NAME ````.
    static func example(_ name: String) throws -> [String: String] {
        let opening = "```text example=\(name)\n"
        let start = try #require(document.range(of: opening), "no example \(name) in PROTOCOL.md")
        let end = try #require(document.range(of: "\n```", range: start.upperBound..<document.endIndex))
        var fields: [String: String] = [:]
        for line in document[start.upperBound..<end.lowerBound].split(separator: "\n") {
            guard let separator = line.range(of: " = ") else { continue }
            let key = line[..<separator.lowerBound].trimmingCharacters(in: .whitespaces)
            fields[key] = String(line[separator.upperBound...])
        }
        return fields
    }

    /// The bodies of the document's ```` ```json ```` blocks.
    static var jsonBlocks: [String] {
        document.components(separatedBy: "```json\n").dropFirst().compactMap {
            $0.components(separatedBy: "\n```").first
        }
    }

    @Test func theRequestSignatureExampleIsWhatTheCodeSigns() throws {
        let e = try Self.example("request-signature")
        let text = try #require(e["body"])
        let body = Data(text.utf8)
        let token = try #require(e["token"])
        #expect(RequestSignature.keyID(forToken: token) == e["key"])
        #expect(TransactionDigest.sha256(body) == e["body hash"])
        let header = try #require(e["header"])
        let parsed = try #require(RequestSignature(header: header))
        #expect(parsed.keyID == e["key"] && String(parsed.timestamp) == e["ts"] && parsed.nonce == e["nonce"])
        #expect(parsed.from == e["from"] && parsed.to == e["to"] && parsed.signature == e["sig"])
        #expect(parsed.isValid(token: e["token"]!, method: e["method"]!, path: e["path"]!, body: body))
        #expect(parsed.headerValue == e["header"])
    }

    @Test func theAnswerSignatureExampleIsWhatTheServerSends() throws {
        let e = try Self.example("answer-signature")
        let text = try #require(e["body"])
        let body = Data(text.utf8)
        #expect(TransactionDigest.sha256(body) == e["body hash"])
        #expect(
            AnswerSignature.sign(token: e["token"]!, status: Int(e["status"]!)!, nonce: e["nonce"]!, body: body)
                == e["signature"])
    }

    @Test func theSignedTransactionExampleIsWhatTheCodeComputes() throws {
        let e = try Self.example("signed-transaction")
        let values = try #require(e["values"])
        // A first creation names what it replaced: nothing (`{"#":""}`), as Liaison signs it today.
        let bases = try #require(e["bases"])
        #expect(bases == "{\"#\":\"\"}")
        #expect("{\"bases\":" + bases + ",\"values\":" + values + "}" == e["body bytes"])
        let body = TransactionDigest.body(values: values, levels: nil, bases: bases)
        #expect(TransactionDigest.sha256(Data(e["body bytes"]!.utf8)) == body && body == e["body"])
        let digest = TransactionDigest.change(
            table: e["table"]!, id: e["id"]!, op: e["op"]!, scope: e["scope"]!, values: values, levels: nil,
            bases: bases)
        #expect(TransactionDigest.sha256(Data(e["outline"]!.utf8)) == digest && digest == e["change digest"])
        #expect(TransactionDigest.root([digest]) == e["root"])
        let header = TransactionDigest.header(
            origin: e["origin"]!, site: e["site"]!, seq: Int64(e["seq"]!)!, hlc: Int64(e["hlc"]!)!,
            author: e["author"]!, context: e["context"]!, resolves: nil, previous: nil, root: e["root"]!,
            total: Int(e["total"]!)!)
        #expect(String(decoding: header, as: UTF8.self) == e["header"])
        #expect(TransactionDigest.sha256(header) == e["digest"])
        #expect(TransactionDigest.verify(signature: e["signature"]!, of: header, publicKey: e["public key"]!))
        // The example key is MA's in every example of the document.
        let record = try #require(Self.transactions().first { $0.record.site == "MA-DGST" && $0.record.seq == 1 })
        #expect(record.record.signature == e["signature"])
    }

    @Test func theSignedRunExampleIsWhatTheCodeChecks() throws {
        let e = try Self.example("signed-run")
        let mallory = try Self.example("signed-transaction")
        let origin = try #require(e["origin"])
        let site = try #require(e["site"])
        func header2(author: String) -> Data {
            TransactionDigest.header(
                origin: origin, site: site, seq: 2, hlc: 117_700_424_813_641_729, author: author,
                context: mallory["context"]!, resolves: nil, previous: e["previous"], root: e["root 2"]!, total: 1)
        }
        // MA#1's digest is the link of MA#2.
        #expect(e["previous"] == mallory["digest"])
        let header = header2(author: "karim")
        #expect(String(decoding: header, as: UTF8.self) == e["header 2"])
        #expect(TransactionDigest.sha256(header) == e["digest 2"])
        let proof = try WireJSON.decode([ChainHeader].self, from: Data(e["proof"]!.utf8))
        let head = try #require(TransactionDigest.runHead(of: proof, after: header, seq: 2, origin: origin, site: site))
        #expect(String(decoding: head.bytes, as: UTF8.self) == e["header 3"])
        #expect(TransactionDigest.sha256(head.bytes) == e["digest 3"])
        #expect(head.signature == e["signature 3"])
        #expect(TransactionDigest.verify(signature: head.signature, of: head.bytes, publicKey: mallory["public key"]!))
        // MA#2 altered: the head the proof leads to is no longer what MA signed.
        let altered = try #require(
            TransactionDigest.runHead(of: proof, after: header2(author: "mallory"), seq: 2, origin: origin, site: site))
        #expect(
            !TransactionDigest.verify(
                signature: altered.signature, of: altered.bytes, publicKey: mallory["public key"]!))
        // The proof of another seq does not fit.
        #expect(TransactionDigest.runHead(of: proof, after: header, seq: 1, origin: origin, site: site) == nil)
    }

    @Test func theIntroductionExampleIsWhatTheCodeSigns() throws {
        let e = try Self.example("introduction")
        let bytes = Introduction.bytes(
            introducer: e["introducer"]!, siteID: e["site id"]!, site: e["site"]!, key: e["key"]!)
        #expect(String(decoding: bytes, as: UTF8.self) == e["bytes"])
        #expect(TransactionDigest.verify(signature: e["introduction"]!, of: bytes, publicKey: e["introducer key"]!))
    }

    @Test func theRevocationAndVouchedRotationExamplesAreWhatTheCodeSigns() throws {
        let r = try Self.example("revocation")
        let revocation = KeyRevocation(
            key: r["key"]!, since: Int64(r["since"]!)!, by: r["by"]!, signer: r["signer"]!, signature: r["signature"]!)
        let bytes = KeyEventExamples.revocationBytes(revocation, siteID: r["site id"]!)
        #expect(String(decoding: bytes, as: UTF8.self) == r["bytes"])
        #expect(TransactionDigest.verify(signature: r["signature"]!, of: bytes, publicKey: r["signer"]!))
        let v = try Self.example("vouched-rotation")
        let rotation = KeyRotation(
            fromSeq: Int64(v["from seq"]!)!, key: v["key"]!, previous: v["previous"]!, signature: v["signature"]!,
            introducer: v["introducer"]!)
        let vouched = KeyEventExamples.vouchedRotationBytes(rotation, siteID: v["site id"]!)
        #expect(String(decoding: vouched, as: UTF8.self) == v["bytes"])
        #expect(TransactionDigest.verify(signature: v["signature"]!, of: vouched, publicKey: v["introducer key"]!))
    }

    /// Every whole transaction of the pull and push examples, with the key its body lists.
    static func transactions() throws -> [(record: TransactionRecord, key: String?)] {
        var found: [(TransactionRecord, String?)] = []
        for block in jsonBlocks {
            let data = Data(block.utf8)
            let (records, keys): ([TransactionRecord], [String: SiteKeyRecord]?)
            if let page = try? WireJSON.decode(PullResponse.self, from: data) {
                (records, keys) = (page.transactions, page.keys)
            } else if let push = try? WireJSON.decode(PushRequest.self, from: data) {
                (records, keys) = (push.transactions, push.keys)
            } else {
                continue
            }
            // Links a body leaves out are restored as a receiver does (docs/PROTOCOL.md).
            var digests: [String: String] = [:]
            for var record in records where record.isComplete {
                if record.previous == nil, let before = digests["\(record.origin)#\(record.seq - 1)"] {
                    record.previous = before
                }
                if let bytes = try? TransactionDigest.signedBytes(of: record, schema: .cooperation) {
                    digests["\(record.origin)#\(record.seq)"] = TransactionDigest.sha256(bytes)
                }
                found.append((record, keys?[record.origin]?.key))
            }
        }
        return found
    }

    @Test func everyWholeTransactionInTheExamplesVerifiesWithTheCode() throws {
        let all = try Self.transactions()
        #expect(all.count >= 5, "found \(all.count) whole transactions in the examples")
        var digests: [String: String] = [:]
        for (record, key) in all {
            let name = "\(record.site)#\(record.seq)"
            let bytes = try TransactionDigest.signedBytes(of: record, schema: .cooperation)
            let key = try #require(key, "\(name) has no key in its example")
            #expect(
                TransactionDigest.verify(signature: record.signature ?? "", of: bytes, publicKey: key),
                "\(name) does not verify as documented")
            digests["\(record.origin)#\(record.seq)"] = TransactionDigest.sha256(bytes)
        }
        for (record, _) in all {
            if let before = digests["\(record.origin)#\(record.seq - 1)"] {
                #expect(
                    record.previous == before, "\(record.site)#\(record.seq) does not chain to the example before it")
            }
        }
    }
}
