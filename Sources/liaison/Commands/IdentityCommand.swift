import ArgumentParser
import Foundation
import Liaison

struct IdentityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity", abstract: "Site code, site id, public key and its fingerprint (give these to peers).")

    @OptionGroup var replica: ReplicaArgument
    @Flag(help: "Print JSON.") var json = false
    @Flag(
        help:
            "Replace the signing key: later transactions are signed with a new key, announced to peers by a key event signed with the old one."
    ) var rotate = false
    @Option(
        help:
            "With --rotate: the old key was stolen at this time (ISO 8601); a revocation signed by the new key travels to every replica, which holds the old key's later transactions for review."
    ) var compromisedSince: String?
    @Flag(
        help:
            "The signing key is lost (or must not sign again): make a new one without a rotation signed by the old; peers trust it once an introducer vouches for it ('liaison trust DB SITE --key K --from-seq N') or their operators confirm it."
    ) var newKey = false

    func validate() throws {
        if rotate && newKey { throw ValidationError("--rotate and --new-key exclude each other") }
        if compromisedSince != nil && !rotate { throw ValidationError("--compromised-since goes with --rotate") }
        if let compromisedSince, TrustCommand.parse(compromisedSince) == nil {
            throw ValidationError("--compromised-since takes an ISO 8601 time such as 2026-11-30T12:00:00Z")
        }
    }

    func run() async throws {
        try await CLI.run(json: json) {
            let opened = try CLI.open(replica.database)
            var fromSeq: Int64?
            let identity: Identity
            if newKey {
                (identity, fromSeq) = try opened.replaceLostKey()
            } else if rotate {
                identity = try opened.rotateKey(compromisedSince: compromisedSince.flatMap(TrustCommand.parse))
            } else {
                identity = try opened.currentIdentity()
            }
            if json {
                try CLI.printJSON(identity)
                return
            }
            if let fromSeq {
                print(
                    "new key from \(identity.site)#\(fromSeq) on. Peers trust it once your introducer runs "
                        + "'liaison trust DB \(identity.site) --key \(identity.publicKey) --from-seq \(fromSeq)' "
                        + "(or each operator confirms it with 'liaison trust DB \(identity.site) --key K --site-id \(identity.siteID)')"
                )
            }
            print("site        \(identity.site)")
            print("site id     \(identity.siteID)")
            print("public key  \(identity.publicKey)")
            print("fingerprint \(identity.fingerprint)")
        }
    }
}
