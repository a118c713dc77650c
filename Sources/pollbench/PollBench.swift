import ArgumentParser

@main
struct PollBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pollbench",
        abstract: "Load-test and compare polling strategies against identity-verification APIs.",
        subcommands: [RunCommand.self, SandboxCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
