import Testing

/// Every suite that launches pollbench as a process runs under this one, one test at a time. Such a test
/// waits for its child synchronously and holds one of the cooperative pool's threads (two on this
/// machine) while it does; side by side, these tests starved the in-process servers of the other
/// targets' tests, whose handlers run on that pool, until curl gave up on them.
@Suite("pollbench as a process", .serialized)
enum EndToEnd {}
