import ArgumentParser
import Liaison

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a new replica with the cooperation schema.")

    @OptionGroup var replica: ReplicaArgument

    @Option(help: "This agency's site code, e.g. NL-NCTV.")
    var site: String

    @Flag(help: "Load the facts of the seed document (NCTV, international cooperation).")
    var sample = false

    @OptionGroup var author: AuthorOption

    func validate() throws {
        guard SiteCode(site) != nil else { throw ValidationError("invalid site code '\(site)': \(SiteCode.rule)") }
    }

    func run() async throws {
        try await CLI.run {
            let created = try Replica.create(at: replica.database, site: SiteCode(site)!)
            if sample {
                try created.loadSample(author: author.author ?? "seed")
                // Publish the sample now, so that its rows' history keeps their first values even
                // when the next command edits them (publishing later would fold them together).
                _ = try created.versionVector()
            }
            print(
                "created \(replica.database) for \(site) (site id \(created.siteID))\(sample ? " with the sample data" : "")"
            )
        }
    }
}
