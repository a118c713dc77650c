import ArgumentParser
import Foundation
import PollBenchCore
import PollBenchCurl
import PollBenchHTTPServer
import PollBenchLive
import PollBenchRules
import PollBenchSandbox

/// `pollbench sandbox`: the simulated verification service, standalone.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run the simulated verification sandbox (on 127.0.0.1 unless --host) until interrupted.",
        discussion: """
        Sessions created with a webhookUrl (on loopback) get signed webhooks; a client without a webhookSecret \
        in the config signs with POLLBENCH_WEBHOOK_SECRET when it is set, else sends them unsigned.
        """
    )

    @Option(help: "Port (0: any free port).")
    var port = 8080

    @Option(help: "The address to listen on: 127.0.0.1, or 0.0.0.0 (every interface) to serve from a container or for other machines.")
    var host = "127.0.0.1"

    @Option(help: "A JSON sandbox configuration (clients, rate limits, providers, faults).")
    var config: String?

    @Option(help: "Model seconds per wall second (overrides the file).")
    var timeScale: Double?

    @Option(help: "A user model (users.yaml, as 'pollbench calibrate' writes): how each provider's users behave, replacing the configuration's.")
    var users: String?

    @Option(help: "Seed for every simulated user and fault (overrides the file).")
    var seed: UInt64?

    @Option(help: "Where a generated credential pair is written (mode 0600).")
    var credentialsFile = "results/sandbox-credentials"

    @Option(help: "The API generation to serve: api-v1 (/api/v1, pending) or connect-v1 (/connect/v1, awaiting_user_action and authenticating, RFC 7807 problems).")
    var api: String?

    @Flag(help: "Serve HTTPS, offering HTTP/2 and HTTP/1.1 by ALPN; without --tls-cert, a self-signed certificate for localhost, 127.0.0.1 and ::1 is made and written beside the credentials file.")
    var tls = false

    @Option(help: "A PEM certificate (chain) to serve HTTPS with, instead of a self-signed one (needs --tls-key).")
    var tlsCert: String?

    @Option(help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(help: "Run the service's clock this far ahead of this machine's (negative: behind), e.g. 7.5s or, with '=', --clock-skew=-2s; every timestamp it writes carries it.")
    var clockSkew: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        if let timeScale, let problem = ModelClock.scaleProblem(timeScale) { throw ValidationError("--time-scale: \(problem)") }
        if let api, APIGeneration(rawValue: api) == nil { throw ValidationError("--api must be api-v1 or connect-v1") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if let clockSkew, skewMillis(clockSkew) == nil { throw ValidationError("--clock-skew: expected a duration within a day, such as 7.5s or --clock-skew=-2s, not '\(clockSkew)'") }
    }

    /// The HTTPS identity, if any, and for a self-signed one the path its certificate is written to
    /// (beside the credentials file, for clients to trust) once the port is bound.
    private func tlsIdentity() throws -> (identity: TLSIdentity?, selfSignedPath: String?) {
        if let tlsCert, let tlsKey { return (try TLSIdentity.load(certificatePath: tlsCert, keyPath: tlsKey), nil) }
        guard tls else { return (nil, nil) }
        do {
            return (try TLSIdentity.selfSigned(), URL(fileURLWithPath: credentialsFile).deletingLastPathComponent().appendingPathComponent("sandbox-cert.pem").path)
        } catch {
            throw CommandFailure(message: "cannot make a TLS certificate: \(error)", exitCode: 3)
        }
    }

    /// Writes what clients need to reach the bound sandbox (a generated credential, a self-signed
    /// certificate) and returns the lines that say where. Only after the bind: a sandbox that cannot
    /// start must not replace the files another sandbox's clients are using.
    private func writeClientFiles(credential: SandboxCredentials.Generated?, identity: TLSIdentity?, certificatePath: String?) throws -> [String] {
        var lines: [String] = []
        if let credential {
            try CredentialsFile.write(id: credential.id, secret: credential.secret, to: credentialsFile)
            lines.append("its secret is in \(credentialsFile) (use it with: pollbench run --target URL --credentials \(credentialsFile))")
        }
        if let identity, let certificatePath {
            do { try identity.writeCertificate(to: certificatePath) } catch { throw CommandFailure(message: "cannot write the TLS certificate to \(certificatePath): \(error)", exitCode: 3) }
            lines.append("HTTPS (HTTP/2 and HTTP/1.1) with a self-signed certificate in \(certificatePath) (use it with: pollbench run --ca-bundle \(certificatePath))")
        } else if let tlsCert {
            lines.append("HTTPS with the certificate in \(tlsCert)")
        }
        return lines
    }

    /// `7.5s` → 7500, `-2s` → -2000; nil when it is not a duration within a day.
    private func skewMillis(_ text: String) -> Int64? {
        let negative = text.hasPrefix("-")
        guard let millis = DurationText.milliseconds(negative ? String(text.dropFirst()) : text), millis <= 86_400_000 else { return nil }
        return negative ? -millis : millis
    }

    func run() async throws {
        do {
            var configuration = try config.map(SandboxConfigurationFile.load) ?? SandboxConfiguration()
            if let timeScale { configuration.timeScale = timeScale }
            if let seed { configuration.seed = seed }
            if let users { try FlagValues.applyUsers(users, to: &configuration) }
            if let generation = api.flatMap(APIGeneration.init(rawValue:)) { configuration.api = generation }
            let (credentialNote, generated) = SandboxCredentials.ensureClient(in: &configuration)
            if let secret = ProcessInfo.processInfo.environment[WebhookSettings.secretVariable], !secret.isEmpty {
                for index in configuration.clients.indices where configuration.clients[index].webhookSecret == nil { configuration.clients[index].webhookSecret = secret }
            }
            let webhooks = try CurlTransport(configuration: CurlTransportConfiguration(workers: 1, connectionsPerWorker: 64))
            defer { webhooks.shutdown() }
            let skew = clockSkew.flatMap(skewMillis) ?? 0
            let (identity, certificatePath) = try tlsIdentity()
            let server = try await SandboxServer.start(configuration: configuration, host: host, port: port, clockSkewMillis: skew, tls: identity, webhookTransport: webhooks)
            let fileNotes: [String]
            do {
                fileNotes = try writeClientFiles(credential: generated, identity: identity, certificatePath: certificatePath)
            } catch {
                await server.stop()
                throw error
            }
            Console.out("pollbench sandbox listening on \(server.baseURL)" + (host == "127.0.0.1" ? "" : " (bound to \(host))"))
            Console.out(credentialNote)
            for note in fileNotes { Console.out(note) }
            Console.out("time scale \(configuration.timeScale)x, seed \(configuration.seed); ground truth at \(server.rootURL)/admin/stats")
            if skew != 0 { Console.out("the service's clock runs \(skew > 0 ? "ahead of" : "behind") this machine's by \(DurationText.format(abs(skew)))") }
            await SignalHandlers.firstSignal()
            await server.stop()
        } catch let error as CommandFailure {
            Console.error(error.message)
            throw ExitCode(error.exitCode)
        } catch let error as SandboxServerError {
            Console.error(error.message)
            throw ExitCode(3)
        } catch let error as TLSIdentityError {
            Console.error(error.message)
            throw ExitCode(2)
        } catch let error as CurlTransportError {
            Console.error("cannot start the libcurl transport for webhooks: \(error)")
            throw ExitCode(3)
        }
    }
}

