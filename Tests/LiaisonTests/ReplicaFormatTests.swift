import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting
import Testing

/// Replica files written by the previous release open, are migrated in order, and sync.
@Suite(.timeLimit(.minutes(2))) struct ReplicaFormatTests {
    /// `Fixtures/replica-format1`: a replica made by the release before migrations (format 1,
    /// sample data and one topic), with its key file.
    func copyFormatOneFixture(to path: String) throws {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent("replica-format1")
        try FileManager.default.copyItem(at: directory.appendingPathComponent("format1.db"), to: URL(fileURLWithPath: path))
        try FileManager.default.copyItem(
            at: directory.appendingPathComponent("format1.db.keys"), to: URL(fileURLWithPath: path + ".keys"))
    }

    @Test func aFormatOneFileOpensMigratedAndSyncsOverHTTP() async throws {
        try await withReplicas { factory in
            let path = factory.path("NL-OLD")
            try copyFormatOneFixture(to: path)
            let old = try Replica.open(at: path)
            #expect(try old.row("topic", id: "t-fixture")?["name"] == "Fixture topic")
            #expect(try old.verify().problems.isEmpty)
            // Its log and signatures survive the upgrade, and it still takes edits and schema changes.
            try old.write(author: "anne") { try $0.set("topic", id: "t-after", ["name": "Written after the upgrade"]) }
            try old.addColumn(ColumnDefinition("meeting_date", .date), to: "agenda_item", author: "anne")
            let ma = try factory.make("MA-DGST")
            try await withServer(old) { url in
                let peer = try pair(ma, with: old, url: url)
                try ma.grantSchemaChanges(to: peer.name)
                try await SyncDriver(replica: ma).sync(with: peer)
            }
            #expect(try ma.row("topic", id: "t-fixture")?["name"] == "Fixture topic")
            #expect(try ma.row("topic", id: "t-after") != nil)
            #expect(ma.schema.tables.first { $0.name == "agenda_item" }?.columns.last?.name == "meeting_date")
            #expect(try ma.dump() == old.dump())
            #expect(try ma.verify().problems.isEmpty)
            // Opened again, nothing is migrated twice.
            let again = try Replica.open(at: path)
            #expect(try again.dump() == old.dump())
        }
    }

    @Test func aFileOfANewerFormatIsRefusedWithWhatToDo() async throws {
        try await withReplicas { factory in
            let replica = try factory.make("NL-NCTV")
            let path = replica.path
            try replica.setMetaForTesting(key: "format", value: "99")
            let error = #expect(throws: LiaisonError.self) { try Replica.open(at: path) }
            #expect(error?.code == .schemaMismatch)
            #expect(error?.message.contains("newer liaison") == true && error?.message.contains("Upgrade") == true)
        }
    }
}
