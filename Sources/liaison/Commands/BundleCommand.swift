import ArgumentParser

/// `liaison bundle`: signed change bundles for peers reached only by carrying a file.
struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: "Move changes to a peer as a signed file (removable disk, one-way gateway).",
        subcommands: [
            BundleCreateCommand.self, BundleVerifyCommand.self, BundleImportCommand.self, BundleKeyCommand.self,
        ])
}
