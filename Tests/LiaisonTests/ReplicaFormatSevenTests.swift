import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting
import Testing

/// Format 7: the rows' earlier values move from `_liaison_prior_<table>` into the journal rows.
@Suite(.timeLimit(.minutes(2))) struct ReplicaFormatSevenTests {
    /// `Fixtures/replica-format6`: a replica made by the build before format 7 (`liaison init
    /// --sample`; topics t-kept, t-gone, t-shell-gone, t-replaced and t-fixture6 set and published;
    /// t-kept set again to "Edited in format 6", t-gone deleted, both published), then edits by the
    /// `sqlite3` shell not yet published, whose copies wait in `_liaison_prior_topic`: t-kept
    /// renamed twice, t-shell-gone deleted, t-replaced replaced by `INSERT OR REPLACE`.
    func copyFormatSixFixture(to path: String) throws {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent("replica-format6")
        try FileManager.default.copyItem(
            at: directory.appendingPathComponent("format6.db"), to: URL(fileURLWithPath: path))
        try FileManager.default.copyItem(
            at: directory.appendingPathComponent("format6.db.keys"), to: URL(fileURLWithPath: path + ".keys"))
    }

    @Test func aFormatSixFileMovesItsKeptCopiesIntoTheJournalAndPublishesTheShellsEdits() async throws {
        try await withReplicas { factory in
            let path = factory.path("NL-OLD")
            try copyFormatSixFixture(to: path)
            let old = try Replica.open(at: path)
            let (format, steps) = try old.storageFormat()
            #expect(format == 7)
            #expect(steps.last == "earlier values in the journal row")
            #expect(try old.storedSQL(of: "_liaison_prior_topic") == nil)
            // Before publishing, the changes still current read the copies moved into the journal,
            // not the rows the shell changed or removed since.
            let kept = try old.changeValuesUnpublished("topic", id: "t-kept")
            #expect(kept.count == 2 && kept.last??.contains("\"name\":\"Edited in format 6\"") == true)
            #expect(
                try old.changeValuesUnpublished("topic", id: "t-shell-gone").first??.contains(
                    "Deleted by the shell in format 6") == true)
            #expect(
                try old.changeValuesUnpublished("topic", id: "t-replaced").first??.contains(
                    "Before the shell replaced it") == true)
            // Publishing gives them their values and logs the shell's edits as one transaction.
            #expect(
                try old.history("topic", id: "t-kept").map { $0.values?["name"] } == [
                    "Published in format 6", "Edited in format 6", "Edited twice outside liaison in format 6",
                ])
            #expect(try old.history("topic", id: "t-shell-gone").map(\.op) == [.insert, .delete])
            #expect(
                try old.history("topic", id: "t-shell-gone").first?.values?["name"]
                    == "Deleted by the shell in format 6")
            #expect(
                try old.history("topic", id: "t-replaced").map { $0.values?["name"] } == [
                    "Before the shell replaced it", "Replaced by the shell in format 6",
                ])
            #expect(try old.history("topic", id: "t-gone").map(\.op) == [.insert, .delete])
            #expect(try old.changeStorage("topic", id: "t-kept").map { $0.stored != nil } == [true, true, false])
            #expect(try old.verify().problems.isEmpty)
            // Writes made now keep their copies in the journal row, by the library and by the shell.
            try old.write(author: "anne") { try $0.set("topic", id: "t-fixture6", ["name": "Renamed in format 7"]) }
            try await runSQLite(path, "UPDATE topic SET name = 'Renamed by the shell in format 7' WHERE id = 't-fixture6';")
            #expect(
                try old.changeValuesUnpublished("topic", id: "t-fixture6").map { $0?.contains("Untouched in format 6") }
                    == [true])
            // A column written again by a later unpublished transaction travels with the later one only.
            #expect(
                try old.history("topic", id: "t-fixture6").map { $0.values?["name"] } == [
                    "Untouched in format 6", "Renamed by the shell in format 7",
                ])
            let ma = try factory.make("MA-DGST")
            try await withServer(old) { url in
                let peer = try pair(ma, with: old, url: url)
                try await SyncDriver(replica: ma).sync(with: peer)
            }
            #expect(
                try ma.history("topic", id: "t-kept").map { $0.values?["name"] } == [
                    "Published in format 6", "Edited in format 6", "Edited twice outside liaison in format 6",
                ])
            #expect(try ma.row("topic", id: "t-fixture6")?["name"] == "Renamed by the shell in format 7")
            #expect(try ma.dump() == old.dump())
            #expect(try ma.verify().problems.isEmpty)
            #expect(try old.verify().problems.isEmpty)
            let again = try Replica.open(at: path)
            #expect(try again.storageFormat().steps.count == steps.count)
            #expect(try again.dump() == old.dump())
        }
    }
}
