import CZlib
import Foundation
import Histogram

/// HdrHistogram's interval log (format version 1.3): one line per histogram, tagged, each histogram in
/// the V2 compressed encoding (ZigZag LEB128 counts, zlib-deflated, base64), as HdrHistogram's own
/// tools (HistogramLogProcessor, hdr-plot, the Java, Go, Python and JS readers) read it.
public enum HistogramLog {
    /// One tagged histogram of the log.
    public struct Entry {
        public var tag: String
        /// Seconds from the log's start time.
        public var startSeconds: Double
        public var lengthSeconds: Double
        public var histogram: Histogram<UInt64>

        public init(tag: String, startSeconds: Double, lengthSeconds: Double, histogram: Histogram<UInt64>) {
            self.tag = tag
            self.startSeconds = startSeconds
            self.lengthSeconds = lengthSeconds
            self.histogram = histogram
        }
    }

    static let encodingCookie: Int32 = 0x1C84_9303 | 0x10
    static let compressedCookie: Int32 = 0x1C84_9304 | 0x10
    /// Interval_Max is written as the maximum divided by this (µs recorded, ms shown).
    static let maxValueUnitRatio = 1_000.0

    /// The log text, with `startEpochSeconds` as its start time.
    public static func write(_ entries: [Entry], startEpochSeconds: Double) -> String {
        var lines = [
            "#[Histogram log format version 1.3]",
            String(format: "#[StartTime: %.3f (seconds since epoch), %@]", startEpochSeconds, ISO8601Millis.format(Int64(startEpochSeconds * 1_000))),
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"",
        ]
        for entry in entries {
            let encoded = compressedEncoding(entry.histogram).base64EncodedString()
            lines.append(String(format: "Tag=%@,%.3f,%.3f,%.3f,", entry.tag, entry.startSeconds, entry.lengthSeconds, Double(entry.histogram.max) / maxValueUnitRatio) + encoded)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The entries of a log; nil when a histogram line does not decode.
    public static func read(_ text: String) -> [Entry]? {
        var entries: [Entry] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("\"") {
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var tag = ""
            if fields.first?.hasPrefix("Tag=") == true { tag = String(fields.removeFirst().dropFirst(4)) }
            guard fields.count == 4, let start = Double(fields[0]), let length = Double(fields[1]),
                  let data = Data(base64Encoded: fields[3]), let histogram = decodeCompressed([UInt8](data))
            else { return nil }
            entries.append(Entry(tag: tag, startSeconds: start, lengthSeconds: length, histogram: histogram))
        }
        return entries
    }

    // MARK: V2 encoding

    /// The histogram's counts, index by index up to its highest recorded value.
    static func counts(_ histogram: Histogram<UInt64>) -> [UInt64] {
        guard histogram.totalCount > 0 else { return [] }
        var counts: [UInt64] = []
        var seen: UInt64 = 0
        for value in histogram.allValues() {
            counts.append(value.count)
            seen += value.count
            if seen == histogram.totalCount { break }
        }
        return counts
    }

    static func encoding(_ histogram: Histogram<UInt64>) -> [UInt8] {
        var payload: [UInt8] = []
        let counts = counts(histogram)
        var index = 0
        while index < counts.count {
            let count = counts[index]
            index += 1
            var zeros = 0
            if count == 0 {
                zeros = 1
                while index < counts.count, counts[index] == 0 {
                    zeros += 1
                    index += 1
                }
            }
            ZigZag.put(zeros > 1 ? -Int64(zeros) : Int64(count), into: &payload)
        }
        var out: [UInt8] = []
        BigEndian.put(encodingCookie, into: &out)
        BigEndian.put(Int32(payload.count), into: &out)
        BigEndian.put(Int32(0), into: &out)  // normalizing index offset
        BigEndian.put(Int32(histogram.numberOfSignificantValueDigits.rawValue), into: &out)
        BigEndian.put(Int64(histogram.lowestDiscernibleValue), into: &out)
        BigEndian.put(Int64(histogram.highestTrackableValue), into: &out)
        BigEndian.put(Int64(bitPattern: Double(1).bitPattern), into: &out)  // integer-to-double conversion ratio
        return out + payload
    }

    static func compressedEncoding(_ histogram: Histogram<UInt64>) -> Data {
        let plain = encoding(histogram)
        var size = compressBound(uLong(plain.count))
        var compressed = [UInt8](repeating: 0, count: Int(size))
        let status = compressed.withUnsafeMutableBufferPointer { out in
            plain.withUnsafeBufferPointer { compress2(out.baseAddress, &size, $0.baseAddress, uLong(plain.count), Z_DEFAULT_COMPRESSION) }
        }
        guard status == Z_OK else { return Data() }
        var out: [UInt8] = []
        BigEndian.put(compressedCookie, into: &out)
        BigEndian.put(Int32(size), into: &out)
        return Data(out + compressed.prefix(Int(size)))
    }

    static func decodeCompressed(_ bytes: [UInt8]) -> Histogram<UInt64>? {
        var reader = BigEndian.Reader(bytes: bytes)
        guard let cookie = reader.int32(), cookie & ~0xF0 == 0x1C84_9304, let length = reader.int32(), length > 0, bytes.count >= 8 + Int(length) else { return nil }
        // The header holds the uncompressed size only indirectly: grow the buffer until it fits.
        var capacity = max(1_024, Int(length) * 8)
        while capacity <= 1 << 28 {
            var size = uLong(capacity)
            var plain = [UInt8](repeating: 0, count: capacity)
            let status = plain.withUnsafeMutableBufferPointer { out in
                bytes.withUnsafeBufferPointer { uncompress(out.baseAddress, &size, $0.baseAddress! + 8, uLong(length)) }
            }
            if status == Z_OK { return decode(Array(plain.prefix(Int(size)))) }
            guard status == Z_BUF_ERROR else { return nil }
            capacity *= 4
        }
        return nil
    }

    static func decode(_ bytes: [UInt8]) -> Histogram<UInt64>? {
        var reader = BigEndian.Reader(bytes: bytes)
        guard let cookie = reader.int32(), cookie & ~0xF0 == 0x1C84_9303, let payload = reader.int32(), reader.int32() != nil,
              let digits = reader.int32(), let lowest = reader.int64(), let highest = reader.int64(), reader.int64() != nil,
              let significant = SignificantDigits(rawValue: Int8(clamping: digits)), lowest >= 1, highest >= 2 * lowest
        else { return nil }
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: UInt64(lowest), highestTrackableValue: UInt64(highest), numberOfSignificantValueDigits: significant)
        var counts: [UInt64] = []
        let end = reader.offset + Int(payload)
        while reader.offset < end {
            guard let word = ZigZag.get(&reader) else { return nil }
            if word < 0 { counts += Array(repeating: 0, count: Int(-word)) } else { counts.append(UInt64(word)) }
        }
        // Pair each index with its value by walking the same index order the encoder used.
        var index = 0
        for value in histogram.allValues() {
            guard index < counts.count else { break }
            if counts[index] > 0 { _ = histogram.record(value.value, count: counts[index]) }
            index += 1
        }
        return index == counts.count ? histogram : nil
    }
}

/// ZigZag LEB128-64b9B, HdrHistogram's word encoding: 7 bits a byte for eight bytes, then 8.
enum ZigZag {
    static func put(_ value: Int64, into out: inout [UInt8]) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        for _ in 0..<8 {
            if v >> 7 == 0 {
                out.append(UInt8(v))
                return
            }
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func get(_ reader: inout BigEndian.Reader) -> Int64? {
        var v: UInt64 = 0
        for shift in stride(from: 0, to: 56, by: 7) {
            guard let byte = reader.byte() else { return nil }
            v |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1))) }
        }
        guard let last = reader.byte() else { return nil }
        v |= UInt64(last) << 56
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }
}

/// Big-endian integers, as Java's ByteBuffer writes them.
enum BigEndian {
    static func put<T: FixedWidthInteger>(_ value: T, into out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func int32() -> Int32? { integer() }
        mutating func int64() -> Int64? { integer() }

        private mutating func integer<T: FixedWidthInteger>() -> T? {
            let size = MemoryLayout<T>.size
            guard offset + size <= bytes.count else { return nil }
            defer { offset += size }
            return bytes[offset..<(offset + size)].reduce(T.zero) { ($0 << 8) | T($1) }
        }
    }
}
