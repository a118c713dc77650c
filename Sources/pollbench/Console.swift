import Foundation

/// Unbuffered terminal output: a line reaches a pipe the moment it is written.
enum Console {
    /// One line on standard output.
    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// One `error: …` line on standard error.
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }
}
