import Foundation

/// A credentials file: `POLLBENCH_CLIENT_ID=…` and `POLLBENCH_CLIENT_SECRET=…` lines, the format
/// `pollbench sandbox` writes. Like ssh with a private key, pollbench refuses one that others can read.
enum CredentialsFile {
    static let idVariable = "POLLBENCH_CLIENT_ID"
    static let secretVariable = "POLLBENCH_CLIENT_SECRET"

    /// The id and secret in `path`.
    static func load(_ path: String) throws -> (id: String, secret: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CommandFailure(message: "\(path): cannot read the credentials file") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw CommandFailure(message: "\(path): the credentials file is not a regular file") }
        let permissions = info.st_mode & 0o777
        guard permissions & 0o077 == 0 else {
            throw CommandFailure(message: "\(path): permissions \(String(permissions, radix: 8)) are too open; the secret must be readable by you alone (chmod 600 \(path))")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure(message: "\(path): cannot read the credentials file") }
        var values: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let pair = line.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            if pair.count == 2 { values[pair[0]] = pair[1] }
        }
        guard let id = values[idVariable], let secret = values[secretVariable], !id.isEmpty, !secret.isEmpty else {
            throw CommandFailure(message: "\(path): needs \(idVariable)=… and \(secretVariable)=… lines")
        }
        return (id, secret)
    }

    /// Writes a credentials file readable by its owner alone.
    static func write(id: String, secret: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw CommandFailure(message: "\(path): cannot write the credentials file") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let bytes = Array("\(idVariable)=\(id)\n\(secretVariable)=\(secret)\n".utf8)
        guard Foundation.write(fd, bytes, bytes.count) == bytes.count else { throw CommandFailure(message: "\(path): cannot write the credentials file") }
    }
}
