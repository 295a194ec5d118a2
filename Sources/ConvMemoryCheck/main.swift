// convmemcheck: resident memory across many repeated forward-and-backward calls on one small geometry with one
// workspace, measured in its own process so no other test disturbs it (`make test` runs it in release).
//
//   convmemcheck [iterations] [limit-bytes]      defaults: 10000 calls, 1 MiB
//
// Prints the resident set size (from /proc/self/statm) after the first 100 calls and after the last, and exits
// with status 1 if it grew by more than the limit, or if the last call's results differ from the first's.
import Foundation
import ConvEngine

/// Resident bytes of this process: the second field of /proc/self/statm (pages) times the page size.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return -1 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return -1 }
    return pages * sysconf(Int32(_SC_PAGESIZE))
}

func mebibytes(_ bytes: Int) -> String { String(format: "%.2f MiB", Double(bytes) / 1_048_576) }

let arguments = CommandLine.arguments.dropFirst()
let iterations = arguments.first.flatMap { Int($0) } ?? 10_000
let limit = arguments.dropFirst().first.flatMap { Int($0) } ?? 1 << 20
let warmup = min(100, iterations)

do {
    // Small, but with padding and a stride so every part of the lowering runs, and 2 workers (when the machine
    // has them) so the engine's own parallel loop runs too.
    let g = try ConvGeometry(batch: 4, inputChannels: 8, inputHeight: 14, inputWidth: 14, outputChannels: 16,
                             kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 1, padding: 1)
    let engine = try ConvolutionEngine(workers: min(2, ProcessInfo.processInfo.activeProcessorCount))
    let workspace = ConvWorkspace<Float>()
    let x = (0..<g.inputCount).map { Float(($0 * 7919) % 97) / 97 - 0.5 }
    let f = (0..<g.filterCount).map { Float(($0 * 104_729) % 89) / 89 - 0.5 }
    let b = (0..<g.outputChannels).map { Float($0) / 16 }
    let dO = (0..<g.outputCount).map { Float(($0 * 31) % 53) / 53 - 0.5 }
    var o = [Float](repeating: 0, count: g.outputCount), dX = [Float](repeating: 0, count: g.inputCount)
    var dF = [Float](repeating: 0, count: g.filterCount), dB = [Float](repeating: 0, count: g.outputChannels)
    var first: [Float] = [], afterWarmup = 0
    let start = Date()
    for i in 1...iterations {
        try x.withUnsafeBufferPointer { xp in
            try f.withUnsafeBufferPointer { fp in
                try b.withUnsafeBufferPointer { bp in
                    try o.withUnsafeMutableBufferPointer {
                        try engine.forward(g, input: xp, filter: fp, bias: bp, output: $0, workspace: workspace)
                    }
                }
                try dO.withUnsafeBufferPointer { dOp in
                    try dX.withUnsafeMutableBufferPointer { dx in
                        try dF.withUnsafeMutableBufferPointer { df in
                            try dB.withUnsafeMutableBufferPointer { db in
                                try engine.backward(g, input: xp, filter: fp, outputGradient: dOp, inputGradient: dx,
                                                    filterGradient: df, biasGradient: db, workspace: workspace)
                            }
                        }
                    }
                }
            }
        }
        if i == 1 { first = o + dX + dF + dB }
        if i == warmup { afterWarmup = residentBytes() }
    }
    let seconds = Date().timeIntervalSince(start)
    let atEnd = residentBytes()
    let growth = atEnd - afterWarmup
    let same = (o + dX + dF + dB).map(\.bitPattern) == first.map(\.bitPattern)
    print("convmemcheck: \(g), \(engine.workers) workers, workspace \(workspace.byteCount) bytes")
    print("convmemcheck: resident after \(warmup) calls \(mebibytes(afterWarmup)), after \(iterations) calls "
          + "\(mebibytes(atEnd)), growth \(growth) bytes (limit \(limit)); \(String(format: "%.2f", seconds)) s; "
          + "last results \(same ? "bit-identical to" : "DIFFERENT from") the first")
    if afterWarmup < 0 || atEnd < 0 {
        print("convmemcheck: FAILED: could not read /proc/self/statm")
        exit(1)
    }
    if growth > limit || !same {
        print("convmemcheck: FAILED")
        exit(1)
    }
    print("convmemcheck: OK")
} catch {
    print("convmemcheck: FAILED: \(error)")
    exit(1)
}
