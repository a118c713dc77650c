import NIOCore
import NIOPosix
import PollBenchRules

/// The event loops every ``LoopbackServer`` in the process shares: one per CPU the process may run on
/// (``AllowedCPUs``), as nginx runs one worker per core. NIO's singleton group counts the machine's
/// cores instead, so a server pinned to one core ran two loops on it that took turns, and its rate
/// moved by half between runs.
enum ServerEventLoops {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: AllowedCPUs.count())
}
