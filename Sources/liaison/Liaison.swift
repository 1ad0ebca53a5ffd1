import ArgumentParser

@main
struct LiaisonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liaison",
        abstract: "An offline-first replica of the shared cooperation dataset, synced with peer agencies over HTTP.",
        subcommands: [
            InitCommand.self, CloneCommand.self, SetCommand.self, DeleteCommand.self, GetCommand.self, ListCommand.self,
            LogCommand.self, DumpCommand.self, ServeCommand.self, PeerCommand.self, SyncCommand.self,
            ConflictsCommand.self, ResolveCommand.self, StatusCommand.self,
        ])
}
