// The central directory of a zip archive, checked: where it is (the end record, or the zip64 record when a
// locator precedes the end record), that it lies inside the archive, and each entry's name, flags and sizes with
// the zip64 extra field's values in place of the 32-bit fields that defer to it. Single-disk archives only, and
// no prepended data (a self-extracting stub): offsets are from the start of the data, as Python's zipfile,
// and so numpy.savez, writes them.

/// One member as the central directory describes it, sizes and offset already taken from zip64 where needed.
struct ZipEntry {
    /// The member's file name (for `numpy.savez`, the array's name with `.npy` appended).
    var name: String
    /// The name's bytes, compared with the local header's.
    var nameBytes: [UInt8]
    /// 0 stored, 8 deflated; others are rejected when the member is read.
    var method: UInt16
    var crc: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var localHeaderOffset: Int
}

enum ZipDirectory {
    /// General purpose flag bit 0: the member is encrypted.
    static let encryptedFlag: UInt16 = 1
    /// General purpose flag bit 11: the name is UTF-8 (Python's zipfile sets it for non-ASCII names).
    static let utf8Flag: UInt16 = 1 << 11
    /// The header ID of the zip64 extended information extra field.
    static let zip64ExtraID: UInt16 = 0x0001

    /// The entries of the archive in `raw`, in directory order.
    ///
    /// - Throws: ``NPYError/notZipArchive(found:)`` when no end record is found; otherwise a
    ///   ``NPYError/malformedArchive(reason:)``, ``NPYError/truncatedArchive(part:needed:available:)``,
    ///   ``NPYError/badSignature(part:offset:)`` or ``NPYError/encryptedMember(_:)`` naming the problem.
    static func entries(_ raw: UnsafeRawBufferPointer) throws(NPYError) -> [ZipEntry] {
        let fields = ByteFields(raw: raw)
        guard let end = ZipEndRecord.find(in: fields) else { throw .notZipArchive(found: Array(raw.prefix(8))) }
        var diskNumber = UInt64(end.diskNumber), directoryDisk = UInt64(end.directoryDisk)
        var entriesOnDisk = UInt64(end.entriesOnDisk), entryCount = UInt64(end.entryCount)
        var directorySize = UInt64(end.directorySize), directoryOffset = UInt64(end.directoryOffset)
        var directoryLimit = end.offset  // The directory ends before the record that follows it.
        if let end64 = try ZipEnd64Record.find(in: fields, before: end) {
            diskNumber = UInt64(end64.diskNumber); directoryDisk = UInt64(end64.directoryDisk)
            entriesOnDisk = end64.entriesOnDisk; entryCount = end64.entryCount
            directorySize = end64.directorySize; directoryOffset = end64.directoryOffset
            directoryLimit = end64.offset
        }
        guard diskNumber == 0, directoryDisk == 0, entriesOnDisk == entryCount else {
            throw .malformedArchive(reason: "the archive spans several disks (disk \(diskNumber), directory on disk "
                                    + "\(directoryDisk), \(entriesOnDisk) of \(entryCount) entries on this disk)")
        }
        guard let start = Int(exactly: directoryOffset), let size = Int(exactly: directorySize),
              size <= directoryLimit, start <= directoryLimit - size else {
            throw .malformedArchive(reason: "the central directory (\(directorySize) bytes at offset \(directoryOffset)) "
                                    + "does not end before the end of central directory record at \(directoryLimit)")
        }
        // Each entry takes at least 46 bytes, which also bounds the array reserved below.
        guard entryCount <= UInt64(size / ZipCentralRecord.fixedSize) else {
            throw .malformedArchive(reason: "\(entryCount) entries cannot fit in a central directory of \(size) bytes")
        }
        var entries: [ZipEntry] = []
        entries.reserveCapacity(Int(entryCount))
        var offset = start
        for index in 0..<Int(entryCount) {
            let record = try ZipCentralRecord.read(fields, at: offset, index: index, limit: start + size)
            entries.append(try entry(record, index: index))
            offset = record.end
        }
        return entries
    }

    /// The checked entry of one record.
    private static func entry(_ record: ZipCentralRecord, index: Int) throws(NPYError) -> ZipEntry {
        let nameBytes = Array(record.name)
        guard let name = String(validating: nameBytes, as: UTF8.self) else {
            throw .malformedArchive(reason: "the name of central directory entry \(index) is not UTF-8 text")
        }
        if record.flags & encryptedFlag != 0 { throw .encryptedMember(name) }
        var zip64 = Zip64Values(try zip64Field(record.extra, member: name), member: name)
        let uncompressed = try zip64.value(replacing: record.uncompressedSize, "uncompressed size")
        let compressed = try zip64.value(replacing: record.compressedSize, "compressed size")
        let localOffset = try zip64.value(replacing: record.localHeaderOffset, "local header offset")
        guard let uncompressedSize = Int(exactly: uncompressed), let compressedSize = Int(exactly: compressed),
              let localHeaderOffset = Int(exactly: localOffset) else {
            throw .malformedArchive(reason: "'\(name)' has a size or offset (\(uncompressed), \(compressed), \(localOffset)) "
                                    + "larger than Int")
        }
        return ZipEntry(name: name, nameBytes: nameBytes, method: record.method, crc: record.crc,
                        compressedSize: compressedSize, uncompressedSize: uncompressedSize,
                        localHeaderOffset: localHeaderOffset)
    }

    /// The data of the zip64 extra field among the extra fields (header ID, data size, data; repeated), or
    /// nil if there is none.
    private static func zip64Field(_ extra: UnsafeRawBufferPointer, member: String) throws(NPYError) -> ByteFields? {
        let fields = ByteFields(raw: extra)
        var offset = 0
        while offset < fields.count {
            guard let id = fields.uint16(offset), let length = fields.uint16(offset + 2),
                  let data = fields.bytes(offset + 4, length: Int(length)) else {
                throw .malformedArchive(reason: "the extra field of '\(member)' in the central directory has a "
                                        + "block that runs past its end at byte \(offset)")
            }
            if id == zip64ExtraID { return ByteFields(raw: data) }
            offset += 4 + Int(length)
        }
        return nil
    }

    /// The 64-bit values of a zip64 extra field, taken in order for each 32-bit field that is 0xFFFFFFFF.
    private struct Zip64Values {
        let fields: ByteFields?
        let member: String
        var offset = 0

        init(_ fields: ByteFields?, member: String) {
            self.fields = fields
            self.member = member
        }

        mutating func value(replacing stored: UInt32, _ what: String) throws(NPYError) -> UInt64 {
            stored == UInt32.max ? try next(what) : UInt64(stored)
        }

        mutating func next(_ what: String) throws(NPYError) -> UInt64 {
            guard let value = fields?.uint64(offset) else {
                throw .malformedArchive(reason: "the \(what) of '\(member)' is deferred to a zip64 extra field, "
                                        + (fields == nil ? "but there is none" : "but the field is too short"))
            }
            offset += 8
            return value
        }
    }
}
