import Foundation

/// Unbuffered writes, so a parent process reading a pipe sees each line at once.
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((TerminalText.lines(text) + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((TerminalText.lines(text) + "\n").utf8))
    }
}

/// Parses `30s`, `5m`, `2h`, `7d` or plain seconds: every duration option takes these.
func parseInterval(_ text: String) -> Duration? {
    let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
    if let unit = text.last, let factor = units[unit], let number = Int64(text.dropLast()), number > 0 {
        return .seconds(number * factor)
    }
    if let number = Int64(text), number > 0 { return .seconds(number) }
    return nil
}
