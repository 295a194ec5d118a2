/// The version of the ConvEngine library, following Semantic Versioning (see CHANGELOG.md).
///
/// (Not named `ConvEngineVersion`: the symbol-graph tool drops every symbol whose name starts with the
/// module's name followed by `Version`, so such a type would be missing from the documentation.)
public enum LibraryVersion {
    /// The version as text, `"major.minor.patch"`.
    public static let string = "0.1.0"
    /// The major version: incompatible API changes increase it (while it is 0, any minor version may).
    public static let major = 0
    /// The minor version: backward-compatible features increase it.
    public static let minor = 1
    /// The patch version: backward-compatible fixes increase it.
    public static let patch = 0
}
