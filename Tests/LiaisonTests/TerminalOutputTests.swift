import Foundation
import LiaisonTesting
import Testing

/// Text from other agencies reaches a terminal only with its control characters escaped.
@Suite(.timeLimit(.minutes(2))) struct TerminalOutputTests {
    /// Clear the screen, return to the line start and overwrite it, a C1 CSI, a bidi override, a forged line.
    static let hostile = "x\u{1B}[2J\rFAKE\u{9B}31m\u{202E}gnp.exe\nNL-NCTV#99 forged"

    @Test func controlCharactersOfAuthorsAndValuesAreEscapedVisibly() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess(
                "set", "nl.db", "topic", "topic-evil", "name=\(Self.hostile)", "--author", Self.hostile)
            for arguments in [
                ["get", "nl.db", "topic", "topic-evil"], ["list", "nl.db", "topic"], ["log", "nl.db", "--limit", "1"],
                ["history", "nl.db", "topic", "topic-evil"],
            ] {
                let result = try await cli.run(arguments)
                #expect(result.status == 0, "\(arguments): \(result)")
                for raw in ["\u{1B}", "\r", "\u{9B}", "\u{202E}"] {
                    #expect(!result.stdout.contains(raw), "liaison \(arguments) printed \(raw.debugDescription) raw")
                }
                #expect(
                    result.stdout.contains("\\u001b[2J\\rFAKE\\u009b31m\\u202egnp.exe\\nNL-NCTV#99 forged"),
                    "liaison \(arguments): \(result.stdout)")
                #expect(!result.stdout.split(separator: "\n").contains { $0.hasPrefix("NL-NCTV#99") })
            }
            // JSON output stays JSON and carries the value unchanged.
            let json = try await cli("get", "nl.db", "topic", "topic-evil", "--json")
            #expect(!json.stdout.contains("\u{1B}") && !json.stdout.contains("\u{9B}"))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(object["name"] as? String == Self.hostile)
        }
    }
}
