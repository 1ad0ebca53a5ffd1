import Foundation
import Liaison

/// Unbuffered writes, so a parent process reading a pipe sees each line at once.
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((TerminalText.lines(text) + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((TerminalText.lines(text) + "\n").utf8))
    }
}

/// Parses `30s`, `5m`, `1h30m`, `7d` or plain seconds (`DurationText`): every duration option takes these.
func parseInterval(_ text: String) -> Duration? {
    DurationText.parse(text)
}
