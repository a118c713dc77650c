/// A value a ``SpoolFile`` can keep: written as bytes, read back from them.
public protocol Spoolable: Sendable {
    /// The value as one spool record.
    var spooled: [UInt8] { get }
    /// Reads a record that ``spooled`` wrote; nil when it is not one.
    init?(spooled record: ArraySlice<UInt8>)
}

/// Values of one kind that a run keeps until it ends (its ended sessions, each metric's finished
/// intervals). A simulation keeps them in memory; a live run appends them to a spool on disk as they
/// come, so that a long run's memory does not grow with them. Logs may share one spool, each reading
/// back only the records with its tag.
public struct SpoolLog<Record: Spoolable>: Sendable {
    /// Values in memory, read after those spooled.
    private var rows: [Record] = []
    /// Where values go as they come; nil: into ``rows``.
    private let spool: (file: SpoolFile, tag: UInt8)?
    /// Spooled values, one spool per worker once logs are merged.
    private var spools: [(file: SpoolFile, tag: UInt8)] = []
    private var spooledCount = 0

    /// A log in memory.
    public init() {
        spool = nil
    }

    /// A log whose values go to `file` as they come, tagged `tag`.
    public init(spoolingTo file: SpoolFile, tag: UInt8 = 0) {
        spool = (file, tag)
        spools = [(file, tag)]
    }

    /// The values logged.
    public var count: Int { rows.count + spooledCount }

    /// Logs a value.
    public mutating func append(_ value: Record) {
        guard let spool else { return rows.append(value) }
        spool.file.append(value.spooled, tag: spool.tag)
        spooledCount += 1
    }

    /// Calls `body` with every value: each spool's in the order they came, then those in memory.
    public func forEach(_ body: (Record) throws -> Void) rethrows {
        for spool in spools {
            try spool.file.forEach { tag, record in
                guard tag == spool.tag else { return }
                // Written by this process moments ago: a record that does not read back is a defect here.
                guard let value = Record(spooled: record) else { preconditionFailure("a spooled \(Record.self) could not be read back") }
                try body(value)
            }
        }
        try rows.forEach(body)
    }

    /// Every value, in memory (what sorting or grouping them needs).
    public var all: [Record] {
        var all: [Record] = []
        all.reserveCapacity(count)
        forEach { all.append($0) }
        return all
    }

    /// Adds another log's values (another worker's) after these.
    public mutating func merge(_ other: SpoolLog) {
        spools += other.spools
        spooledCount += other.spooledCount
        rows += other.rows
    }
}
