import CSelfSignedCertificate
import Foundation
import NIOSSL

/// A TLS server's certificate and private key, PEM-encoded: made up on the spot, self-signed for the
/// loopback names, or read from the files a user gives.
public struct TLSIdentity: Sendable {
    /// The certificate chain, leaf first, PEM.
    public let certificatePEM: String
    /// The private key, PEM. Never printed or written by pollbench.
    let privateKeyPEM: String

    /// The names a self-signed certificate is valid for: every way a client names loopback.
    public static let loopbackNames = ["localhost", "127.0.0.1", "::1"]

    /// A fresh P-256 key and a certificate for ``loopbackNames`` signed with it, valid from an hour ago
    /// for 30 days (so that a client whose clock runs slightly behind still accepts it). The system's
    /// libcrypto makes them, the OpenSSL that libcurl loads anyway.
    /// - Throws: ``TLSIdentityError`` naming the step of the making that failed.
    public static func selfSigned() throws(TLSIdentityError) -> TLSIdentity {
        let altNames = loopbackNames.map { host in (host.contains(":") || host.first?.isNumber == true ? "IP:" : "DNS:") + host }.joined(separator: ",")
        var certificate: UnsafeMutablePointer<CChar>?, key: UnsafeMutablePointer<CChar>?
        let failedStep = pollbench_self_signed_certificate("pollbench sandbox", altNames, -3_600, 30 * 86_400, &certificate, &key)
        guard failedStep == 0, let certificate, let key else {
            throw TLSIdentityError(message: "libcrypto could not make a self-signed certificate (step \(failedStep))")
        }
        defer {
            memset(key, 0, strlen(key))
            free(certificate)
            free(key)
        }
        return TLSIdentity(certificatePEM: String(cString: certificate), privateKeyPEM: String(cString: key))
    }

    /// The certificate chain and key in two PEM files.
    /// - Throws: ``TLSIdentityError`` naming the file that cannot be read or used.
    public static func load(certificatePath: String, keyPath: String) throws(TLSIdentityError) -> TLSIdentity {
        func read(_ path: String) throws(TLSIdentityError) -> String {
            guard let data = FileManager.default.contents(atPath: path) else { throw TLSIdentityError(message: "\(path): cannot read the file") }
            return String(decoding: data, as: UTF8.self)
        }
        let identity = TLSIdentity(certificatePEM: try read(certificatePath), privateKeyPEM: try read(keyPath))
        do { _ = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8)) } catch { throw TLSIdentityError(message: "\(certificatePath): not a PEM certificate") }
        do { _ = try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem) } catch { throw TLSIdentityError(message: "\(keyPath): not a PEM private key") }
        return identity
    }

    /// A server configuration that offers HTTP/2 and HTTP/1.1 by ALPN.
    func serverConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.applicationProtocols = ["h2", "http/1.1"]
        return configuration
    }

    /// Writes the certificate (not the key) to `path`, for clients to trust: `--ca-bundle PATH`.
    public func writeCertificate(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(certificatePEM.utf8).write(to: url, options: .atomic)
    }
}

/// TLS material that cannot be used.
public struct TLSIdentityError: Error, CustomStringConvertible {
    /// One line saying why.
    public let message: String
    public var description: String { message }
}
