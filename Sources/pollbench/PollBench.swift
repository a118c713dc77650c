import ArgumentParser
import Foundation

@main
struct PollBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pollbench",
        abstract: "Load-test and compare polling strategies against identity-verification APIs.",
        subcommands: [RunCommand.self, SimulateCommand.self, TuneCommand.self, PlanCommand.self, CalibrateCommand.self, SuitesCommand.self, CompareCommand.self, BaselineCommand.self, ReportCommand.self, MergeCommand.self, KubernetesCommand.self, SandboxCommand.self],
        defaultSubcommand: RunCommand.self
    )

    /// Parses and runs, turning every usage error into one `error:` line and exit code 2
    /// (ArgumentParser's own exit would print usage blocks and exit 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                Console.out(fullMessage(for: error))  // --help and --version
            } else if error is ExitCode {
                // The command already said what went wrong.
            } else {
                Console.error(message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)")
            }
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
