import PollBenchRules
import Testing

@Suite("The CPUs the process may use")
struct AllowedCPUsTests {
    @Test("cpuset lists are read, bad ones refused, and this process may use at least one CPU")
    func cpuLists() {
        #expect(AllowedCPUs.count(list: "\t0-3,8,10-11") == 7)
        #expect(AllowedCPUs.count(list: "0") == 1)
        for bad in ["", "3-1", "a", "0-1-2", ",", "1-"] { #expect(AllowedCPUs.count(list: Substring(bad)) == nil, "\(bad)") }
        #expect(AllowedCPUs.count() >= 1)
    }
}
