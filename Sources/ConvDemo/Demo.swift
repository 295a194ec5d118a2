// `demo` (run with `make demo`): trains a 3×3 edge detector with ConvEngine's forward, backward and SGD,
// printing the loss as it falls to the noise floor, then the learned filter next to the true one.
import ArgumentParser
import ConvDemoKit
import Foundation

@main
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Learn a known 3×3 edge-detector filter and bias with ConvEngine's forward pass, backward pass and SGD.",
        discussion: """
        Every step draws fresh random images X (standard normal), makes targets T = conv(X, F*) + b* plus
        Gaussian noise of standard deviation --noise, and takes one SGD step on the mean squared error
        between conv(X, F) + b and T, starting from F = 0, b = 0. F* is the Sobel filter for vertical edges
        and b* = \(EdgeDetectorTraining.trueBias). The loss should fall to the noise floor σ² and F, b should
        match F*, b* within 1e-2; the exit status is 1 if they do not.
        """)

    @Option(help: "SGD steps.") var steps = EdgeDetectorTraining.Configuration().steps
    @Option(help: "Images per step.") var batch = EdgeDetectorTraining.Configuration().batch
    @Option(help: "Image size (square).") var size = EdgeDetectorTraining.Configuration().imageSize
    @Option(help: "SGD learning rate.") var learningRate = EdgeDetectorTraining.Configuration().learningRate
    @Option(help: "Standard deviation of the target noise.") var noise = EdgeDetectorTraining.Configuration().noise
    @Option(help: "Random seed.") var seed = EdgeDetectorTraining.Configuration().seed
    @Option(help: "Print the loss every this many steps.") var reportEvery = EdgeDetectorTraining.Configuration().reportEvery
    @Option(help: "Engine worker threads.") var workers = 1

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
                print("step \(String(repeating: " ", count: max(0, 5 - String(step).count)))\(step)  loss \(sci(loss))  (\(String(format: "%.2f", loss / floor)) × noise floor)")
            }
        } catch {
            // An impossible configuration, or images too large for memory: one line, exit status 1.
            FileHandle.standardError.write(Data("demo: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let seconds = Date().timeIntervalSince(start)
        print("mean loss of the last steps \(sci(result.finalLoss)) = \(String(format: "%.3f", result.finalLoss / floor)) × the noise floor (\(String(format: "%.2f", seconds)) s)")
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
            FileHandle.standardError.write(Data("demo: error: \(recovered ? "" : "filter or bias not recovered within 1e-2; ")\(converged ? "" : "loss above 1.5 × the noise floor")\n".utf8))
            throw ExitCode.failure
        }
    }
}

private func sci(_ x: Double) -> String { String(format: "%.3e", x) }
