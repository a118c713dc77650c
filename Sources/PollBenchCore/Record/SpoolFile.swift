import Foundation
import Synchronization

/// An append-only stream of tagged byte records that a long run keeps on disk instead of in memory, read back
/// once at its end (a live run's ended sessions). The file is unlinked as soon as it is open, so nothing
/// is left behind, not even by a crash. Where the disk refuses (no temporary directory, a full disk),
/// the records stay in memory from there on: a spool never loses one, it only stops saving memory.
public final class SpoolFile: Sendable {
    private struct State {
        /// The file, open until the spool goes (for reading back after a refused write too); -1: none.
        var descriptor: Int32
        /// Whether the disk refused a write: later records stay in memory.
        var refused = false
        /// Bytes in the file: the stream's start.
        var written: Int64 = 0
        /// The stream's end, not yet in the file.
        var pending: [UInt8] = []
        var records = 0
    }

    /// Bytes kept before they go to the file in one write.
    private static let flushBytes = 64 * 1024
    private let state: Mutex<State>

    /// A spool in `directory` (default the temporary one: `TMPDIR`, or /tmp).
    public init(directory: String = FileManager.default.temporaryDirectory.path) {
        var template = Array("\(directory)/pollbench-spool-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if descriptor >= 0 { template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
        state = Mutex(State(descriptor: descriptor))
    }

    deinit {
        state.withLock { if $0.descriptor >= 0 { close($0.descriptor) } }
    }

    /// Records appended so far.
    public var count: Int { state.withLock { $0.records } }

    /// Whether every record so far went to (or waits for) the file; false once the disk refused, or
    /// when no file could be made.
    public var isOnDisk: Bool { state.withLock { $0.descriptor >= 0 && !$0.refused } }

    /// Appends one record with its tag (which kind of record it is, for readers that share the spool).
    public func append(_ record: [UInt8], tag: UInt8 = 0) {
        state.withLock { state in
            BigEndian.put(UInt32(record.count), into: &state.pending)
            state.pending.append(tag)
            state.pending += record
            state.records += 1
            if state.descriptor >= 0, !state.refused, state.pending.count >= Self.flushBytes { Self.flush(&state) }
        }
    }

    /// Calls `body` with every record and its tag, in the order they were appended. The spool is locked
    /// meanwhile: `body` must not append to it.
    public func forEach(_ body: (UInt8, ArraySlice<UInt8>) throws -> Void) rethrows {
        try state.withLock { state in
            var carry: [UInt8] = []
            var offset: Int64 = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while offset < state.written {
                let want = Int(min(Int64(chunk.count), state.written - offset))
                let got = chunk.withUnsafeMutableBytes { pread(state.descriptor, $0.baseAddress, want, off_t(offset)) }
                if got < 0, errno == EINTR { continue }
                // The file's bytes were written by this process and are never truncated: a failed read is
                // an I/O error of the machine's, which leaves no record to trust after it.
                precondition(got > 0, "a spool file could not be read back: \(String(cString: strerror(errno)))")
                offset += Int64(got)
                carry += chunk[0..<got]
                let used = try Self.records(in: carry, body)
                carry.removeFirst(used)
            }
            let used = try Self.records(in: carry + state.pending, body)
            precondition(used == carry.count + state.pending.count, "a spool ends inside a record")
        }
    }

    /// Calls `body` with each whole record at the start of `bytes`; returns the bytes they took.
    private static func records(in bytes: [UInt8], _ body: (UInt8, ArraySlice<UInt8>) throws -> Void) rethrows -> Int {
        var reader = BigEndian.Reader(bytes: bytes)
        var position = 0
        while let length = reader.uint32(), let tag = reader.byte(), let record = reader.take(Int(length)) {
            try body(tag, record)
            position = reader.offset
        }
        return position
    }

    /// Writes the pending bytes to the file; what the disk refuses stays pending, and the spool keeps
    /// everything in memory from then on.
    private static func flush(_ state: inout State) {
        var sent = 0
        while sent < state.pending.count {
            let wrote = state.pending.withUnsafeBytes { bytes in
                pwrite(state.descriptor, bytes.baseAddress! + sent, bytes.count - sent, off_t(state.written + Int64(sent)))
            }
            if wrote < 0, errno == EINTR { continue }
            guard wrote > 0 else {
                state.refused = true
                break
            }
            sent += wrote
        }
        state.written += Int64(sent)
        state.pending.removeFirst(sent)
    }
}
