// The lowering's row primitives (Sources/ConvEngine/Lowering/SmallCopies.swift and Im2Col.swift) against the
// scalar loops they stand for, for every count 0…40 (every SIMD tail), a few counts on the library-call path, and
// strides 1, 2 and 3. Every buffer sits flush against an inaccessible guard page, once at its start and once at its
// end, so a read or write one element outside its range faults; the rest of each buffer's page holds sentinel
// values that must come back bit for bit (elements inside the range that the loop does not touch included).
import Foundation
import Testing
@testable import ConvEngine

/// One page of memory between two inaccessible pages.
final class GuardedPage {
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    let base: UnsafeMutableRawPointer

    init() {
        let size = 3 * Self.pageSize
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        precondition(p != MAP_FAILED && p != nil, "mmap failed")
        base = p!
        precondition(mprotect(base, Self.pageSize, PROT_NONE) == 0 && mprotect(base + 2 * Self.pageSize, Self.pageSize, PROT_NONE) == 0)
    }

    deinit { munmap(base, 3 * Self.pageSize) }

    /// The accessible page as `T` elements.
    func elements<T>(_: T.Type) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: (base + Self.pageSize).assumingMemoryBound(to: T.self),
                                   count: Self.pageSize / MemoryLayout<T>.stride)
    }
}

@Suite("Row primitives")
struct RowPrimitiveTests {
    /// Counts: every tail of the SIMD loops, and the library-call path (≥ 64) of copyRow and zeroRow.
    static let counts = Array(0...40) + [63, 64, 65, 100]

    /// Runs `primitive` and `scalar` on the same buffers: `spans[i]` elements of buffer i, placed flush against the
    /// start of its page (`atEnd` false) or against its end, every other element of the page a sentinel. `primitive`
    /// runs on guarded pages, `scalar` on ordinary copies; afterwards every page must equal its copy bit for bit.
    static func check<T: ConvScalar>(_: T.Type, _ name: String, spans: [Int], atEnd: Bool, pages: [GuardedPage],
                                     _ primitive: ([UnsafeMutablePointer<T>]) -> Void,
                                     _ scalar: ([UnsafeMutablePointer<T>]) -> Void,
                                     sourceLocation: SourceLocation = #_sourceLocation) {
        var rng = SeededGenerator(seed: UInt64(spans.reduce(7, { $0 &* 31 &+ $1 })))
        var copies: [[T]] = []
        var pointers: [UnsafeMutablePointer<T>] = []
        for (i, span) in spans.enumerated() {
            let page = pages[i].elements(T.self)
            precondition(span <= page.count)
            // Sentinels: distinct, exactly representable values (an add or a copy into them shows).
            for j in page.indices { page[j] = T(Double(-1000 - j - 7919 * i)) }
            let start = atEnd ? page.count - span : 0
            for j in start..<(start + span) { page[j] = T(rng.double(-4...4)) }
            copies.append(Array(page))
            pointers.append(page.baseAddress! + start)
        }
        primitive(pointers)
        var copyPointers: [UnsafeMutablePointer<T>] = []
        let copyBuffers = copies.map { c -> UnsafeMutableBufferPointer<T> in
            let b = UnsafeMutableBufferPointer<T>.allocate(capacity: c.count)
            _ = b.initialize(from: c)
            return b
        }
        defer { copyBuffers.forEach { $0.deallocate() } }
        for (i, span) in spans.enumerated() {
            copyPointers.append(copyBuffers[i].baseAddress! + (atEnd ? copyBuffers[i].count - span : 0))
        }
        scalar(copyPointers)
        for i in spans.indices {
            let page = pages[i].elements(T.self)
            if let j = page.indices.first(where: { page[$0].bits64 != copyBuffers[i][$0].bits64 }) {
                let start = atEnd ? page.count - spans[i] : 0
                let placement = atEnd ? "at their page's end" : "at their page's start"
                let message = "\(name) \(T.self) (buffers \(placement)): buffer \(i) element \(j - start) "
                    + "(range 0..<\(spans[i])) is \(page[j]), the scalar loop gives \(copyBuffers[i][j])"
                Issue.record("\(message)", sourceLocation: sourceLocation)
                return
            }
        }
    }

