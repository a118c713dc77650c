/// Integers in network byte order, written and read: HdrHistogram's encodings and pollbench's spool records.
enum BigEndian {
    static func put<T: FixedWidthInteger>(_ value: T, into out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }

    /// Reads integers and runs of bytes from the front of some bytes; nil where too few are left.
    struct Reader {
        let bytes: ArraySlice<UInt8>
        /// The index of the next byte to read.
        var offset: Int

        init(bytes: [UInt8]) {
            self.init(bytes[...])
        }

        init(_ bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            offset = bytes.startIndex
        }

        /// Whether every byte has been read.
        var isAtEnd: Bool { offset == bytes.endIndex }

        mutating func byte() -> UInt8? {
            guard offset < bytes.endIndex else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func int32() -> Int32? { integer() }
        mutating func uint32() -> UInt32? { integer() }
        mutating func int64() -> Int64? { integer() }
        mutating func uint64() -> UInt64? { integer() }

        /// The next `count` bytes.
        mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, bytes.endIndex - offset >= count else { return nil }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }

        private mutating func integer<T: FixedWidthInteger>() -> T? {
            take(MemoryLayout<T>.size).map { $0.reduce(T.zero) { ($0 << 8) | T($1) } }
        }
    }
}
