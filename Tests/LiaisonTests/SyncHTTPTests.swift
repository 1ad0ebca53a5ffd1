import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting
import Testing

@Suite(.timeLimit(.minutes(2))) struct SyncHTTPTests {
    @Test func threeReplicasConvergeOverTwoHops() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let tr = try factory.make("TR-TNP")
            try await withServer(nl) { nlURL in
                try await withServer(ma) { maURL in
                    let maToNL = try pair(ma, with: nl, url: nlURL)
                    let trToMA = try pair(tr, with: ma, url: maURL)
                    try await SyncDriver(replica: ma).sync(with: maToNL)
                    try await SyncDriver(replica: tr).sync(with: trToMA)
                    try nl.write(author: "anne") { try $0.set("topic", id: "topic-nl", ["name": "Prison radicalisation"]) }
                    try tr.write(author: "mehmet") { try $0.set("topic", id: "topic-tr", ["name": "Border security"]) }
                    try ma.write(author: "karim") { try $0.set("topic", id: "topic-ma", ["name": "Returnees"]) }
                    try await SyncDriver(replica: ma).sync(with: maToNL)
                    try await SyncDriver(replica: tr).sync(with: trToMA)
                    try await SyncDriver(replica: ma).sync(with: maToNL)
                    #expect(try nl.dump() == ma.dump())
                    #expect(try ma.dump() == tr.dump())
                    #expect(try tr.row("topic", id: "topic-nl")?["name"] == "Prison radicalisation")
                    #expect(try nl.row("topic", id: "topic-tr")?["name"] == "Border security")
                    // No echo: another round moves nothing.
                    let again = try await SyncDriver(replica: ma).sync(with: maToNL)
                    #expect(again.pulledChanges == 0 && again.pushedChanges == 0)
                }
            }
        }
    }
}
