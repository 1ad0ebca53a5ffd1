import ArgumentParser
import Foundation
import Liaison

struct TrustCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Trust an agency's key, mark it as introducer, or clear its alarms; without SITE, list trust.",
        discussion: """
            A key is trusted only by you: read the other agency's 'liaison identity' out of band (in \
            person, by phone) and give its key and site id here. An agency marked --introducer vouches \
            for the keys of the agencies it relays: keys it introduces are trusted too.
            """)

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The agency's site code, e.g. NL-NCTV.") var site: String?
    @Option(help: "Its public key, from its 'liaison identity'.") var key: String?
    @Option(help: "Its site id, from its 'liaison identity' (required with --key, unless --from-seq).") var siteId:
        String?
    @Option(
        help:
            "With --key: vouch, as introducer, for the agency's new key from this sequence number on (its old key was lost or stolen; confirm the key with its operator first)."
    ) var fromSeq: Int64?
    @Flag(help: "Trust the keys this agency introduces (its key must be trusted).") var introducer = false
    @Flag(help: "Stop trusting the keys this agency introduces.") var noIntroducer = false
    @Flag(help: "Close this agency's alarms after looking at them (its held transactions apply again).")
    var clearAlarms = false
    @Flag(help: "Mark this agency's key as compromised since --since: its transactions from then on are refused.")
    var revoke = false
    @Option(help: "With --revoke: when the key was compromised (ISO 8601, e.g. 2026-11-30T12:00:00Z).") var since:
        String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let site, SiteCode(site) == nil { throw ValidationError("invalid site code '\(site)': \(SiteCode.rule)") }
        if fromSeq != nil {
            if key == nil || siteId != nil {
                throw ValidationError("--from-seq goes with --key (the agency's new key) and without --site-id")
            }
        } else if (key == nil) != (siteId == nil) {
            throw ValidationError("--key and --site-id go together: both from the agency's 'liaison identity'")
        }
        if site == nil, key != nil || introducer || noIntroducer || clearAlarms {
            throw ValidationError("name the agency: liaison trust DB SITE …")
        }
        if introducer && noIntroducer { throw ValidationError("--introducer and --no-introducer exclude each other") }
        if revoke != (since != nil) { throw ValidationError("--revoke and --since go together") }
        if let since, Self.parse(since) == nil {
            throw ValidationError("--since takes an ISO 8601 time such as 2026-11-30T12:00:00Z")
        }
        if revoke && key != nil { throw ValidationError("--revoke revokes the key trusted now; give no --key") }
        if site != nil, key == nil, !introducer, !noIntroducer, !clearAlarms, !revoke {
            throw ValidationError(
                "say what to do: --key K --site-id ID, --introducer, --no-introducer, --revoke --since T or --clear-alarms"
            )
        }
    }

    func run() async throws {
        try await CLI.run(json: json) {
            let replica = try CLI.open(replica.database)
            guard let site, let code = SiteCode(site) else { return try list(replica) }
            if let key, let fromSeq {
                try replica.vouchForKey(of: code, key: key, fromSeq: fromSeq)
                print(
                    "vouched for \(code)'s new key \(Identity.fingerprint(of: key)) from \(code)#\(fromSeq) on: replicas "
                        + "that mark this one introducer follow it")
            }
            if let key, let siteId {
                try replica.trust(site: code, siteID: siteId, key: key)
                print(
                    "trusted \(code) (\(siteId)) with key \(try replica.trustedSites().first { $0.siteID == siteId }?.fingerprint ?? "?")"
                )
            }
            if introducer || noIntroducer {
                try replica.setIntroducer(site: code, introducer)
                print(
                    introducer
                        ? "\(code) is an introducer: keys it vouches for are trusted" : "\(code) introduces no keys")
            }
            if revoke, let since, let time = Self.parse(since) {
                try replica.revokeKey(of: code, since: time)
                print(
                    "revoked \(code)'s key since \(since): its transactions from then on are held for review here, and at "
                        + "replicas that mark this one introducer")
            }
            if clearAlarms { print("cleared \(try replica.clearAlarms(site: code)) alarms about \(code)") }
        }
    }

    /// Milliseconds since 1970 of an ISO 8601 time (with or without fractional seconds).
    static func parse(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970 * 1000) }
    }

    private func list(_ replica: Replica) throws {
        let trusted = try replica.trustedSites()
        let untrusted = try replica.untrustedKeys()
        let alarms = try replica.alarms()
        if json {
            struct Listing: Encodable {
                var trusted: [TrustedSite]
                var untrusted: [UntrustedKey]
                var alarms: [Alarm]
            }
            return try CLI.printJSON(Listing(trusted: trusted, untrusted: untrusted, alarms: alarms))
        }
        for site in trusted {
            print(
                "trusted   \(site.site)  \(site.siteID)  \(site.fingerprint)\(site.isIntroducer ? "  introducer" : "")")
        }
        for key in untrusted {
            print("untrusted \(key.site)  \(key.siteID)  \(key.fingerprint ?? "no key presented")  via \(key.via)")
        }
        for alarm in alarms {
            print("ALARM     \(alarm.kind.rawValue) \(alarm.site): \(TerminalText.field(alarm.message))")
        }
    }
}
