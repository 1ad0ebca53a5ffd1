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
        try FileManager.default.copyItem(
            at: directory.appendingPathComponent("format1.db"), to: URL(fileURLWithPath: path))
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

    /// `Fixtures/replica-format4`: a replica made by the build before format 5 (sample data, then a
    /// topic set, edited and deleted, and another set), with its key file.
    func copyFormatFourFixture(to path: String) throws {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent("replica-format4")
        try FileManager.default.copyItem(
            at: directory.appendingPathComponent("format4.db"), to: URL(fileURLWithPath: path))
        try FileManager.default.copyItem(
            at: directory.appendingPathComponent("format4.db.keys"), to: URL(fileURLWithPath: path + ".keys"))
    }

    @Test func aFormatFourLogMovesToTheRowidTableWholeAndSyncsOverHTTP() async throws {
        try await withReplicas { factory in
            let path = factory.path("NL-OLD")
            try copyFormatFourFixture(to: path)
            let old = try Replica.open(at: path)
            let (format, steps) = try old.storageFormat()
            #expect(format == 7)
            #expect(steps.contains("change log in a rowid table"))
            let table = try #require(try old.storedSQL(of: "_liaison_change"))
            #expect(!table.uppercased().contains("WITHOUT ROWID"))
            #expect(try old.storedSQL(of: "_liaison_change_row") != nil)
            #expect(try old.storedSQL(of: "_liaison_change_v5") == nil)
            // Every change moved, in order, with its signature chain intact.
            let log = try old.log()
            #expect(log.count == 5)
            #expect(log.reduce(0) { $0 + $1.changes.count } == 68)
            #expect(try old.verify().problems.isEmpty)
            #expect(try old.history("topic", id: "t-fixture").map(\.op) == [.insert, .update, .delete])
            #expect(try old.row("topic", id: "t-fixture") == nil)
            #expect(try old.row("topic", id: "t-fixture4")?["name"] == "Format four topic")
            // It takes edits after the move and a fresh replica gets all of it over HTTP.
            try old.write(author: "anne") { try $0.set("topic", id: "t-after", ["name": "Written in format 5"]) }
            let ma = try factory.make("MA-DGST")
            try await withServer(old) { url in
                let peer = try pair(ma, with: old, url: url)
                try await SyncDriver(replica: ma).sync(with: peer)
            }
            #expect(try ma.row("topic", id: "t-after")?["name"] == "Written in format 5")
            #expect(try ma.row("topic", id: "t-fixture") == nil)
            #expect(try ma.dump() == old.dump())
            #expect(try ma.verify().problems.isEmpty)
            // Opened again, nothing is migrated twice.
            let again = try Replica.open(at: path)
            #expect(try again.storageFormat().steps.count == steps.count)
            #expect(try again.dump() == old.dump())
        }
    }

    /// `Fixtures/replica-format5`: a replica made by the build before format 6 (sample data, a topic
    /// set, edited and deleted, two more set), then a row edited by the `sqlite3` shell and not
    /// yet published, with its key file.
    func copyFormatFiveFixture(to path: String) throws {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent("replica-format5")
        try FileManager.default.copyItem(
            at: directory.appendingPathComponent("format5.db"), to: URL(fileURLWithPath: path))
        try FileManager.default.copyItem(
            at: directory.appendingPathComponent("format5.db.keys"), to: URL(fileURLWithPath: path + ".keys"))
    }

    @Test func aFormatFiveFileKeepsItsValuesAndLaterChangesReadTheirsFromTheRow() async throws {
        try await withReplicas { factory in
            let path = factory.path("NL-OLD")
            try copyFormatFiveFixture(to: path)
            let old = try Replica.open(at: path)
            let (format, steps) = try old.storageFormat()
            #expect(format == 7)
            #expect(steps.suffix(2) == ["values only while current", "earlier values in the journal row"])
            // Format 7 keeps the rows' earlier values in the journal, not in a table of their own.
            #expect(try old.storedSQL(of: "_liaison_prior_topic") == nil)
            // The shell's edit made before the upgrade is published after it, and every change
            // logged before keeps its own values.
            #expect(try old.row("topic", id: "t-edited")?["name"] == "Edited outside liaison before the upgrade")
            let edited = try old.history("topic", id: "t-edited")
            #expect(
                edited.map { $0.values?["name"] } == [
                    "Before the upgrade", "Edited before the upgrade, not yet published",
                    "Edited outside liaison before the upgrade",
                ])
            #expect(try old.changeStorage("topic", id: "t-fixture5").allSatisfy { $0.stored != nil && $0.live == nil })
            #expect(try old.history("topic", id: "t-fixture").map(\.op) == [.insert, .update, .delete])
            #expect(try old.verify().problems.isEmpty)
            // Changes made now keep no values while current, and take them when overwritten.
            try old.write(author: "anne") { try $0.set("topic", id: "t-after", ["name": "Written in format 6"]) }
            try old.write(author: "anne") { try $0.set("topic", id: "t-fixture5", ["name": "Renamed in format 6"]) }
            _ = try old.log()
            #expect(try old.changeStorage("topic", id: "t-after").map(\.stored) == [nil])
            try old.write(author: "anne") { try $0.set("topic", id: "t-after", ["name": "Renamed again"]) }
            #expect(
                try old.history("topic", id: "t-after").map { $0.values?["name"] } == [
                    "Written in format 6", "Renamed again",
                ])
            let ma = try factory.make("MA-DGST")
            try await withServer(old) { url in
                let peer = try pair(ma, with: old, url: url)
                try await SyncDriver(replica: ma).sync(with: peer)
            }
            #expect(try ma.row("topic", id: "t-fixture5")?["name"] == "Renamed in format 6")
            #expect(
                try ma.history("topic", id: "t-after").map { $0.values?["name"] } == [
                    "Written in format 6", "Renamed again",
                ])
            #expect(try ma.dump() == old.dump())
            #expect(try ma.verify().problems.isEmpty)
            #expect(try old.verify().problems.isEmpty)
            let again = try Replica.open(at: path)
            #expect(try again.storageFormat().steps.count == steps.count)
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
