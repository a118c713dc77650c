/// One finished interval of a metric: its histogram in HdrHistogram's compressed encoding (as the
/// `.hlog` writes it) and its largest value.
public struct EncodedInterval: Sendable, Equatable {
    public var interval: Int
    public var encoded: [UInt8]
    public var max: UInt64

    public init(interval: Int, encoded: [UInt8], max: UInt64) {
        self.interval = interval
        self.encoded = encoded
        self.max = max
    }
}

extension EncodedInterval: Spoolable {
    /// The interval and the largest value (big-endian), then the encoding.
    public var spooled: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + encoded.count)
        BigEndian.put(Int64(interval), into: &out)
        BigEndian.put(max, into: &out)
        return out + encoded
    }

    public init?(spooled record: ArraySlice<UInt8>) {
        var reader = BigEndian.Reader(record)
        guard let interval = reader.int64(), let max = reader.uint64() else { return nil }
        self.init(interval: Int(interval), encoded: Array(record[reader.offset...]), max: max)
    }
}
