// The value of the .npz IO: named arrays in order, as numpy.savez writes them and numpy.load returns them.
import Foundation

/// A NumPy `.npz` archive: named ``NPYArray``s in a fixed order, as `numpy.savez(path, w=w, b=b)` and
/// `numpy.savez_compressed` write them and `numpy.load(path)` reads them — so a set of weights (a model's
/// `state_dict`) moves between Swift, NumPy and PyTorch in one file.
///
/// An `.npz` file is a zip archive whose members are `.npy` files named `NAME.npy`; the array's name is
/// `NAME` (a member whose name does not end in `.npy` is exposed under its whole name, as `numpy.load` does).
/// Reading accepts stored and deflate-compressed members, with or without zip64 fields (NumPy always writes a
/// zip64 extra field in each local header), checks every member's CRC-32, and throws an ``NPYError`` naming the
/// problem for anything else: it never traps on malformed input, and decompression is bounded by each member's
/// declared size and by a maximum for the whole archive. Writing produces an archive `numpy.load` reads.
///
/// ```swift
/// import ConvEngineNPY
/// import Foundation   // URL
///
/// var archive = NPZArchive()
/// archive["weight"] = try NPYArray(shape: [32, 1, 3, 3], scalars: weight)
/// archive["bias"] = try NPYArray(shape: [32], scalars: bias)
/// try archive.write(to: URL(fileURLWithPath: "conv1.npz"))       // numpy.load("conv1.npz")["weight"]
///
/// let loaded = try NPZArchive(contentsOf: URL(fileURLWithPath: "conv1.npz"))
/// let w: [Float] = loaded["weight"]?.scalars() ?? []
/// ```
public struct NPZArchive: Sendable {
    /// The array names in archive order: the order they were added in, or the members' order in a file read.
    public private(set) var names: [String] = []
    private var arrays: [String: NPYArray] = [:]

    /// The largest total uncompressed size, in bytes, of an archive's members that reading accepts unless told
    /// otherwise: 4 GiB. It bounds the memory a small crafted archive (a "zip bomb") can make a reader allocate;
    /// pass a larger `maximumSize` to a reading initialiser for larger archives.
    public static let defaultMaximumSize = 1 << 32

    /// An empty archive.
    public init() {}

    /// The array named `name`, or nil if there is none. Setting an array under a new name appends it to
    /// ``names``; setting one under an existing name replaces it in place; setting nil removes it.
    public subscript(name: String) -> NPYArray? {
        get { arrays[name] }
        set {
            if let newValue {
                if arrays.updateValue(newValue, forKey: name) == nil { names.append(name) }
            } else if arrays.removeValue(forKey: name) != nil {
                names.removeAll { $0 == name }
            }
        }
    }

    /// The number of arrays.
    public var count: Int { names.count }
}
