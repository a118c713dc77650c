import CZlib
import Foundation
import Histogram
import PollBenchRules

/// HdrHistogram's interval log (format version 1.3): one line per histogram, tagged, each histogram in
/// the V2 compressed encoding (ZigZag LEB128 counts, zlib-deflated, base64), as HdrHistogram's own
/// tools (HistogramLogProcessor, hdr-plot, the Java, Go, Python and JS readers) read it. A run writes one
/// line per metric and interval, on absolute time: `StartTime` and `BaseTime` are the run's start, and
/// each line's timestamp counts seconds from it, so logs of several runs or shards line up by time.
public enum HistogramLog {
    /// One tagged histogram of the log, kept as the log holds it (compressed: a few hundred bytes), and
    /// decoded only when read, so that a long run's entries cost little memory.
    public struct Entry: Sendable {
        public var tag: String
        /// Seconds from the log's start time.
        public var startSeconds: Double
        public var lengthSeconds: Double
        /// The histogram in the V2 compressed encoding, and its largest value.
        public var encoded: [UInt8]
        public var max: UInt64

        /// The histogram, decoded (empty if its bytes do not decode, which ``read(_:)`` refuses).
        public var histogram: Histogram<UInt64> { HistogramLog.decodeCompressed(encoded) ?? Histograms.growing() }

        public init(tag: String, startSeconds: Double, lengthSeconds: Double, encoded: [UInt8], max: UInt64) {
            self.tag = tag
            self.startSeconds = startSeconds
            self.lengthSeconds = lengthSeconds
            self.encoded = encoded
            self.max = max
        }

        public init(tag: String, startSeconds: Double, lengthSeconds: Double, histogram: Histogram<UInt64>) {
            self.init(tag: tag, startSeconds: startSeconds, lengthSeconds: lengthSeconds, encoded: [UInt8](compressedEncoding(histogram)), max: histogram.max)
        }
    }

    static let encodingCookie: Int32 = 0x1C84_9303 | 0x10
    static let compressedCookie: Int32 = 0x1C84_9304 | 0x10
    /// Interval_Max is written as the maximum divided by this (µs recorded, ms shown).
    static let maxValueUnitRatio = 1_000.0

