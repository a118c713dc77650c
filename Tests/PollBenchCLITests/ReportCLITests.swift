import Foundation
import PollBenchCore
import Testing

extension EndToEnd {
    @Suite("report.html from the command line, and in a real browser", .serialized)
    struct ReportCLITests {
        static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }

        /// A smoke run's directory under `output`.
        func smokeRun(_ output: URL) throws -> URL {
            let smoke = SuiteCLITests.suites.appendingPathComponent("smoke.yaml").path
            let run = try CLI.run(["run", "--suite", smoke, "--output", output.path])
            #expect(run.status == 0, "\(run.stderr)")
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: output.path).first { $0.hasSuffix("-smoke") })
            return output.appendingPathComponent(name)
        }

        @Test("a run writes report.html; 'pollbench report' rebuilds it from the files; 'compare --html' draws both runs")
        func rebuildAndCompare() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let directory = try smokeRun(output)
            let report = directory.appendingPathComponent("report.html")
            let live = try String(contentsOf: report, encoding: .utf8)
            #expect(live.contains("<table class=\"sortable\" id=\"summary\">"))

            try FileManager.default.removeItem(at: report)
            let rebuilt = try CLI.run(["report", directory.path])
            #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
            let again = try String(contentsOf: report, encoding: .utf8)
            // The same table and the same charts, now drawn from summary.json, the .hlog files and timeseries.csv.
            let table = { (page: String) in page.components(separatedBy: "<h2>Summary</h2>").last ?? "" }
            #expect(table(again) == table(live))
            #expect(again.components(separatedBy: "class=\"series\"").count == live.components(separatedBy: "class=\"series\"").count)

            let page = output.appendingPathComponent("compare.html").path
            let compare = try CLI.run(["compare", directory.path, directory.path, "--html", page])
            #expect(compare.status == 0)
            let html = try String(contentsOfFile: page, encoding: .utf8)
            #expect(html.contains("base · fixed:3s") && html.contains("new · fixed:3s") && html.contains("<h2>Verdicts</h2>"))

            let missing = try CLI.run(["report", output.appendingPathComponent("nothing").path])
            #expect(missing.status == 2 && missing.stderr.hasPrefix("error: ") && missing.stderr.contains("summary.json"))
        }

        @Test(
            "headless Chromium renders the report: a screenshot that is not blank, charts in the DOM, no console errors",
            .enabled(if: chromium != nil, "Chromium is not installed here (apt-get install chromium); CI installs it and runs this test")
        )
        func browser() throws {
            let output = try CLI.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: output) }
            let report = try smokeRun(output).appendingPathComponent("report.html")
            let screenshot = output.appendingPathComponent("report.png")
            let common = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0", "--user-data-dir=\(output.path)/profile"]

            let shot = try Self.chromium(common + ["--window-size=1100,4200", "--screenshot=\(screenshot.path)", report.absoluteString])
            let png = try Data(contentsOf: screenshot)
            #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
            #expect(png.count > 40_000, "a \(png.count)-byte screenshot is too small to hold the charts")  // a blank page is a few KB

            let dom = try Self.chromium(common + ["--dump-dom", report.absoluteString])
            #expect(dom.stdout.components(separatedBy: "<svg").count - 1 == 8)
            #expect(dom.stdout.contains("id=\"summary\""))
            // A live run's page ends with the harness's own health, drawn like every other chart.
            #expect(dom.stdout.contains("<h2>Harness health</h2>") && dom.stdout.contains("process CPU (% of "))
            for log in [shot.stderr, dom.stderr] {
                #expect(!log.contains("CONSOLE") && !log.contains("Uncaught"), "\(log)")
            }
        }

        static func chromium(_ arguments: [String]) throws -> (stdout: String, stderr: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: chromium ?? "/usr/bin/chromium")
            process.arguments = arguments
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
            DispatchQueue.global().asyncAfter(deadline: .now() + 90, execute: killer)
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            killer.cancel()
            return (String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
        }
    }
}
