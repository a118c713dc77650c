import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

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
    /// for 30 days (so that a client whose clock runs slightly behind still accepts it).
    public static func selfSigned(now: Date = Date()) throws -> TLSIdentity {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("pollbench sandbox") }
        let names: [GeneralName] = loopbackNames.map { host in
            if let address = IPAddressBytes(host) { return .ipAddress(ASN1OctetString(contentBytes: address[...])) }
            return .dnsName(host)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3_600), notValidAfter: now.addingTimeInterval(30 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                KeyUsage(digitalSignature: true, keyCertSign: true)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(key)
        )
        return TLSIdentity(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
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

    /// A server configuration that offers HTTP/2 and HTTP/1.1 by ALPN (Hummingbird sets the protocols).
    func serverConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
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

/// An IP address literal as the bytes a certificate's subject alternative name holds.
private func IPAddressBytes(_ text: String) -> [UInt8]? {
    var v4 = in_addr(), v6 = in6_addr()
    if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
    if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
    return nil
}
