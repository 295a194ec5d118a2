// MATH.md's element-wise bound (ErrorBound) and the suite's comparison helper built on it: if either let
// everything through, every comparison in the suite would pass vacuously, so both are held to hand values
// and to known failures here.
import Testing
import ConvEngine

@Suite("Error bound and comparison helper")
struct ErrorBoundTests {
    @Test("bound = c·L·(ε·Σ|terms| + η)")
    func bound() {
        // c = 3, L = 10, Σ|terms| = 2 in Double: 30·(2·2⁻⁵² + η).
        #expect(ErrorBound.bound(terms: 10, magnitude: 2, scalar: Double.self)
                == 30 * (2 * 0x1p-52 + Double.leastNonzeroMagnitude))
        // Float: ε = 2⁻²³, η = 2⁻¹⁴⁹; c = 2 given explicitly.
        #expect(ErrorBound.bound(terms: 4, magnitude: 8, scalar: Float.self, constant: 2)
                == 8 * (8 * 0x1p-23 + 0x1p-149))
        #expect(ErrorBound.defaultConstant >= 2 && ErrorBound.defaultConstant <= 4)
    }

    @Test("fraction: |value - reference| / bound, with NaN and infinity rules")
    func fraction() {
        let b = ErrorBound.bound(terms: 1, magnitude: 1, scalar: Float.self)
        #expect(ErrorBound.fraction(value: 1.5, reference: 1, terms: 1, magnitude: 1, scalar: Float.self) == 0.5 / b)
        #expect(ErrorBound.fraction(value: 1.5, reference: 1, terms: 1, magnitude: 1, scalar: Float.self) > 1)
        // Half a Float ulp of 1 with one term is well inside the bound.
        #expect(ErrorBound.fraction(value: 1 + 0x1p-24, reference: 1, terms: 1, magnitude: 1, scalar: Float.self) < 1)
        // The same difference is far outside the Double bound.
        #expect(ErrorBound.fraction(value: 1 + 0x1p-24, reference: 1, terms: 1, magnitude: 1, scalar: Double.self) > 1)
        #expect(ErrorBound.fraction(value: 3, reference: 3, terms: 5, magnitude: 0, scalar: Double.self) == 0)
        #expect(ErrorBound.fraction(value: .nan, reference: .nan, terms: 1, magnitude: 1, scalar: Double.self) == 0)
        #expect(ErrorBound.fraction(value: .nan, reference: 1, terms: 1, magnitude: 1, scalar: Double.self) == .infinity)
        #expect(ErrorBound.fraction(value: 1, reference: .nan, terms: 1, magnitude: 1, scalar: Double.self) == .infinity)
        #expect(ErrorBound.fraction(value: .infinity, reference: .infinity, terms: 1, magnitude: 1, scalar: Double.self) == 0)
        #expect(ErrorBound.fraction(value: -.infinity, reference: .infinity, terms: 1, magnitude: 1, scalar: Double.self) == .infinity)
        #expect(ErrorBound.fraction(value: 1e300, reference: .infinity, terms: 1, magnitude: 1, scalar: Double.self) == .infinity)
        // A result that cancels to ~0 is judged against Σ|terms|, not against the tiny result.
        #expect(ErrorBound.fraction(value: 1e-17, reference: 0, terms: 2, magnitude: 2, scalar: Double.self) < 1)
    }

    @Test("checkWithinBound records a failing element, and passes agreeing ones")
    func helperFails() throws {
        let g = try ConvGeometry(n: 1, c: 1, h: 2, w: 2, k: 1, r: 1, s: 1)
        let context = CheckContext(seed: 1, geometry: g, plan: "test", scalar: "Double")
        let reference: [Double] = [1, 2, 3, 4], magnitudes: [Double] = [1, 2, 3, 4]
        #expect(checkWithinBound(reference, reference: reference, magnitudes: magnitudes, terms: 1, tensor: "O",
                                 shape: g.outputShape, context: context) == 0)
        withKnownIssue("one element off by 1e-6 ≫ bound") {
            let worst = checkWithinBound([1, 2, 3 + 1e-6, 4], reference: reference, magnitudes: magnitudes, terms: 1,
                                         tensor: "O", shape: g.outputShape, context: context)
            #expect(worst > 1)
        }
        withKnownIssue("NaN where the reference is finite") {
            _ = checkWithinBound([1, .nan, 3, 4], reference: reference, magnitudes: magnitudes, terms: 1,
                                 tensor: "O", shape: g.outputShape, context: context)
        }
        withKnownIssue("wrong length") {
            _ = checkWithinBound([1, 2, 3], reference: reference, magnitudes: magnitudes, terms: 1,
                                 tensor: "O", shape: g.outputShape, context: context)
        }
        withKnownIssue("bitwise helper") { expectBitIdentical([Float(1), 2], [1, 2.0000002], "test") }
        #expect(multiIndex(23, shape: [2, 3, 4]) == [1, 2, 3])
    }
}
