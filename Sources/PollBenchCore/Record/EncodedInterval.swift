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
    /// The interval and the largest value (little-endian), then the encoding.
    public var spooled: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + encoded.count)
        withUnsafeBytes(of: Int64(interval).littleEndian) { out += $0 }
        withUnsafeBytes(of: max.littleEndian) { out += $0 }
        return out + encoded
    }

    public init?(spooled record: ArraySlice<UInt8>) {
        guard record.count >= 16 else { return nil }
        func integer(at offset: Int) -> UInt64 {
            record[record.startIndex + offset..<record.startIndex + offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        self.init(interval: Int(Int64(bitPattern: integer(at: 0))), encoded: Array(record.dropFirst(16)), max: integer(at: 8))
    }
}