    /// The elements `count` strided positions cover: `(count − 1)·stride + 1`, none for 0.
    static func span(_ count: Int, stride: Int) -> Int { count == 0 ? 0 : (count - 1) * stride + 1 }

    static func all<T: ConvScalar>(_: T.Type) -> Int {
        let pages = (0..<3).map { _ in GuardedPage() }
        var cases = 0
        for atEnd in [false, true] {
            for n in counts {
                check(T.self, "copyRow(\(n))", spans: [n, n], atEnd: atEnd, pages: pages,
                      { copyRow($0[0], UnsafePointer($0[1]), n) },
                      { for i in 0..<n { $0[0][i] = $0[1][i] } })
                check(T.self, "zeroRow(\(n))", spans: [n], atEnd: atEnd, pages: pages,
                      { zeroRow($0[0], n) },
                      { for i in 0..<n { $0[0][i] = 0 } })
                check(T.self, "addRow(\(n))", spans: [n, n], atEnd: atEnd, pages: pages,
                      { addRow($0[0], UnsafePointer($0[1]), n) },
                      { for i in 0..<n { $0[0][i] += $0[1][i] } })
                check(T.self, "deinterleaveRow(\(n))", spans: [n, n, 2 * n], atEnd: atEnd, pages: pages,
                      { deinterleaveRow($0[0], $0[1], UnsafePointer($0[2]), count: n) },
                      { for i in 0..<n { $0[0][i] = $0[2][2 * i]; $0[1][i] = $0[2][2 * i + 1] } })
                check(T.self, "interleaveAddRow(\(n))", spans: [2 * n, n, n], atEnd: atEnd, pages: pages,
                      { interleaveAddRow($0[0], UnsafePointer($0[1]), UnsafePointer($0[2]), count: n) },
                      { for i in 0..<n { $0[0][2 * i] += $0[1][i]; $0[0][2 * i + 1] += $0[2][i] } })
                cases += 5
                for stride in [1, 2, 3] {
                    let wide = span(n, stride: stride)
                    check(T.self, "gatherRow(\(n), stride \(stride))", spans: [n, wide], atEnd: atEnd, pages: pages,
                          { gatherRow($0[0], UnsafePointer($0[1]), count: n, stride: stride) },
                          { for i in 0..<n { $0[0][i] = $0[1][i * stride] } })
                    check(T.self, "scatterAddRow(\(n), stride \(stride))", spans: [wide, n], atEnd: atEnd, pages: pages,
                          { scatterAddRow($0[0], UnsafePointer($0[1]), count: n, stride: stride) },
                          { for i in 0..<n { $0[0][i * stride] += $0[1][i] } })
                    cases += 2
                }
                check(T.self, "gatherRowStride2(\(n))", spans: [n, span(n, stride: 2)], atEnd: atEnd, pages: pages,
                      { gatherRowStride2($0[0], UnsafePointer($0[1]), count: n) },
                      { for i in 0..<n { $0[0][i] = $0[1][2 * i] } })
                check(T.self, "scatterAddRowStride2(\(n))", spans: [span(n, stride: 2), n], atEnd: atEnd, pages: pages,
                      { scatterAddRowStride2($0[0], UnsafePointer($0[1]), count: n) },
                      { for i in 0..<n { $0[0][2 * i] += $0[1][i] } })
                cases += 2
            }
        }
        return cases
    }

    @Test("Float: each primitive equals its scalar loop and stays inside its range")
    func float() { #expect(Self.all(Float.self) == 2 * Self.counts.count * 13) }

    @Test("Double: each primitive equals its scalar loop and stays inside its range")
    func double() { #expect(Self.all(Double.self) == 2 * Self.counts.count * 13) }
}
