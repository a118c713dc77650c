/// The Kubernetes manifests of a sharded run: an Indexed Job whose pods each run one shard
/// (`pollbench run --shards N`, the index from `JOB_COMPLETION_INDEX`) into a shared volume, and a Job
/// that waits for every shard's results there, merges them and exits with the verdict.
public struct KubernetesManifests: Sendable {
    public var suite: String
    public var shards: Int
    public var image: String
    public var namespace = "default"
    /// The PersistentVolumeClaim (ReadWriteMany) that the pods share; the results land in it.
    public var resultsClaim = "pollbench-results"
    /// The Secret with `client-id`, `client-secret` and, optionally, `webhook-secret`.
    public var credentialsSecret = "pollbench-credentials"
    /// Names the run's folder in the volume (and its Jobs); lowercase letters, digits and dashes.
    public var runID: String
    /// How long a shard may run (the suite's `maxDuration`): the merge waits this and a margin.
    public var maxDurationSeconds: Int

    public init(suite: String, shards: Int, image: String, runID: String, maxDurationSeconds: Int) {
        self.suite = suite
        self.shards = shards
        self.image = image
        self.runID = runID
        self.maxDurationSeconds = maxDurationSeconds
    }

    /// A name Kubernetes accepts (DNS-1123: lowercase, digits and dashes, 63 at most).
    public static func name(_ text: String) -> String {
        let lowered = text.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber ? $0 : "-" }
        let trimmed = String(lowered).split(separator: "-", omittingEmptySubsequences: true).joined(separator: "-")
        return String(trimmed.prefix(63)).trimmingCharacters(in: ["-"])
    }

    /// Both Jobs, as one YAML stream.
    public var yaml: String {
        let folder = "/results/\(runID)"
        let wait = maxDurationSeconds + 600
        let shardCommand = ["pollbench", "run", "--suite", suite, "--shards", String(shards), "--output", "\(folder)/shard-$(JOB_COMPLETION_INDEX)", "--name", "\(runID)-shard"]
        // The merge waits for every shard's summary.json (each is written last, and atomically), bounded, then merges what is there.
        let mergeScript = """
            for i in $(seq 1 \(wait)); do n=$(ls \(folder)/shard-*/*/summary.json 2>/dev/null | wc -l); [ "$n" -ge \(shards) ] && break; sleep 1; done; \
            exec pollbench merge \(folder)/shard-*/* --output \(folder)/merged
            """
        return [job(name: "\(runID)-shards", indexed: true, command: shardCommand, deadline: maxDurationSeconds + 900),
                job(name: "\(runID)-merge", indexed: false, command: ["sh", "-c", mergeScript], deadline: wait + 900)].joined(separator: "---\n")
    }

    private func job(name: String, indexed: Bool, command: [String], deadline: Int) -> String {
        var lines = [
            "apiVersion: batch/v1",
            "kind: Job",
            "metadata:",
            "  name: \(Self.name(name))",
            "  namespace: \(namespace)",
            "  labels:",
            "    app.kubernetes.io/name: pollbench",
            "    app.kubernetes.io/instance: \(Self.name(runID))",
            "spec:",
        ]
        if indexed {
            lines += [
                "  completionMode: Indexed",
                "  completions: \(shards)",
                "  parallelism: \(shards)",
                "  backoffLimitPerIndex: 1",
                "  maxFailedIndexes: 0",
            ]
        } else {
            lines += ["  backoffLimit: 0"]
        }
        lines += [
            "  activeDeadlineSeconds: \(deadline)",
            "  ttlSecondsAfterFinished: 86400",
            "  template:",
            "    metadata:",
            "      labels:",
            "        app.kubernetes.io/name: pollbench",
            "        app.kubernetes.io/instance: \(Self.name(runID))",
            "    spec:",
            "      restartPolicy: Never",
            "      securityContext:",
            "        runAsNonRoot: true",
            "        runAsUser: 65532",
            "        fsGroup: 65532",
            "      containers:",
            "        - name: pollbench",
            "          image: \(Self.quoted(image))",
            "          command: [\(command.map(Self.quoted).joined(separator: ", "))]",
        ]
        if indexed {
            lines += ["          env:"]
            for (variable, key, optional) in [("POLLBENCH_CLIENT_ID", "client-id", false), ("POLLBENCH_CLIENT_SECRET", "client-secret", false), ("POLLBENCH_WEBHOOK_SECRET", "webhook-secret", true)] {
                lines += [
                    "            - name: \(variable)",
                    "              valueFrom:",
                    "                secretKeyRef:",
                    "                  name: \(credentialsSecret)",
                    "                  key: \(key)",
                ] + (optional ? ["                  optional: true"] : [])
            }
        }
        lines += [
            "          resources:",
            "            requests:",
            "              cpu: \(indexed ? "\"1\"" : "\"250m\"")",
            "              memory: \(indexed ? "1Gi" : "512Mi")",
            "            limits:",
            "              memory: \(indexed ? "4Gi" : "2Gi")",
            "          volumeMounts:",
            "            - name: results",
            "              mountPath: /results",
            "      volumes:",
            "        - name: results",
            "          persistentVolumeClaim:",
            "            claimName: \(resultsClaim)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML double-quoted scalar.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