/// Reads `--config` files.
enum SandboxConfigurationFile {
    static func load(_ path: String) throws -> SandboxConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure(message: "\(path): cannot read the file") }
        do {
            return try JSONDecoder().decode(SandboxConfiguration.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw CommandFailure(message: "\(path): not valid JSON (\(context.underlyingError.map { "\($0)" } ?? context.debugDescription))")
        } catch let DecodingError.keyNotFound(key, context) {
            throw CommandFailure(message: "\(path): missing '\(key.stringValue)' at \(Self.where(context))")
        } catch let DecodingError.typeMismatch(type, context) {
            throw CommandFailure(message: "\(path): expected \(type) at \(Self.where(context))")
        } catch let DecodingError.valueNotFound(type, context) {
            throw CommandFailure(message: "\(path): missing \(type) value at \(Self.where(context))")
        } catch {
            throw CommandFailure(message: "\(path): \(error)")
        }
    }

    private static func `where`(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? "the top level" : path
    }
}

/// Where the sandbox's client credentials come from: the config file, then the environment
/// (`POLLBENCH_CLIENT_ID` / `POLLBENCH_CLIENT_SECRET`, as a client run reads them), then a generated pair.
enum SandboxCredentials {
    /// A credential made for this sandbox, to be written to the credentials file once it has bound its port.
    struct Generated {
        let id: String
        let secret: String
    }

    /// Adds a client when the configuration has none; returns a line saying which client to use
    /// (never the secret itself) and the pair it generated, if it did.
    static func ensureClient(in configuration: inout SandboxConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment) -> (note: String, generated: Generated?) {
        if let first = configuration.clients.first {
            return ("clients from the config file: \(configuration.clients.map(\.id).joined(separator: ", ")) (use \(first.id))", nil)
        }
        if let id = environment[CredentialsFile.idVariable], let secret = environment[CredentialsFile.secretVariable], !id.isEmpty, !secret.isEmpty {
            configuration.clients = [.init(id: id, secret: secret)]
            return ("client id \(id) from \(CredentialsFile.idVariable), secret from \(CredentialsFile.secretVariable)", nil)
        }
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let id = String((0..<8).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
        let secret = (0..<4).map { _ in String(format8: random.next()) }.joined()
        configuration.clients = [.init(id: id, secret: secret)]
        return ("generated client id \(id)", Generated(id: id, secret: secret))
    }
}
