/// A failure the user can fix, reported as one line with an exit code (2 unless said: bad usage).
struct CommandFailure: Error {
    let message: String
    var exitCode: Int32 = 2
}
