import CCurl

/// A request's header lines as the `curl_slist` that `CURLOPT_HTTPHEADER` takes, in memory its handle
/// owns: curl reads the list while the transfer runs, and the next request rewrites it in place, so a
/// poll's headers cost no allocation (`curl_slist_append` copies every line into a fresh one).
/// Written between transfers only.
struct RequestHeaderList: ~Copyable {
    /// The lines, each ended by a NUL.
    private var text: UnsafeMutableBufferPointer<CChar>
    private var used = 0
    /// Where each line starts in ``text``.
    private var starts: [Int] = []
    private var nodes: UnsafeMutableBufferPointer<curl_slist>

    init() {
        text = .allocate(capacity: 512)
        nodes = .allocate(capacity: 8)
        starts.reserveCapacity(8)
    }

    deinit {
        text.update(repeating: 0)  // the Authorization line's secret does not outlive the handle
        text.deallocate()
        nodes.deallocate()
    }

    /// Starts a new set of lines; the list written before stays valid until ``finish()``.
    mutating func begin() {
        used = 0
        starts.removeAll(keepingCapacity: true)
    }

    /// Adds `name: value`.
    mutating func append(_ name: String, _ value: String) {
        starts.append(used)
        write(name)
        write(": ")
        write(value)
        write("\0")
    }

    /// Adds a line as curl takes it (`Expect:` removes curl's own `Expect`).
    mutating func append(line: String) {
        starts.append(used)
        write(line)
        write("\0")
    }

    /// Links the lines written since ``begin()``: the list's head, or nil for none.
    mutating func finish() -> UnsafeMutablePointer<curl_slist>? {
        guard !starts.isEmpty else { return nil }
        if nodes.count < starts.count {
            nodes.deallocate()
            nodes = .allocate(capacity: max(starts.count, 2 * nodes.count))
        }
        let base = nodes.baseAddress!
        for (index, start) in starts.enumerated() {
            base[index] = curl_slist(data: text.baseAddress! + start, next: index + 1 < starts.count ? base + index + 1 : nil)
        }
        return base
    }

    private mutating func write(_ piece: String) {
        var piece = piece
        piece.withUTF8 { bytes in
            if used + bytes.count > text.count { grow(to: used + bytes.count) }
            UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(text)[used...]).copyMemory(from: UnsafeRawBufferPointer(bytes))
            used += bytes.count
        }
    }

    private mutating func grow(to needed: Int) {
        let larger = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(needed, 2 * text.count))
        _ = larger.initialize(from: text[..<used])
        text.update(repeating: 0)
        text.deallocate()
        text = larger
    }
}
