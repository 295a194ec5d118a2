// The training example (ConvDemoKit, run in full by `make demo`): a shorter run must still reach the
// noise floor and recover the true filter and bias within 1e-2.
import ConvDemoKit
import ConvEngine
import Testing

@Suite("training example")
struct DemoTests {
    @Test("a short run learns the edge detector and its bias within 1e-2, at the noise floor")
    func shortRunRecoversFilter() throws {
        var c = EdgeDetectorTraining.Configuration()
        c.steps = 80
        c.batch = 4
        c.imageSize = 24
        c.learningRate = 0.1
        c.reportEvery = 10
        var reported: [Int] = []
        let result = try EdgeDetectorTraining(c).run { step, _ in reported.append(step) }
        #expect(reported == [1, 10, 20, 30, 40, 50, 60, 70, 80])
        #expect(result.losses.first!.loss > 1, "starts far from the target (F = 0)")
        #expect(result.filterError <= 1e-2, "filter \(result.filter)")
        #expect(result.biasError <= 1e-2, "bias \(result.bias)")
        #expect(result.finalLoss <= 1.5 * result.noiseFloor, "final loss \(result.finalLoss)")
        #expect(result.finalLoss >= 0.5 * result.noiseFloor, "the noise cannot be fitted away")
    }

    @Test("the same seed gives the same run")
    func reproducible() throws {
        var c = EdgeDetectorTraining.Configuration()
        c.steps = 5
        c.batch = 1
        c.imageSize = 8
        let a = try EdgeDetectorTraining(c).run(), b = try EdgeDetectorTraining(c).run()
        #expect(a.filter == b.filter && a.bias == b.bias)
    }
}

@Suite("training example: what a new user runs into")
struct DemoUsageTests {
    @Test("0 steps is refused, by the training loop and by demo (exit 64), instead of taking one step")
    func zeroSteps() throws {
        var c = EdgeDetectorTraining.Configuration()
        c.steps = 0
        var reported = 0
        #expect(throws: ConvError.invalidArgument(name: "steps", reason: "0 steps: at least 1 is needed to train")) {
            _ = try EdgeDetectorTraining(c).run { _, _ in reported += 1 }
        }
        #expect(reported == 0, "no step was taken")
        let run = try ConvTool.run(["--steps", "0"], tool: "demo")
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("--steps must be at least 1"), "\(run.stderr)")
        #expect(!run.stdout.contains("step "), "\(run.stdout)")
    }

    @Test("a learning rate of 5 diverges: training stops at once and says so")
    func divergence() throws {
        var c = EdgeDetectorTraining.Configuration()
        c.learningRate = 5
        c.steps = 200
        var reported: [(Int, Double)] = []
        let result = try EdgeDetectorTraining(c).run { step, loss in reported.append((step, loss)) }
        let step = try #require(result.divergedAt, "not detected: \(reported)")
        #expect(step <= 5, "detected late, at step \(step)")
        let last = try #require(reported.last)
        #expect(last.0 == step, "the diverged step is reported")
        #expect(!last.1.isFinite || last.1 > EdgeDetectorTraining.divergenceFactor * reported[0].1)
        // A converging learning rate is never taken for divergence.
        c.learningRate = 0.5
        c.steps = 40
        #expect(try EdgeDetectorTraining(c).run().divergedAt == nil)

        let run = try ConvTool.run(["--learning-rate", "5"], tool: "demo")
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("diverged at step"), "\(run.stderr)")
        #expect(run.stderr.contains("smaller --learning-rate"), "\(run.stderr)")
        // No number printed in full: the ratio to the noise floor switched to scientific notation.
        let longestNumber = run.stdout.split { !"0123456789.".contains($0) }.map(\.count).max() ?? 0
        #expect(longestNumber <= 12, "\(run.stdout)")
    }

    @Test("demo --help reads well at 80 columns: no line too long, no formula or sentence broken off")
    func helpAt80Columns() throws {
        let run = try ConvTool.run(["--help"], tool: "demo", environment: ["COLUMNS": "80"])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for line in lines { #expect(line.count <= 80, "\(line.count) columns: \(line)") }
        // Each formula on one line of its own.
        #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("T = conv(X, F*) + b* + noise") })
        #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces) == "L = mean((conv(X, F) + b - T)²)" })
        // Within a paragraph of the discussion every line but the last is filled (the old text had line
        // breaks in mid-sentence, which wrapping turned into short lines), and none ends at an "=".
        let discussion = lines.prefix { !$0.hasPrefix("USAGE:") }
        for (line, next) in zip(discussion, discussion.dropFirst()) where !line.hasPrefix(" ") && !line.isEmpty {
            #expect(!line.hasSuffix("="), "\(line)")
            if !next.isEmpty && !next.hasPrefix(" ") { #expect(line.count >= 60, "short line in a paragraph: \(line)") }
        }
    }
}
