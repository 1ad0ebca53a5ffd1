import ArgumentParser
import Liaison

struct IdentityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity", abstract: "Site code, site id, public key and its fingerprint (give these to peers).")

    @OptionGroup var replica: ReplicaArgument
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let identity = try CLI.open(replica.database).identity
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
