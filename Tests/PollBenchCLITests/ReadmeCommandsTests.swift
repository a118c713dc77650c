import ArgumentParser
import Foundation
import Testing
@testable import pollbench

extension EndToEnd {
    /// README's command blocks, as a reader would copy them: every `pollbench` line parses and passes its
    /// checks, and the quick ones (simulate, tune, plan, suites) run as written, offline.
    @Suite("README's commands")
    struct ReadmeCommandsTests {
        /// The package's README, found from this file's place in the checkout.
        static let readme: String = {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return (try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
        }()

        /// Every line of a ```sh block that runs pollbench: its arguments, with environment assignments,
        /// `swift run -c release`, pipes and comments taken off, and each `<placeholder>` or `$(…)` made a path.
        static var commands: [[String]] {
            var commands: [[String]] = []
            var inShell = false
            for raw in readme.split(separator: "\n", omittingEmptySubsequences: false) {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("```") {
                    inShell = line == "```sh"
                    continue
                }
                guard inShell else { continue }
                for part in line.replacing(/\$\([^)]*\)/, with: "results/placeholder").replacing(/<[^>]*>/, with: "placeholder").components(separatedBy: " && ") {
                    let command = (part.components(separatedBy: "  #").first ?? part).components(separatedBy: " | ").first ?? part
                    var words = Self.words(command)
                    if words.last == "&" { words.removeLast() }  // started in the background
                    while let first = words.first, first.contains("="), !first.hasPrefix("-") { words.removeFirst() }
                    if words.starts(with: ["swift", "run", "-c", "release"]) { words.removeFirst(4) }
                    guard words.first == "pollbench" else { continue }
                    commands.append(Array(words.dropFirst()))
                }
            }
            return commands
        }

        /// Shell words, quotes kept together.
        static func words(_ text: String) -> [String] {
            var words: [String] = [], current = "", quote: Character?
            for character in text {
                if let open = quote {
                    if character == open { quote = nil } else { current.append(character) }
                } else if character == "\"" || character == "'" {
                    quote = character
                } else if character == " " {
                    if !current.isEmpty { words.append(current) }
                    current = ""
                } else {
                    current.append(character)
                }
            }
            if !current.isEmpty { words.append(current) }
            return words
        }

        @Test("README shows pollbench commands, the first block's included")
        func found() {
            let commands = Self.commands
            #expect(commands.count >= 30)
            #expect(commands.contains(["run"]))
            #expect(commands.contains(["baseline", "save", "v1.4"]))
        }

        @Test("every pollbench command in README parses and passes its checks")
        func parses() {
            for arguments in Self.commands {
                #expect(throws: Never.self, "pollbench \(arguments.joined(separator: " "))") { _ = try PollBench.parseAsRoot(arguments) }
            }
        }

        @Test("README's simulate, tune, plan and suites commands run as written")
        func quickOnesRun() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            // Those that read another command's output (a live run, a calibrated users.yaml) are left out.
            let quick = Self.commands.filter {
                ["simulate", "tune", "plan", "suites"].contains($0.first) && !$0.contains("--check-against") && !$0.contains("--round-trip-from") && !$0.contains("--users")
            }
            #expect(quick.count >= 7)
            for arguments in quick {
                let command = arguments + (arguments.first == "suites" ? [] : ["--output", output.path])
                let result = try CLI.run(command, timeout: .seconds(300))
                // tune and plan exit 1 when nothing meets the target or the rate does not fit: both are answers.
                let answered = result.status == 0 || (["tune", "plan"].contains(arguments[0]) && result.status == 1)
                #expect(answered && result.stderr.isEmpty, "pollbench \(command.joined(separator: " ")): exit \(result.status): \(result.stderr)")
            }
        }
    }
}
