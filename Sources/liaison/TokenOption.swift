import ArgumentParser
import Foundation
import Liaison

#if canImport(Glibc)
    import Glibc
#endif

/// Where a command takes the token shared with a peer: `--token-file FILE` (its first line),
/// `$LIAISON_TOKEN`, a prompt on the terminal, or `--token` (visible to every user in `ps`: kept
/// for scripts that used it, not recommended).
struct TokenOption: ParsableArguments {
    @Option(help: "A file whose first line is the token shared with the peer (keep it 0600).")
    var tokenFile: String?
    @Option(
        help: ArgumentHelp(
            "The token itself. Visible to other users in 'ps': prefer --token-file, $LIAISON_TOKEN or the prompt.",
            visibility: .default))
    var token: String?

    func validate() throws {
        if token != nil && tokenFile != nil { throw ValidationError("give the token once: --token-file or --token") }
    }

    /// The token, from the first source that has one (a `LiaisonError` `.invalidInput`, exit 64, when none has).
    func resolved() throws -> String {
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw LiaisonError(
                    .invalidInput, "cannot read the token file '\(tokenFile)'; check its path and permissions")
            }
            let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            guard !line.isEmpty else {
                throw LiaisonError(
                    .invalidInput, "the token file '\(tokenFile)' is empty; put the token on its first line")
            }
            return line.trimmingCharacters(in: .whitespaces)
        }
        if let token { return token }
        if let fromEnvironment = ProcessInfo.processInfo.environment["LIAISON_TOKEN"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        if isatty(STDIN_FILENO) == 1, let typed = getpass("Token shared with the peer: ") {
            let text = String(cString: typed)
            if !text.isEmpty { return text }
        }
        throw LiaisonError(
            .invalidInput,
            "no token: give it with --token-file FILE, the LIAISON_TOKEN environment variable, or type it at the prompt"
        )
    }
}
