// Writing a zip archive (the record layouts are in ZipRecords.swift): each member's local header and data in
// order, then the central directory and the end record. Never zip64: a size, offset or count that needs it is
// refused with NPYError.archiveTooLarge rather than written wrongly. Timestamps are the zip epoch
// (1980-01-01 00:00), as numpy.savez writes them, so the same arrays always give the same bytes.

struct ZipWriter {
    /// Version 2.0 of the format: what stored and deflated members without zip64 need.
    private static let version: UInt16 = 20
    /// "Made by" Unix (the high byte 3), so `external` holds Unix permissions that unzip restores.
    private static let madeBy: UInt16 = 3 << 8 | version
    /// A regular file, rw-r--r--, in the high 16 bits.
    private static let externalAttributes: UInt32 = 0o100644 << 16
    /// 1980-01-01 in MS-DOS date format (day 1, month 1, year 1980 + 0); the time is 00:00:00.
    private static let dosDate: UInt16 = 1 << 5 | 1

    private var output: [UInt8] = []
    private var directory: [UInt8] = []
    private var entryCount = 0

    /// Appends a member. `data` is `contents` as stored (`method` 0) or deflated (`method` 8); `crc` and
    /// `uncompressedSize` describe `contents` before compression.
    /// - Throws: ``NPYError/archiveTooLarge(reason:)`` if the name, the sizes, the offset or the member count
    ///   do not fit the 16- and 32-bit fields.
    mutating func append(name: String, method: UInt16, crc: UInt32, uncompressedSize: Int,
                         data: [UInt8]) throws(NPYError) {
        let nameBytes = Array(name.utf8)
        guard nameBytes.count <= Int(UInt16.max) else {
            throw .archiveTooLarge(reason: "the member name '\(name.prefix(40))…' is \(nameBytes.count) bytes, "
                                   + "more than the 65,535 a zip archive allows")
        }
        // 0xFFFF and 0xFFFFFFFF themselves would mean "see zip64".
        guard entryCount < Int(UInt16.max) - 1 else {
            throw .archiveTooLarge(reason: "more than \(Int(UInt16.max) - 2) members need zip64, which is not written")
        }
        let limit = Int(UInt32.max) - 1
        for (what, value) in [("uncompressed size", uncompressedSize), ("compressed size", data.count),
                              ("offset", output.count)] where value > limit {
            throw .archiveTooLarge(reason: "the \(what) of '\(name)', \(value) bytes, needs zip64, which is not written")
        }
        let flags: UInt16 = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : ZipDirectory.utf8Flag
        let offset = output.count
        // The fields from version needed to the extra length, shared by both headers.
        var common: [UInt8] = []
        Self.put(Self.version, flags, method, 0 /* time */, Self.dosDate, into: &common)
        Self.put32(crc, UInt32(data.count), UInt32(uncompressedSize), into: &common)
        Self.put(UInt16(nameBytes.count), 0 /* extra length */, into: &common)

        Self.put32(ZipSignature.localHeader, into: &output)
        output += common
        output += nameBytes
        output += data

        Self.put32(ZipSignature.centralEntry, into: &directory)
        Self.put(Self.madeBy, into: &directory)
        directory += common
        Self.put(0 /* comment length */, 0 /* disk */, 0 /* internal attributes */, into: &directory)
        Self.put32(Self.externalAttributes, UInt32(offset), into: &directory)
        directory += nameBytes
        entryCount += 1
    }

    /// The finished archive.
    /// - Throws: ``NPYError/archiveTooLarge(reason:)`` if the directory's size or offset needs zip64.
    consuming func bytes() throws(NPYError) -> [UInt8] {
        let limit = Int(UInt32.max) - 1
        guard directory.count <= limit, output.count <= limit else {
            throw .archiveTooLarge(reason: "a central directory of \(directory.count) bytes at offset \(output.count) "
                                   + "needs zip64, which is not written")
        }
        let directoryOffset = UInt32(output.count), directorySize = UInt32(directory.count)
        output += directory
        Self.put32(ZipSignature.end, into: &output)
        Self.put(0 /* disk */, 0 /* directory's disk */, UInt16(entryCount), UInt16(entryCount), into: &output)
        Self.put32(directorySize, directoryOffset, into: &output)
        Self.put(0 /* comment length */, into: &output)
        return output
    }

    private static func put(_ values: UInt16..., into out: inout [UInt8]) {
        for v in values { out += [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)] }
    }

    private static func put32(_ values: UInt32..., into out: inout [UInt8]) {
        for v in values { put(UInt16(truncatingIfNeeded: v), UInt16(truncatingIfNeeded: v >> 16), into: &out) }
    }
}
