import Foundation

/// The CPUs this process may run on: its affinity, as `taskset` or a container's cpuset sets it, which
/// can be fewer than the machine's cores (what `ProcessInfo.activeProcessorCount` counts).
public enum AllowedCPUs {
    /// How many CPUs the process may run on, from `Cpus_allowed_list` in `/proc/self/status` (the
    /// machine's active cores where that cannot be read).
    public static func count() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
              let count = count(list: line.dropFirst("Cpus_allowed_list:".count))
        else { return ProcessInfo.processInfo.activeProcessorCount }
        return count
    }

    /// The CPUs in a list such as `0-3,8,10-11`; nil when it is not one.
    public static func count(list: Substring) -> Int? {
        var count = 0
        for range in list.split(separator: ",") {
            let bounds = range.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            switch bounds.count {
            case 1: guard bounds[0] != nil else { return nil }; count += 1
            case 2:
                guard let low = bounds[0], let high = bounds[1], low <= high else { return nil }
                count += high - low + 1
            default: return nil
            }
        }
        return count > 0 ? count : nil
    }
}
