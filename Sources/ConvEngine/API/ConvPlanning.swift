/// How an engine without a forced algorithm picks the algorithm for a geometry: by the documented rule, or
/// by timing the candidates on this machine the first time it sees the geometry (as cuDNN's benchmark mode
/// or oneDNN's and FFTW's measured planning do).
///
/// Measured planning runs, once per geometry and element type, every algorithm that can run the geometry and
/// that the engine's ``ConvNumerics`` allows, on scratch tensors of the geometry's size filled with a fixed
/// pseudo-random pattern: one untimed call, then three timed ones, keeping the fastest time. The winner is
/// cached in the engine (shared by its copies, safe to use from any number of threads; a second thread
/// planning the same geometry waits for the first's measurement) and used for every later call. The first
/// call therefore costs several calls' time and the scratch tensors' memory; a candidate whose workspace is
/// over ``ConvolutionEngine/workspaceLimit`` is skipped. ``ConvolutionEngine/measuredTimings(for:scalar:)``
/// returns what was measured.
///
/// Measured plans can differ between machines and between runs on a loaded machine; the rule's cannot.
public enum ConvPlanning: String, Hashable, Sendable, CaseIterable {
    /// The rule of ``ConvolutionEngine/plan(for:scalar:)-(ConvGeometry,_)``: nothing measured, the same plan everywhere.
    case rule
    /// The fastest forward pass (inference).
    case measureForward
    /// The fastest forward pass plus backward pass with all three gradients (a training step).
    case measureTraining
}