    /// The log text, with `startEpochSeconds` as its start and base time.
    public static func write(_ entries: [Entry], startEpochSeconds: Double) -> String {
        var lines = [
            "#[Histogram log format version 1.3]",
            String(format: "#[StartTime: %.3f (seconds since epoch), %@]", startEpochSeconds, ISO8601Millis.format(Int64(startEpochSeconds * 1_000))),
            String(format: "#[BaseTime: %.3f (seconds since epoch)]", startEpochSeconds),
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"",
        ]
        for entry in entries {
            let encoded = Data(entry.encoded).base64EncodedString()
            lines.append(String(format: "Tag=%@,%.3f,%.3f,%.3f,", entry.tag, entry.startSeconds, entry.lengthSeconds, Double(entry.max) / maxValueUnitRatio) + encoded)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A strategy's entries: each metric's histogram per interval, in time order.
    public static func entries(_ result: StrategyResult) -> [Entry] {
        var entries: [Entry] = []
        for metric in Metric.all {
            for (interval, encoded, max) in result.recorder.encodedIntervals(metric) {
                entries.append(Entry(tag: metric.tag, startSeconds: result.timeline.offsetSeconds + Double(interval), lengthSeconds: 1, encoded: encoded, max: max))
            }
        }
        return entries.sorted { ($0.startSeconds, Metric(tag: $0.tag)?.index ?? 0) < ($1.startSeconds, Metric(tag: $1.tag)?.index ?? 0) }
    }

    /// Each tag's histogram over the whole log (or the entries starting in `window`, seconds from its start):
    /// the intervals added, so that every percentile comes from the full distribution.
    public static func totals(_ entries: [Entry], window: Range<Double>? = nil) -> [String: Histogram<UInt64>] {
        var totals: [String: Histogram<UInt64>] = [:]
        for entry in entries where window?.contains(entry.startSeconds) ?? true {
            totals[entry.tag, default: Metric(tag: entry.tag)?.histogram() ?? Histograms.growing()].add(entry.histogram)
        }
        return totals
    }

    /// The log's start time (its `StartTime`, seconds since the epoch); nil when it names none.
    public static func startTime(_ text: String) -> Double? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("#[StartTime: ") }) else { return nil }
        return Double(line.dropFirst("#[StartTime: ".count).prefix { $0 != " " })
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
            entries.append(Entry(tag: tag, startSeconds: start, lengthSeconds: length, encoded: [UInt8](data), max: histogram.max))
        }
        return entries
    }

    // MARK: V2 encoding

    /// HdrHistogram's layout of the counts array for a histogram's resolution: which index a value counts
    /// under, and the value an index stands for (the same arithmetic as the library's own).
    struct CountsLayout {
        let unitMagnitude: Int
        let subBucketHalfCountMagnitude: Int
        let subBucketHalfCount: Int
        let subBucketMask: UInt64
        let leadingZeroCountBase: Int

        init(lowestDiscernibleValue: UInt64, digits: SignificantDigits) {
            let largestWithUnitResolution = 2 * Double.pow(10, Int(digits.rawValue))
            unitMagnitude = Int(Double.log2(Double(lowestDiscernibleValue)))
            let subBucketCountMagnitude = Int(Double.log2(largestWithUnitResolution).rounded(.up))
            subBucketHalfCountMagnitude = max(subBucketCountMagnitude, 1) - 1
            subBucketHalfCount = (1 << subBucketCountMagnitude) / 2
            subBucketMask = UInt64((1 << subBucketCountMagnitude) - 1) << unitMagnitude
            leadingZeroCountBase = 64 - unitMagnitude - subBucketCountMagnitude
        }

        func index(of value: UInt64) -> Int {
            let bucket = leadingZeroCountBase - (value | subBucketMask).leadingZeroBitCount
            let subBucket = Int(value >> (bucket + unitMagnitude))
            return ((bucket + 1) << subBucketHalfCountMagnitude) + (subBucket - subBucketHalfCount)
        }

        func value(at index: Int) -> UInt64 {
            var bucket = (index >> subBucketHalfCountMagnitude) - 1
            var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
            if bucket < 0 {
                subBucket -= subBucketHalfCount
                bucket = 0
            }
            return UInt64(subBucket) << (bucket + unitMagnitude)
        }
    }

    static func layout(_ histogram: Histogram<UInt64>) -> CountsLayout {
        CountsLayout(lowestDiscernibleValue: histogram.lowestDiscernibleValue, digits: histogram.numberOfSignificantValueDigits)
    }

    /// The V2 encoding: the header, then the counts index by index up to the highest recorded one, a run of
    /// zeros written as its negative length. Built from the recorded values alone, so its cost follows
    /// what was recorded, not the histogram's range.
    static func encoding(_ histogram: Histogram<UInt64>) -> [UInt8] {
        var payload: [UInt8] = []
        let layout = layout(histogram)
        var next = 0  // the next index to write
        for value in histogram.recordedValues() {
            let index = layout.index(of: value.value)
            let zeros = index - next
            if zeros == 1 { ZigZag.put(0, into: &payload) } else if zeros > 1 { ZigZag.put(-Int64(zeros), into: &payload) }
            ZigZag.put(Int64(value.count), into: &payload)
            next = index + 1
        }
        var out: [UInt8] = []
        BigEndian.put(encodingCookie, into: &out)
        BigEndian.put(Int32(payload.count), into: &out)
        BigEndian.put(Int32(0), into: &out)  // normalizing index offset
        BigEndian.put(Int32(histogram.numberOfSignificantValueDigits.rawValue), into: &out)
        BigEndian.put(Int64(histogram.lowestDiscernibleValue), into: &out)
        // A growing histogram keeps its first, small range until a value needs more: a reader must see one that covers its values.
        BigEndian.put(Int64(max(histogram.highestTrackableValue, histogram.max)), into: &out)
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
        histogram.autoResize = true  // writers differ in the range they declare; the counts say what is there
        let layout = layout(histogram)
        let end = reader.offset + Int(payload)
        var index = 0
        while reader.offset < end {
            guard let word = ZigZag.get(&reader) else { return nil }
            if word < 0 {
                index += Int(-word)
                continue
            }
            if word > 0 {
                guard histogram.record(layout.value(at: index), count: UInt64(word)) else { return nil }
            }
            index += 1
        }
        return histogram
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
