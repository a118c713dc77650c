import Foundation
import Testing
@testable import PollBenchCore
import PollBenchRules

@Suite("Spools: what a long run keeps on disk instead of in memory")
struct SpoolFileTests {
    /// Records of lengths 0 to 1,000 bytes, their bytes drawn from the seed.
    static func records(_ count: Int, seed: UInt64) -> [[UInt8]] {
        var random = SplitMix64(seed: seed, key: "spool")
        return (0..<count).map { _ in (0..<Int(random.next() % 1_001)).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
    }

    @Test("records come back whole, in order and with their tags, across the spool's writes and reads of the file and its tail in memory")
    func roundTrip() throws {
        let records = Self.records(5_000, seed: 1)  // about 2.5 MB: forty writes to the file, three chunks read back
        let spool = SpoolFile()
        for (index, record) in records.enumerated() { spool.append(record, tag: UInt8(index % 7)) }
        #expect(spool.isOnDisk && spool.count == 5_000)
        var read: [(UInt8, [UInt8])] = []
        spool.forEach { read.append(($0, Array($1))) }
        #expect(read.map(\.1) == records && read.map(\.0) == records.indices.map { UInt8($0 % 7) })
        read = []
        spool.forEach { read.append(($0, Array($1))) }  // read again: reading consumes nothing
        #expect(read.map(\.1) == records)
    }

    @Test("logs that share a spool each read back their own values; a merge reads every worker's")
    func sharedSpool() throws {
        let shared = SpoolFile()
        var first = SpoolLog<EncodedInterval>(spoolingTo: shared, tag: 1), second = SpoolLog<EncodedInterval>(spoolingTo: shared, tag: 2)
        for interval in 0..<300 {
            let value = EncodedInterval(interval: interval, encoded: Array(repeating: UInt8(interval % 251), count: interval), max: UInt64(interval) << 40)
            if interval % 3 == 0 { second.append(value) } else { first.append(value) }
        }
        #expect(first.count == 200 && second.count == 100)
        #expect(first.all.map(\.interval) == (0..<300).filter { $0 % 3 != 0 } && second.all.allSatisfy { $0.encoded.count == $0.interval && $0.max == UInt64($0.interval) << 40 })
        var merged = SpoolLog<EncodedInterval>()
        merged.append(EncodedInterval(interval: -1, encoded: [], max: 0))
        merged.merge(first)
        merged.merge(second)
        #expect(merged.count == 301 && Set(merged.all.map(\.interval)) == Set(-1..<300))
    }

    @Test("with no file to write, every record stays in memory and still comes back")
    func noFile() throws {
        let records = Self.records(800, seed: 2)
        let spool = SpoolFile(directory: "/nonexistent-pollbench-directory")
        records.forEach { spool.append($0) }
        #expect(!spool.isOnDisk)
        var read: [[UInt8]] = []
        spool.forEach { read.append(Array($1)) }
        #expect(read == records)
    }

    @Test("the file is gone from its directory as soon as it is open")
    func leavesNothing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pollbench-spool-test-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let spool = SpoolFile(directory: directory.path)
        spool.append([1, 2, 3])
        #expect(spool.isOnDisk)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("a session's spool record reads back as the session, every optional field present or not; a cut record reads as none")
    func sessionRecord() throws {
        let full = SessionResult(
            key: "s7-12", providerID: "bankidse", verificationID: "vér-1234567890abcdef", outcome: .clientTimeout, polls: 41, createSentMicros: -5,
            terminalSeenMicros: 9_000_000, serviceTerminalMillis: 1_795_000_009_000, serviceCreatedMillis: 1_795_000_000_001, createReceivedMicros: 1_000,
            lastOpenMicros: 8_000_000, requests: 44, redirect: true
        )
        let bare = SessionResult(
            key: "", providerID: "mitid", verificationID: nil, outcome: .interrupted, polls: 0, createSentMicros: 0, terminalSeenMicros: nil,
            serviceTerminalMillis: nil, serviceCreatedMillis: nil, createReceivedMicros: nil
        )
        for session in [full, bare] {
            let record = session.spooled
            #expect(SessionResult(spooled: record[...]) == session)
            #expect(SessionResult(spooled: record.dropLast()) == nil)
            #expect(SessionResult(spooled: (record + [0])[...]) == nil)
        }
    }
}
