// Writing an .npz archive: each array as the .npy file numpy.save would write, in a member named NAME.npy,
// stored (numpy.savez) or deflated (numpy.savez_compressed).
import Foundation

extension NPZArchive {
    /// The `.npz` file of the arrays in ``names`` order, each in a member `NAME.npy` holding exactly what
    /// ``NPYArray/npyBytes()`` gives, deflated at zlib's default level when `compressed` (as
    /// `numpy.savez_compressed`), stored otherwise (as `numpy.savez`). The same arrays always give the same bytes
    /// (every timestamp is 1980-01-01 00:00, as NumPy's). `numpy.load` reads the result.
    ///
    /// - Throws: as ``NPYArray/npyBytes()``; ``NPYError/archiveTooLarge(reason:)`` for an archive that would need
    ///   zip64 (a member or the whole archive of 4 GiB or more, or 65,534 members or more), which is not written;
    ///   ``NPYError/zlibFailed(function:status:)`` if zlib fails (only when out of memory).
    public func npzBytes(compressed: Bool = true) throws(NPYError) -> [UInt8] {
        var writer = ZipWriter()
        for name in names {
            // Safe: every name in `names` has an array (the subscript keeps both in step).
            let npy = try self[name]!.npyBytes()
            let crc = npy.withUnsafeBytes { Zlib.crc32($0) }
            let data = compressed ? try Zlib.deflate(npy) : npy
            try writer.append(name: name + ".npy", method: compressed ? 8 : 0, crc: crc, uncompressedSize: npy.count,
                              data: data)
        }
        return try writer.bytes()
    }

    /// Writes the archive to an `.npz` file (replacing any file there, atomically).
    /// - Throws: as ``npzBytes(compressed:)``, and ``NPYError/fileSystem(path:reason:)`` if the file cannot be
    ///   written.
    public func write(to url: URL, compressed: Bool = true) throws(NPYError) {
        try FileBytes.write(try npzBytes(compressed: compressed), to: url)
    }
}
