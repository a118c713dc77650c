/// Comparison whose time does not depend on where two byte strings first differ.
enum ConstantTime {
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { a in b.withUnsafeBytes { b in equal(a, b) } }
    }

    /// Whether `text`'s UTF-8 bytes are `bytes`, read in place.
    static func equal(_ text: String, _ bytes: [UInt8]) -> Bool {
        var text = text
        return text.withUTF8 { given in bytes.withUnsafeBytes { equal(UnsafeRawBufferPointer(given), $0) } }
    }

    private static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
