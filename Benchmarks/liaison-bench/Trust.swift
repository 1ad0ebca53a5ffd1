import Crypto
import Foundation
import Liaison

/// The cost of signing and verifying, per transaction and per change, with the operations the
/// engine performs: publishing signs one header; applying hashes each change, the root and the
/// header, and verifies one signature.
enum Trust {
    static func run(transactions: Int) -> [String: Double] {
        let key = Curve25519.Signing.PrivateKey()
        let change = Data(
            (#"{"id":"0f8fad5b-d9cb-469f-a165-70867728950e","op":"update","scope":"public","table":"organisation","#
                + #""values":{"name":"Renamed 42","updated_at":"2026-11-29T12:00:00Z"}}"#).utf8)
        let header = Data(
            (#"{"author":"bench","context":{"4a0e…":12},"hlc":117700207196897280,"origin":"5b2c…","previous":"#
                + #""8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92","root":"…","seq":42,"#
                + #""site":"BENCH-A","total":1}"#).utf8)
        var signatures: [Data] = []
        let sign = measure {
            for _ in 0..<transactions { signatures.append(try! key.signature(for: header)) }
        }
        var valid = 0
        let verify = measure {
            for signature in signatures where key.publicKey.isValidSignature(signature, for: header) { valid += 1 }
        }
        var sink = 0
        let hash = measure {
            for _ in 0..<transactions { sink &+= Int(Array(SHA256.hash(data: change))[0]) }
        }
        // The HMAC every answer carries (`AnswerSignature`): SHA-256 of the body, then HMAC-SHA256
        // of a short text; for a status answer (about 600 bytes) and for a full 2 MB pull page.
        let status = Data(repeating: UInt8(ascii: "a"), count: 600)
        let page = Data(repeating: UInt8(ascii: "a"), count: 2_000_000)
        var macs = 0
        let answerSmall = measure {
            for _ in 0..<transactions {
                macs &+=
                    AnswerSignature.sign(token: "bench-token-0123456789", status: 200, nonce: "n", body: status).count
            }
        }
        let pages = max(1, transactions / 1_000)
        let answerPage = measure {
            for _ in 0..<pages {
                macs &+=
                    AnswerSignature.sign(token: "bench-token-0123456789", status: 200, nonce: "n", body: page).count
            }
        }
        return [
            "answer_hmac_us_per_status": answerSmall / Double(transactions) * 1e6,
            "answer_hmac_us_per_2mb_page": answerPage / Double(pages) * 1e6,
            "macs": Double(macs % 2),
            "sign_us_per_tx": sign / Double(transactions) * 1e6,
            "verify_us_per_tx": verify / Double(transactions) * 1e6,
            "sha256_us_per_change": hash / Double(transactions) * 1e6,
            "valid": Double(valid == transactions ? 1 : 0), "sink": Double(sink % 2),
        ]
    }
}
