import ArgumentParser
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
    @Option(help: "Its site id, from its 'liaison identity' (required with --key).") var siteId: String?
    @Flag(help: "Trust the keys this agency introduces (its key must be trusted).") var introducer = false
    @Flag(help: "Stop trusting the keys this agency introduces.") var noIntroducer = false
    @Flag(help: "Close this agency's alarms after looking at them (its held transactions apply again).")
    var clearAlarms = false
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let site, SiteCode(site) == nil { throw ValidationError("invalid site code '\(site)': \(SiteCode.rule)") }
        if (key == nil) != (siteId == nil) {
            throw ValidationError("--key and --site-id go together: both from the agency's 'liaison identity'")
        }
        if site == nil, key != nil || introducer || noIntroducer || clearAlarms {
            throw ValidationError("name the agency: liaison trust DB SITE …")
        }
        if introducer && noIntroducer { throw ValidationError("--introducer and --no-introducer exclude each other") }
        if site != nil, key == nil, !introducer, !noIntroducer, !clearAlarms {
            throw ValidationError("say what to do: --key K --site-id ID, --introducer, --no-introducer or --clear-alarms")
        }
    }

    func run() async throws {
        try await CLI.run(json: json) {
            let replica = try CLI.open(replica.database)
            guard let site, let code = SiteCode(site) else { return try list(replica) }
            if let key, let siteId {
                try replica.trust(site: code, siteID: siteId, key: key)
                print("trusted \(code) (\(siteId)) with key \(try replica.trustedSites().first { $0.siteID == siteId }?.fingerprint ?? "?")")
            }
            if introducer || noIntroducer {
                try replica.setIntroducer(site: code, introducer)
                print(introducer ? "\(code) is an introducer: keys it vouches for are trusted" : "\(code) introduces no keys")
            }
            if clearAlarms { print("cleared \(try replica.clearAlarms(site: code)) alarms about \(code)") }
        }
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
            print("trusted   \(site.site)  \(site.siteID)  \(site.fingerprint)\(site.isIntroducer ? "  introducer" : "")")
        }
        for key in untrusted {
            print("untrusted \(key.site)  \(key.siteID)  \(key.fingerprint ?? "no key presented")  via \(key.via)")
        }
        for alarm in alarms { print("ALARM     \(alarm.kind.rawValue) \(alarm.site): \(alarm.message)") }
    }
}
