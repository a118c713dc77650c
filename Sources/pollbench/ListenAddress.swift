import Foundation
import PollBenchLive
import PollBenchRules

/// A listening address from a flag: HOST:PORT on loopback.
extension ListenAddress {
    /// - Parameter elsewhere: what the refusal of another host adds, e.g. how to expose the address.
    init(_ text: String, flag: String, elsewhere: String = "") throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            throw CommandFailure(message: "\(flag): expected HOST:PORT, e.g. 127.0.0.1:9090, not '\(text)'")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard LoopbackURL.isLoopback("http://\(host.contains(":") ? "[\(host)]" : host)/") else {
            throw CommandFailure(message: "\(flag): \(host) is not a loopback address; pollbench listens on loopback only\(elsewhere)")
        }
        self.init(host: host, port: port)
    }
}
