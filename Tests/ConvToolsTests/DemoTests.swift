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
