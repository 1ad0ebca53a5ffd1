import ArgumentParser
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

    func run() async throws {
        try await CLI.run(json: json) {
            let opened = try CLI.open(replica.database)
            let identity = rotate ? try opened.rotateKey() : try opened.currentIdentity()
            if json {
                try CLI.printJSON(identity)
                return
            }
            print("site        \(identity.site)")
            print("site id     \(identity.siteID)")
            print("public key  \(identity.publicKey)")
            print("fingerprint \(identity.fingerprint)")
        }
    }
}
