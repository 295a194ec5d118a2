// `demo` (run with `make demo`): trains a 3×3 edge detector with ConvEngine's forward, backward and SGD,
// printing the loss as it falls to the noise floor, then the learned filter next to the true one.
import ArgumentParser
import ConvDemoKit
import Foundation

@main
struct Demo: ParsableCommand {
    // The discussion is written as paragraphs without line breaks (ArgumentParser wraps them to the
    // terminal), and each formula on a line of its own, indented, so that no formula is split.
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Learn a known 3×3 edge detector with ConvEngine's forward pass, backward pass and SGD.",
        usage: """
            demo [--steps <n>] [--learning-rate <α>] [--batch <n>] [--size <n>]
                 [--noise <σ>] [--seed <n>] [--report-every <n>] [--workers <n>]
            """,
        discussion: """
            Every step draws fresh random images X (standard normal) and makes noisy targets

              T = conv(X, F*) + b* + noise,   noise ~ N(0, σ²), σ = --noise

            where F* is the Sobel filter for vertical edges and b* is \(EdgeDetectorTraining.trueBias). Starting from a filter and bias of zero, it takes one SGD step per batch of images on the mean squared error

              L = mean((conv(X, F) + b - T)²)

            printing the loss every --report-every steps. The loss should fall to the noise floor σ², and F and b should match F* and b* within 1e-2.

            Exit status: 0 if they do; 1 if they do not, or if the loss diverges (it becomes infinite or more than \(Int(EdgeDetectorTraining.divergenceFactor)) times its first value: the learning rate is too large), in which case training stops at once; 64 for invalid options.
            """)

    @Option(help: ArgumentHelp("SGD steps (at least 1).", valueName: "n"))
    var steps = EdgeDetectorTraining.Configuration().steps
    @Option(help: ArgumentHelp("SGD learning rate α (step size); above about 1 the loss diverges.", valueName: "α"))
    var learningRate = EdgeDetectorTraining.Configuration().learningRate
    @Option(help: ArgumentHelp("Images per step.", valueName: "n"))
    var batch = EdgeDetectorTraining.Configuration().batch
    @Option(help: ArgumentHelp("Image size (square).", valueName: "n"))
    var size = EdgeDetectorTraining.Configuration().imageSize
    @Option(help: ArgumentHelp("Standard deviation σ of the target noise.", valueName: "σ"))
    var noise = EdgeDetectorTraining.Configuration().noise
    @Option(help: ArgumentHelp("Random seed.", valueName: "n"))
    var seed = EdgeDetectorTraining.Configuration().seed
    @Option(help: ArgumentHelp("Print the loss every this many steps.", valueName: "n"))
    var reportEvery = EdgeDetectorTraining.Configuration().reportEvery
    @Option(help: ArgumentHelp("Engine worker threads.", valueName: "n"))
    var workers = 1

    func validate() throws {
        if steps < 1 { throw ValidationError("--steps must be at least 1 (0 steps would train nothing), got \(steps)") }
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if size < 1 { throw ValidationError("--size must be at least 1, got \(size)") }
        if reportEvery < 1 { throw ValidationError("--report-every must be at least 1, got \(reportEvery)") }
        if workers < 1 { throw ValidationError("--workers must be at least 1, got \(workers)") }
        if !learningRate.isFinite { throw ValidationError("--learning-rate must be finite, got \(learningRate)") }
        if !(noise.isFinite && noise >= 0) { throw ValidationError("--noise must be finite and not negative, got \(noise)") }
    }

    func run() throws {
        var c = EdgeDetectorTraining.Configuration()
        c.steps = steps; c.batch = batch; c.imageSize = size; c.learningRate = learningRate
        c.noise = noise; c.seed = seed; c.reportEvery = reportEvery; c.workers = workers
        let floor = noise * noise
        print("Learning a 3×3 edge detector (Sobel, vertical edges) and its bias from \(batch) random \(size)×\(size) images per step;")
        print("targets carry Gaussian noise σ = \(noise) (noise floor σ² = \(sci(floor))); SGD α = \(learningRate), \(steps) steps.")
        let start = Date()
        let result: EdgeDetectorTraining.Result
        do {
            result = try EdgeDetectorTraining(c).run { step, loss in
                print("step \(String(repeating: " ", count: max(0, 5 - String(step).count)))\(step)  loss \(sci(loss))  (\(times(loss / floor)) × noise floor)")
            }
        } catch {
            // An impossible configuration, or images too large for memory: one line, exit status 1.
            printError("demo: error: \(error)")
            throw ExitCode.failure
        }
        if let step = result.divergedAt, let last = result.losses.last, let first = result.losses.first {
            let growth = last.loss.isFinite ? "\(sci(last.loss)), \(times(last.loss / first.loss)) × the loss at step 1" : "\(last.loss)"
            printError("demo: error: the loss diverged at step \(step) (\(growth)), so training stopped: "
                       + "the learning rate \(learningRate) is too large. Try a smaller --learning-rate, "
                       + "for example \(learningRate / 10) or the default \(EdgeDetectorTraining.Configuration().learningRate)")
            throw ExitCode.failure
        }
        let seconds = Date().timeIntervalSince(start)
        print("mean loss of the last steps \(sci(result.finalLoss)) = \(times(result.finalLoss / floor)) × the noise floor (\(String(format: "%.2f", seconds)) s)")
        print("learned filter               true filter")
        for r in 0..<3 {
            let learned = (0..<3).map { String(format: "%8.4f", (result.filter[3 * r + $0] * 1e4).rounded() / 1e4 + 0) }.joined()
            let truth = (0..<3).map { String(format: "%4.0f", EdgeDetectorTraining.trueFilter[3 * r + $0]) }.joined()
            print("\(learned)     \(truth)")
        }
        print("learned bias \(String(format: "%.4f", result.bias)), true bias \(EdgeDetectorTraining.trueBias)")
        print("max |filter error| \(sci(Double(result.filterError))), |bias error| \(sci(Double(result.biasError)))")
        let recovered = result.filterError <= 1e-2 && result.biasError <= 1e-2
        let converged = result.finalLoss <= 1.5 * floor
        if recovered && converged {
            print("recovered the filter and bias within 1e-2; the loss reached the noise floor")
        } else {
            printError("demo: error: \(recovered ? "" : "filter or bias not recovered within 1e-2; ")\(converged ? "" : "loss above 1.5 × the noise floor")")
            throw ExitCode.failure
        }
    }
}

private func sci(_ x: Double) -> String { String(format: "%.3e", x) }

/// A ratio such as "1.52", or "3.4e+05" once it is large (a fixed format would print every digit of 1e78).
private func times(_ x: Double) -> String {
    guard x.isFinite else { return "\(x)" }
    return abs(x) < 1e4 ? String(format: "%.2f", x) : String(format: "%.2e", x)
}

private func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
