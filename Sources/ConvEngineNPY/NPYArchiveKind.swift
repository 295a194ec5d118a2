// What a zip archive given to the .npy reader most likely is, from the names of its members: the two
// zip files a NumPy or PyTorch user is most likely to pass by mistake are `numpy.savez`'s `.npz` and
// `torch.save`'s file, and each needs a different remedy.

/// The kind of zip archive found where a `.npy` file was expected (see ``NPYError/zipArchive(kind:members:)``).
public enum NPYArchiveKind: Sendable, Equatable, CustomStringConvertible {
    /// A NumPy `.npz` archive (`numpy.savez` or `numpy.savez_compressed`): every member is a `.npy` file.
    case npz
    /// A PyTorch file written by `torch.save` (a zip archive with a pickled `data.pkl` member).
    case torchSave
    /// Any other zip archive.
    case other

    /// Classifies an archive by the names of its members: `torchSave` if one is `data.pkl` (at the top or in
    /// a folder, as `torch.save` writes `<name>/data.pkl`), `npz` if there are members and every one ends in
    /// `.npy`, otherwise `other`.
    public init(members: [String]) {
        if members.contains(where: { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }) {
            self = .torchSave
        } else if !members.isEmpty, members.allSatisfy({ $0.hasSuffix(".npy") }) {
            self = .npz
        } else {
            self = .other
        }
    }

    /// `.npz archive`, `torch.save file` or `zip archive`.
    public var description: String {
        switch self {
        case .npz: return ".npz archive"
        case .torchSave: return "torch.save file"
        case .other: return "zip archive"
        }
    }
}
