// How the Winograd kernel cuts the tiles of a batch into blocks for its workers (WinogradKernel.blocking): the
// workspace bound, the lanes, full coverage, and the even split that keeps two workers busy to the end. The
// results of every cut are checked against the reference by the sweep in WinogradTests, at 1–3 workers. Also
// the filter gradient's two ways of sharing its sums between workers, each checked against the reference.
import Testing
@testable import ConvEngine

@Suite("Winograd blocks of tiles")
struct WinogradBlockingTests {
    static func kernel(groups: Int, blockTiles: Int) throws -> WinogradKernel<WinogradF4> {
        let g = try ConvGeometry(n: 1, c: 2 * groups, h: 8, w: 8, k: 2 * groups, r: 3, s: 3, pad: (1, 1, 1, 1),
                                 groups: groups)
        return WinogradKernel(.forward(g), blockTiles: blockTiles)
    }

    /// The most tiles one worker runs when the blocks of `block` tiles of every group go to the workers in turn.
    static func busiest(block: Int, tiles: Int, groups: Int, workers: Int) -> Int {
        var load = [Int](repeating: 0, count: workers)
        let blocks = (tiles + block - 1) / block
        for item in 0..<(groups * blocks) {
            let b = item % blocks
            load[item % workers] += min(block, tiles - b * block)
        }
        return load.max()!
    }

    @Test("Blocks are whole lanes, within the workspace's block, cover the tiles, and are even")
    func properties() throws {
        for groups in [1, 2, 3] {
            for blockTiles in [8, 64, 128] {
                let k = try Self.kernel(groups: groups, blockTiles: blockTiles)
                for tiles in [1, 7, 8, 9, 32, 100, 392, 1568, 3137] {
                    for workers in 1...4 {
                        let (block, blocks) = k.blocking(tiles: tiles, workers: workers)
                        let where_ = "groups \(groups), blockTiles \(blockTiles), tiles \(tiles), workers \(workers)"
                        #expect(block % 8 == 0 && block > 0 && block <= blockTiles, "\(where_): block \(block)")
                        #expect(blocks * block >= tiles && (blocks - 1) * block < tiles, "\(where_): \(blocks) × \(block)")
                        // Even: the last block is short by at most the lanes that rounding added to the others.
                        let last = tiles - (blocks - 1) * block
                        #expect(block - last <= 8 * blocks, "\(where_): \(blocks) × \(block), last \(last)")
                        // Never more than twice the blocks of the greedy cut, plus a round.
                        #expect(blocks <= 2 * ((tiles + blockTiles - 1) / blockTiles + workers), "\(where_): \(blocks)")
                    }
                }
            }
        }
    }

    @Test("On the suite's 3×3 layers (F(4×4) and F(2×2)), no even cut keeps 1–4 workers busy for less time")
    func makespan() throws {
        for groups in [1, 2] {
            let k = try Self.kernel(groups: groups, blockTiles: 128)
            // Tiles of res2, res3, res4, res5 at batch 8 and VGG conv1_2 at batch 4, for m = 4 and m = 2.
            for tiles in [1568, 392, 128, 32, 12544, 6272, 1568, 512, 128, 50176] {
                for workers in 1...4 {
                    let cut = k.blocking(tiles: tiles, workers: workers)
                    // Brute force: every block size in whole lanes from half the block (or a worker's share, if
                    // less) up to the block, its blocks dealt out in turn.
                    let share = ((tiles + workers - 1) / workers + 7) / 8 * 8
                    let best = stride(from: max(8, min(64, share)), through: 128, by: 8).map {
                        Self.busiest(block: $0, tiles: tiles, groups: groups, workers: workers)
                    }.min()!
                    let span = Self.busiest(block: cut.block, tiles: tiles, groups: groups, workers: workers)
                    let rounds = (groups * cut.blocks + workers - 1) / workers
                    // Within the lanes that evening out adds to a block in each round.
                    #expect(span <= best + 8 * rounds,
                            "groups \(groups), tiles \(tiles), workers \(workers): \(cut.blocks) × \(cut.block), \(span) against \(best)")
                }
            }
        }
    }

    @Test("ResNet res3 (392 tiles of F(4×4)) at two workers: four blocks of 104 or fewer, not 128 + 128 + 128 + 8")
    func res3() throws {
        let k = try Self.kernel(groups: 1, blockTiles: 128)
        let (block, blocks) = k.blocking(tiles: 392, workers: 2)
        #expect(block == 104 && blocks == 4)
        let one = k.blocking(tiles: 392, workers: 1)
        #expect(one.block == 104 && one.blocks == 4)
        // res5 (8 images of 2×2 tiles): a block for each worker.
        #expect(k.blocking(tiles: 32, workers: 2) == (16, 2))
        #expect(k.blocking(tiles: 32, workers: 3) == (16, 2))
    }

    @Test("The filter gradient's workers split the tiles or the positions ξν; both within the transform bound")
    func filterGradientSplits() throws {
        pinBLASThreadsOnce()
        var rng = SeededGenerator(seed: 0xDF5)
        // 2 workers: 12×12 images give each worker less than a block (positions); 68×68 ones more (tiles).
        for (size, byPositions) in [(12, true), (68, false)] {
            let g = try ConvGeometry(n: 2, c: 3, h: size, w: size, k: 2, r: 3, s: 3, pad: (1, 1, 1, 1))
            let problem = Problem(g, rng: &rng)
            let references = (double: try WinogradTests.reference(g, problem, Double.self),
                              float: try WinogradTests.reference(g, problem, Float.self))
            for algorithm in WinogradTests.algorithms {
                let engine = try makeEngine(workers: 2, algorithm: algorithm, filterGradientAlgorithm: .winograd)
                let plan = try engine.plan(for: g)
                guard case .transformTiles(let blockTiles, _) = plan.tile else {
                    Issue.record("\(algorithm): \(plan) has no transform tiles")
                    continue
                }
                let positions = algorithm == .winograd2x2
                    ? WinogradKernel<WinogradF2>(.forward(g), blockTiles: blockTiles).splitsPositions(workers: 2)
                    : WinogradKernel<WinogradF4>(.forward(g), blockTiles: blockTiles).splitsPositions(workers: 2)
                #expect(positions == byPositions, "\(algorithm) on \(size)×\(size), \(blockTiles)-tile blocks")
                let label = "\(algorithm) dF×2 split by \(positions ? "positions" : "tiles")"
                _ = try WinogradTests.check(engine, g, problem, references.double, Double.self, label)
                _ = try WinogradTests.check(engine, g, problem, references.float, Float.self, label)
            }
        }
    }
}
