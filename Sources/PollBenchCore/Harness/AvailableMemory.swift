import Foundation

/// What this machine can give a run before it starts: Linux's own estimate of the memory available to a
/// new process without swapping (`MemAvailable` in /proc/meminfo).
public enum AvailableMemory {
    /// Bytes available now; nil where the kernel does not say.
    public static func bytes(meminfo path: String = "/proc/meminfo") -> Int64? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return parse(text)
    }

    /// `MemAvailable` of a meminfo text, in bytes.
    static func parse(_ text: String) -> Int64? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }) else { return nil }
        let fields = line.split(separator: " ")
        guard fields.count >= 2, let kibibytes = Int64(fields[1]) else { return nil }
        return kibibytes * 1_024
    }
}
