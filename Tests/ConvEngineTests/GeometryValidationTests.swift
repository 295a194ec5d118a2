// ConvGeometry's throwing initializer: every impossible geometry throws the ConvError case that names it, and
// the derived sizes and `same`/`valid` padding follow MATH.md and PyTorch.
import Testing
import ConvEngine

@Suite("Geometry validation")
struct GeometryValidationTests {
    /// A valid base geometry; `make` changes one field at a time.
    static func make(batch: Int = 2, c: Int = 4, h: Int = 8, w: Int = 8, k: Int = 4, r: Int = 3, s: Int = 3,
                     sh: Int = 1, sw: Int = 1, padding: PaddingSpec = .explicit(Padding(1)),
                     dh: Int = 1, dw: Int = 1, groups: Int = 2) throws(ConvError) -> ConvGeometry {
        try ConvGeometry(batch: batch, inputChannels: c, inputHeight: h, inputWidth: w, outputChannels: k,
                         kernelHeight: r, kernelWidth: s, strideHeight: sh, strideWidth: sw, padding: padding,
                         dilationHeight: dh, dilationWidth: dw, groups: groups)
    }

    /// The error `body` throws, or nil (recording an issue) when it does not throw.
    static func error(_ body: () throws(ConvError) -> ConvGeometry, sourceLocation: SourceLocation = #_sourceLocation) -> ConvError? {
        do {
            let g = try body()
            Issue.record("expected an error, got the geometry \(g)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    @Test("The base geometry is valid")
    func base() throws {
        let g = try Self.make()
        #expect(g.outputHeight == 8 && g.outputWidth == 8)
    }

    @Test("Each size, stride, dilation and group count must be at least 1 (0 and negative)", arguments: [0, -1, Int.min])
    func nonPositive(_ v: Int) {
        let cases: [(String, () throws(ConvError) -> ConvGeometry)] = [
            ("batch", { () throws(ConvError) in try Self.make(batch: v) }),
            ("inputChannels", { () throws(ConvError) in try Self.make(c: v) }),
            ("inputHeight", { () throws(ConvError) in try Self.make(h: v) }),
            ("inputWidth", { () throws(ConvError) in try Self.make(w: v) }),
            ("outputChannels", { () throws(ConvError) in try Self.make(k: v) }),
            ("kernelHeight", { () throws(ConvError) in try Self.make(r: v) }),
            ("kernelWidth", { () throws(ConvError) in try Self.make(s: v) }),
            ("strideHeight", { () throws(ConvError) in try Self.make(sh: v) }),
            ("strideWidth", { () throws(ConvError) in try Self.make(sw: v) }),
            ("dilationHeight", { () throws(ConvError) in try Self.make(dh: v) }),
            ("dilationWidth", { () throws(ConvError) in try Self.make(dw: v) }),
            ("groups", { () throws(ConvError) in try Self.make(groups: v) }),
        ]
        for (field, body) in cases {
            #expect(Self.error(body) == .nonPositive(field: field, value: v), "\(field) = \(v)")
        }
    }

    @Test("Negative padding on each side")
    func negativePadding() {
        let sides: [(String, Padding)] = [
            ("top", Padding(top: -1, bottom: 1, left: 1, right: 1)),
            ("bottom", Padding(top: 1, bottom: -2, left: 1, right: 1)),
            ("left", Padding(top: 1, bottom: 1, left: -3, right: 1)),
            ("right", Padding(top: 1, bottom: 1, left: 1, right: -1)),
        ]
        for (side, padding) in sides {
            let e = Self.error { () throws(ConvError) in try Self.make(padding: .explicit(padding)) }
            guard case let .negativePadding(field, value)? = e else {
                Issue.record("padding.\(side) < 0: expected .negativePadding, got \(String(describing: e))")
                continue
            }
            #expect(field.lowercased().contains(side), "field '\(field)' names the \(side) side")
            #expect(value == [padding.top, padding.bottom, padding.left, padding.right].first { $0 < 0 })
        }
        // The integer-literal form pads every side.
        #expect(Self.error { () throws(ConvError) in try Self.make(padding: .explicit(Padding(-1))) }
                .map { if case .negativePadding = $0 { true } else { false } } == true)
    }

    @Test("Input and output channels must be divisible by groups")
    func groups() {
        #expect(Self.error { () throws(ConvError) in try Self.make(c: 6, k: 4, groups: 4) }
                == .notDivisibleByGroups(field: "inputChannels", value: 6, groups: 4))
        #expect(Self.error { () throws(ConvError) in try Self.make(c: 4, k: 6, groups: 4) }
                == .notDivisibleByGroups(field: "outputChannels", value: 6, groups: 4))
        #expect(Self.error { () throws(ConvError) in try Self.make(c: 3, k: 3, groups: 6) }
                == .notDivisibleByGroups(field: "inputChannels", value: 3, groups: 6))
    }

    @Test("A dilated kernel larger than the padded input has no output position")
    func kernelLargerThanPaddedInput() {
        // MATH.md's example: H = 1, R = 2, stride 2, no padding. floor((1 - 2) / 2) + 1 = 0: invalid, although
        // Swift's truncating division would give 1.
        #expect(Self.error { () throws(ConvError) in
            try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 1, inputWidth: 4, outputChannels: 1,
                             kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2)
        } == .kernelLargerThanPaddedInput(axis: "height", paddedInput: 1, dilatedKernel: 2))
        // Width, with padding and dilation: W + l + r = 3 + 1 + 1 = 5 < 3·(3-1)+1 = 7.
        #expect(Self.error { () throws(ConvError) in try Self.make(w: 3, padding: .explicit(Padding(1)), dw: 3) }
                == .kernelLargerThanPaddedInput(axis: "width", paddedInput: 5, dilatedKernel: 7))
        // Height with padding: 2 + 1 + 1 = 4 < 5.
        #expect(Self.error { () throws(ConvError) in try Self.make(h: 2, r: 5) }
                == .kernelLargerThanPaddedInput(axis: "height", paddedInput: 4, dilatedKernel: 5))
        // Exactly fitting is valid: one output row.
        #expect(throws: Never.self) {
            let g = try Self.make(h: 3, r: 5)
            #expect(g.outputHeight == 1)
        }
    }

    @Test("P and Q follow floor((H + pt + pb - dh(R-1) - 1)/sh) + 1, and invalid exactly when no window fits")
    func outputSizeByCounting() throws {
        // Count the window positions directly: p ≥ 0 with p·sh + dh(R-1) + 1 ≤ H + pt + pb.
        for h in 1...7 { for r in 1...4 { for sh in 1...3 { for dh in 1...3 { for (pt, pb) in [(0, 0), (1, 0), (0, 2), (2, 3)] {
            let padded = h + pt + pb, reach = dh * (r - 1) + 1
            var windows = 0
            while windows * sh + reach <= padded { windows += 1 }
            let made = Result { () throws(ConvError) in
                try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: h, inputWidth: 1, outputChannels: 1,
                                 kernelHeight: r, kernelWidth: 1, strideHeight: sh,
                                 padding: .explicit(Padding(top: pt, bottom: pb, left: 0, right: 0)),
                                 dilationHeight: dh)
            }
            switch made {
            case .success(let g):
                #expect(g.outputHeight == windows, "H \(h) R \(r) sh \(sh) dh \(dh) pad \(pt),\(pb)")
            case .failure(let e):
                #expect(windows == 0, "threw \(e) for H \(h) R \(r) sh \(sh) dh \(dh) pad \(pt),\(pb) with \(windows) windows")
                #expect(e == .kernelLargerThanPaddedInput(axis: "height", paddedInput: padded, dilatedKernel: reach))
            }
        } } } } }
    }

    @Test("Derived counts and FLOPs")
    func derived() throws {
        // N2 C4 8×6, K6 3×2, stride (2,1), pad (1,0,0,1), dilation (1,2), groups 2:
        // P = floor((8+1+0-2-1)/2)+1 = 4, Q = floor((6+0+1-2-1)/1)+1 = 5.
        let g = try ConvGeometry(n: 2, c: 4, h: 8, w: 6, k: 6, r: 3, s: 2, stride: (2, 1), pad: (1, 0, 0, 1),
                                 dilation: (1, 2), groups: 2)
        #expect(g.outputHeight == 4 && g.outputWidth == 5)
        #expect(g.inputCount == 2 * 4 * 8 * 6)
        #expect(g.filterCount == 6 * 2 * 3 * 2)
        #expect(g.outputCount == 2 * 6 * 4 * 5)
        #expect(g.biasCount == 6)
        #expect(g.forwardFLOPs == 2 * 2 * 6 * 4 * 5 * 2 * 3 * 2)
        #expect(g.backwardFLOPs == 2 * g.forwardFLOPs)
        #expect(g.inputChannelsPerGroup == 2 && g.outputChannelsPerGroup == 3)
        #expect(!g.isPointwise && !g.isDepthwise)
        let terms = ErrorBound.termCounts(g)
        #expect(terms.output == 2 * 3 * 2 + 1)
        #expect(terms.filterGradient == 2 * 4 * 5 && terms.biasGradient == 2 * 4 * 5)
        #expect(terms.inputGradient == 3 * 3 * 2)
    }

    @Test("'same' padding: P == H and Q == W at stride 1, with dilation; the odd extra goes bottom/right")
    func samePadding() throws {
        // (R, S, dh, dw) → expected (top, bottom, left, right); the total is d·(k-1), top/left = floor(total/2).
        let cases: [((Int, Int, Int, Int), Padding)] = [
            ((3, 3, 1, 1), Padding(top: 1, bottom: 1, left: 1, right: 1)),
            ((4, 2, 1, 1), Padding(top: 1, bottom: 2, left: 0, right: 1)),   // totals 3 and 1
            ((3, 2, 2, 3), Padding(top: 2, bottom: 2, left: 1, right: 2)),   // totals 4 and 3
            ((4, 5, 3, 1), Padding(top: 4, bottom: 5, left: 2, right: 2)),   // totals 9 and 4
            ((1, 1, 3, 2), Padding(0)),
            ((2, 2, 1, 1), Padding(top: 0, bottom: 1, left: 0, right: 1)),
        ]
        for ((r, s, dh, dw), expected) in cases {
            for (h, w) in [(1, 1), (5, 7), (12, 3)] {
                let g = try ConvGeometry(batch: 1, inputChannels: 2, inputHeight: h, inputWidth: w, outputChannels: 3,
                                         kernelHeight: r, kernelWidth: s, padding: .same,
                                         dilationHeight: dh, dilationWidth: dw)
                #expect(g.outputHeight == h && g.outputWidth == w, "same: \(g)")
                #expect(g.padding == expected, "same padding for \(r)×\(s) dilation (\(dh),\(dw))")
            }
        }
        #expect(Self.error { () throws(ConvError) in try Self.make(sh: 2, padding: .same) }
                == .samePaddingRequiresUnitStride(strideHeight: 2, strideWidth: 1))
        #expect(Self.error { () throws(ConvError) in try Self.make(sw: 3, padding: .same) }
                == .samePaddingRequiresUnitStride(strideHeight: 1, strideWidth: 3))
        // 'valid' is no padding; an integer literal pads every side.
        #expect(try Self.make(padding: .valid).padding == .zero)
        #expect(try Self.make(padding: 2).padding == Padding(top: 2, bottom: 2, left: 2, right: 2))
    }

    @Test("Counts that overflow Int throw sizeOverflow")
    func sizeOverflow() {
        func isOverflow(_ e: ConvError?) -> Bool { if case .sizeOverflow? = e { true } else { false } }
        // N·C·H·W = 2^40·2^10·2^8·2^8 = 2^66.
        let big = Self.error { () throws(ConvError) in
            try ConvGeometry(batch: 1 << 40, inputChannels: 1 << 10, inputHeight: 1 << 8, inputWidth: 1 << 8,
                             outputChannels: 1, kernelHeight: 1, kernelWidth: 1)
        }
        #expect(isOverflow(big), "input count: \(String(describing: big))")
        // Dilation·(R-1) overflows.
        let dilated = Self.error { () throws(ConvError) in try Self.make(h: 8, dh: Int.max) }
        #expect(isOverflow(dilated), "dilated kernel: \(String(describing: dilated))")
        // H + top + bottom overflows.
        let padded = Self.error { () throws(ConvError) in
            try Self.make(h: Int.max - 1, padding: .explicit(Padding(top: 1, bottom: 1, left: 0, right: 0)))
        }
        #expect(isOverflow(padded), "padded height: \(String(describing: padded))")
        // Output count N·K·P·Q overflows although the input count does not (1×1 kernel, huge padding).
        let output = Self.error { () throws(ConvError) in
            try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 1, inputWidth: 1, outputChannels: 1 << 20,
                             kernelHeight: 1, kernelWidth: 1,
                             padding: .explicit(Padding(top: 0, bottom: 1 << 30, left: 0, right: 1 << 30)))
        }
        #expect(isOverflow(output), "output count: \(String(describing: output))")
    }

    @Test("GEMM dimensions above Int32.max (without Int overflow) throw blasDimensionTooLarge")
    func blasDimensions() {
        func value(_ e: ConvError?) -> Int? { if case let .blasDimensionTooLarge(_, v)? = e { v } else { nil } }
        // C/G·R·S = 1·50,000·50,000 = 2.5e9 > 2^31 - 1: a 1×1 image padded up to the kernel (P = Q = 1), so no
        // other size of the lowering comes near a limit.
        let rows = Self.error { () throws(ConvError) in
            try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 1, inputWidth: 1, outputChannels: 1,
                             kernelHeight: 50_000, kernelWidth: 50_000,
                             padding: .explicit(Padding(top: 49_999, bottom: 0, left: 49_999, right: 0)))
        }
        #expect(value(rows).map { $0 > Int(Int32.max) } == true, "C/G·R·S: \(String(describing: rows))")
        // C/G itself above Int32.max.
        let channels = Self.error { () throws(ConvError) in
            try ConvGeometry(batch: 1, inputChannels: 1 << 31, inputHeight: 1, inputWidth: 1, outputChannels: 1,
                             kernelHeight: 1, kernelWidth: 1)
        }
        #expect(value(channels) == 1 << 31, "C/G: \(String(describing: channels))")
        // P·Q above Int32.max with a 1×1 kernel: 65,536 × 65,536 = 2^32.
        let pixels = Self.error { () throws(ConvError) in
            try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 1 << 16, inputWidth: 1 << 16, outputChannels: 1,
                             kernelHeight: 1, kernelWidth: 1)
        }
        #expect(value(pixels).map { $0 > Int(Int32.max) } == true, "P·Q: \(String(describing: pixels))")
        // Just below the limit is accepted: C/G·R·S = 46,340² = 2,147,395,600 ≤ 2^31 - 1.
        #expect(throws: Never.self) {
            let g = try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 1, inputWidth: 1, outputChannels: 1,
                                     kernelHeight: 46_340, kernelWidth: 46_340,
                                     padding: .explicit(Padding(top: 46_339, bottom: 0, left: 46_339, right: 0)))
            #expect(g.columnRows == 2_147_395_600 && g.outputHeight == 1 && g.outputWidth == 1)
        }
    }

    @Test("ConvError descriptions name the field and its value")
    func descriptions() {
        #expect(ConvError.nonPositive(field: "batch", value: 0).description.contains("batch"))
        #expect(ConvError.bufferLength(name: "filter", expected: 4, actual: 3).description.contains("filter"))
        #expect(ConvError.kernelLargerThanPaddedInput(axis: "height", paddedInput: 1, dilatedKernel: 2)
                .description.contains("2"))
        // Each buffer's name once, in a sentence (it read "output buffer output overlaps input").
        #expect(ConvError.overlappingBuffers(output: "output", other: "input").description
                == "output shares memory with input: an output buffer must not overlap any other buffer")
        #expect(ConvError.overlappingBuffers(output: "filterGradient", other: "workspace").description
                .hasPrefix("filterGradient shares memory with workspace"))
    }
}
