import Foundation

/// Whether a URL points at this machine: pollbench's traffic stays on loopback.
public enum LoopbackURL {
    public static func isLoopback(_ url: String) -> Bool {
        guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme ?? ""), let host = components.host else { return false }
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
