import ArgumentParser
import Foundation
import PollBenchCore
import PollBenchRules

/// `pollbench kubernetes`: the manifests that run a suite as N shards on a cluster and merge them.
struct KubernetesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubernetes",
        abstract: "Print the Kubernetes manifests of a sharded run: an Indexed Job of N shards and a Job that merges them and exits with the verdict.",
        discussion: """
        The pods read POLLBENCH_CLIENT_ID, POLLBENCH_CLIENT_SECRET (and POLLBENCH_WEBHOOK_SECRET) from a Secret, \
        never inline, and write to a shared ReadWriteMany volume. Apply with: pollbench kubernetes … | kubectl apply -f -
        """
    )

    @Option(help: "A suite: a name from 'pollbench suites' or a path inside the image.")
    var suite: String

    @Option(help: "How many shards (pods) run the suite.")
    var shards: Int

    @Option(help: "The container image with pollbench (see Containerfile).")
    var image: String

    @Option(help: "The namespace of the Jobs.")
    var namespace = "default"

    @Option(help: "The PersistentVolumeClaim (ReadWriteMany) the pods write their results to.")
    var resultsClaim = "pollbench-results"

    @Option(help: "The Secret holding client-id, client-secret and, optionally, webhook-secret.")
    var credentialsSecret = "pollbench-credentials"

    @Option(help: "Names the run's Jobs and its folder in the volume (default: the suite's name and the time).")
    var runID: String?

    func validate() throws {
        guard (1...1_000).contains(shards) else { throw ValidationError("--shards must be 1...1000") }
        guard !image.isEmpty, !image.contains(where: \.isWhitespace) else { throw ValidationError("--image must be an image reference, e.g. registry.example.com/pollbench:1.0") }
        for (flag, value) in [("--namespace", namespace), ("--results-claim", resultsClaim), ("--credentials-secret", credentialsSecret)] where KubernetesManifests.name(value) != value {
            throw ValidationError("\(flag) '\(value)' is not a Kubernetes name (lowercase letters, digits and dashes)")
        }
    }

    func run() throws {
        do {
            let loaded = try SuiteFiles.load(suite)
            let stamp = ISO8601Millis.format(WallClock.nowMillis()).prefix(19).filter(\.isNumber)
            let id = KubernetesManifests.name(runID ?? "pollbench-\(loaded.name)-\(stamp)")
            guard !id.isEmpty, id.count <= 50 else { throw CommandFailure(message: "--run-id must give a Kubernetes name of 1 to 50 characters") }
            var manifests = KubernetesManifests(suite: suite, shards: shards, image: image, runID: id, maxDurationSeconds: Int(loaded.maxDurationMillis / 1_000))
            manifests.namespace = namespace
            manifests.resultsClaim = resultsClaim
            manifests.credentialsSecret = credentialsSecret
            Console.out(String(manifests.yaml.dropLast()))  // out() ends the last line
        } catch let failure as CommandFailure {
            Console.error(failure.message)
            throw ExitCode(failure.exitCode)
        }
    }
}
