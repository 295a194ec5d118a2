// The records of a zip archive (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT), read field by
// field with every offset checked against the data's length first, so no input can make a read go out of
// bounds. Both the `.npz` reader (ZipDirectory, NPZArchive+Reading) and the lenient listing of member names for
// NPYError.zipArchive (ZipMembers) parse records only here. All integers are little-endian.
//
//   local file header (4.3.7): "PK\x03\x04", +4 version needed, +6 flags, +8 method, +10 time, +12 date,
//     +14 CRC-32, +18 compressed size, +22 uncompressed size (UInt32 each), +26 name length, +28 extra length,
//     +30 the name, then the extra field, then the member's data
//   central directory entry (4.3.12): "PK\x01\x02", +4 version made by, +6 version needed, +8 flags,
//     +10 method, +12 time, +14 date, +16 CRC-32, +20 compressed size, +24 uncompressed size, +28 name length,
//     +30 extra length, +32 comment length, +34 disk number, +36 internal attributes, +38 external attributes,
//     +42 offset of the local header, +46 the name, extra field and comment
//   zip64 end of central directory record (4.3.14): "PK\x06\x06", +4 its size (UInt64), +16 disk number,
//     +20 disk with the directory (UInt32 each), +24 entries on this disk, +32 entries, +40 directory size,
//     +48 directory offset (UInt64 each)
//   zip64 end of central directory locator (4.3.15), just before the end record: "PK\x06\x07", +4 disk with
//     the zip64 record (UInt32), +8 its offset (UInt64), +16 number of disks (UInt32)
//   end of central directory record (4.3.16), at the end: "PK\x05\x06", +4 disk number, +6 disk with the
//     directory, +8 entries on this disk, +10 entries, +12 directory size (UInt32), +16 directory offset
//     (UInt32), +20 comment length, +22 the comment
//
// A 32-bit size or offset of 0xFFFFFFFF (a 16-bit count of 0xFFFF) means "see the zip64 record or extra field".

/// Little-endian fields of a byte buffer; each read returns nil unless the whole field lies inside the buffer.
struct ByteFields {
    let raw: UnsafeRawBufferPointer

    var count: Int { raw.count }

    /// True when `offset ..< offset + length` lies inside the buffer (checked without overflow).
    func contains(_ offset: Int, length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= raw.count && length <= raw.count - offset
    }

    func uint16(_ offset: Int) -> UInt16? {
        guard contains(offset, length: 2) else { return nil }
        return UInt16(raw[offset]) | UInt16(raw[offset + 1]) << 8
    }

    func uint32(_ offset: Int) -> UInt32? {
        guard let low = uint16(offset), let high = uint16(offset + 2) else { return nil }
        return UInt32(low) | UInt32(high) << 16
    }

    func uint64(_ offset: Int) -> UInt64? {
        guard let low = uint32(offset), let high = uint32(offset + 4) else { return nil }
        return UInt64(low) | UInt64(high) << 32
    }

    /// The first `length` bytes (all of them if there are fewer; none for a negative length).
    func prefix(_ length: Int) -> ByteFields {
        ByteFields(raw: UnsafeRawBufferPointer(rebasing: raw[0..<max(0, min(length, raw.count))]))
    }

    /// The bytes at `offset ..< offset + length`, or nil if they do not all lie inside the buffer.
    func bytes(_ offset: Int, length: Int) -> UnsafeRawBufferPointer? {
        guard contains(offset, length: length) else { return nil }
        return UnsafeRawBufferPointer(rebasing: raw[offset..<offset + length])
    }
}

/// The signatures that open each record.
enum ZipSignature {
    static let localHeader: UInt32 = 0x0403_4B50
    static let centralEntry: UInt32 = 0x0201_4B50
    static let zip64End: UInt32 = 0x0606_4B50
    static let zip64Locator: UInt32 = 0x0706_4B50
    static let end: UInt32 = 0x0605_4B50
}

/// The end of central directory record, as stored (32-bit fields not yet replaced by zip64 values).
struct ZipEndRecord {
    static let size = 22
    /// Where the record starts.
    var offset: Int
    var diskNumber: UInt16
    var directoryDisk: UInt16
    var entriesOnDisk: UInt16
    var entryCount: UInt16
    var directorySize: UInt32
    var directoryOffset: UInt32

    /// The last record whose comment fits in the data, searched for within the last 22 + 65,535 bytes (the
    /// record's size plus the longest comment); nil if there is none, so the data is no zip archive.
    static func find(in fields: ByteFields) -> ZipEndRecord? {
        guard fields.count >= size else { return nil }
        var offset = fields.count - size
        let lowest = max(0, fields.count - size - Int(UInt16.max))
        while offset >= lowest {
            // Safe: offset + 22 ≤ count, so every field below is present.
            if fields.uint32(offset) == ZipSignature.end, let comment = fields.uint16(offset + 20),
               Int(comment) <= fields.count - offset - size {
                return ZipEndRecord(offset: offset, diskNumber: fields.uint16(offset + 4)!,
                                    directoryDisk: fields.uint16(offset + 6)!, entriesOnDisk: fields.uint16(offset + 8)!,
                                    entryCount: fields.uint16(offset + 10)!, directorySize: fields.uint32(offset + 12)!,
                                    directoryOffset: fields.uint32(offset + 16)!)
            }
            offset -= 1
        }
        return nil
    }
}

/// The zip64 end of central directory record, found through the locator just before the end record.
struct ZipEnd64Record {
    static let size = 56
    static let locatorSize = 20
    var offset: Int
    var diskNumber: UInt32
    var directoryDisk: UInt32
    var entriesOnDisk: UInt64
    var entryCount: UInt64
    var directorySize: UInt64
    var directoryOffset: UInt64

    /// The record the locator before `end` points to; nil if there is no locator (no zip64 record).
    /// - Throws: ``NPYError/truncatedArchive(part:needed:available:)`` or ``NPYError/badSignature(part:offset:)``
    ///   when a locator is there but its record is not.
    static func find(in fields: ByteFields, before end: ZipEndRecord) throws(NPYError) -> ZipEnd64Record? {
        let locator = end.offset - locatorSize
        guard locator >= 0, fields.uint32(locator) == ZipSignature.zip64Locator else { return nil }
        // Safe: the locator lies between 0 and the end record, inside the data.
        let recordOffset = fields.uint64(locator + 8)!
        guard let offset = Int(exactly: recordOffset), offset <= locator - size else {
            throw .malformedArchive(reason: "the zip64 locator points to offset \(recordOffset), which leaves no room "
                                    + "for the zip64 end of central directory record before the locator at \(locator)")
        }
        guard fields.uint32(offset) == ZipSignature.zip64End else {
            throw .badSignature(part: "zip64 end of central directory record", offset: offset)
        }
        return ZipEnd64Record(offset: offset, diskNumber: fields.uint32(offset + 16)!,
                              directoryDisk: fields.uint32(offset + 20)!, entriesOnDisk: fields.uint64(offset + 24)!,
                              entryCount: fields.uint64(offset + 32)!, directorySize: fields.uint64(offset + 40)!,
                              directoryOffset: fields.uint64(offset + 48)!)
    }
}

/// One central directory entry as stored.
struct ZipCentralRecord {
    static let fixedSize = 46
    var flags: UInt16
    var method: UInt16
    var crc: UInt32
    var compressedSize: UInt32
    var uncompressedSize: UInt32
    var localHeaderOffset: UInt32
    var name: UnsafeRawBufferPointer
    var extra: UnsafeRawBufferPointer
    /// The offset just past the entry (its comment included), where the next one starts.
    var end: Int

    /// The entry at `offset`, which must end at or before `limit`.
    /// - Throws: ``NPYError/badSignature(part:offset:)`` or ``NPYError/truncatedArchive(part:needed:available:)``
    ///   naming the entry by its `index` (0-based).
    static func read(_ fields: ByteFields, at offset: Int, index: Int, limit: Int) throws(NPYError) -> ZipCentralRecord {
        let part = "central directory entry \(index)"
        let bounded = fields.prefix(limit)
        guard bounded.contains(offset, length: fixedSize) else {
            throw .truncatedArchive(part: part, needed: offset.addingReportingOverflow(fixedSize).partialValue,
                                    available: bounded.count)
        }
        guard bounded.uint32(offset) == ZipSignature.centralEntry else { throw .badSignature(part: part, offset: offset) }
        // Safe: the 46 fixed bytes are inside `bounded`.
        let nameLength = Int(bounded.uint16(offset + 28)!), extraLength = Int(bounded.uint16(offset + 30)!)
        let commentLength = Int(bounded.uint16(offset + 32)!)
        let nameStart = offset + fixedSize, extraStart = nameStart + nameLength  // Safe: at most offset + 46 + 2 · 65,535.
        let end = extraStart + extraLength + commentLength
        guard let name = bounded.bytes(nameStart, length: nameLength),
              let extra = bounded.bytes(extraStart, length: extraLength), end <= bounded.count else {
            throw .truncatedArchive(part: part, needed: end, available: bounded.count)
        }
        return ZipCentralRecord(flags: bounded.uint16(offset + 8)!, method: bounded.uint16(offset + 10)!,
                                crc: bounded.uint32(offset + 16)!, compressedSize: bounded.uint32(offset + 20)!,
                                uncompressedSize: bounded.uint32(offset + 24)!,
                                localHeaderOffset: bounded.uint32(offset + 42)!, name: name, extra: extra, end: end)
    }
}

/// A local file header as stored: what the reader needs is its name and where the member's data starts.
struct ZipLocalRecord {
    static let fixedSize = 30
    var name: UnsafeRawBufferPointer
    /// Where the member's (compressed) data starts: just past the name and the extra field.
    var dataStart: Int

    /// The header at `offset`.
    /// - Throws: ``NPYError/badSignature(part:offset:)`` or ``NPYError/truncatedArchive(part:needed:available:)``
    ///   naming the member.
    static func read(_ fields: ByteFields, at offset: Int, member: String) throws(NPYError) -> ZipLocalRecord {
        let part = "local header of '\(member)'"
        guard fields.contains(offset, length: fixedSize) else {
            throw .truncatedArchive(part: part, needed: offset.addingReportingOverflow(fixedSize).partialValue,
                                    available: fields.count)
        }
        guard fields.uint32(offset) == ZipSignature.localHeader else { throw .badSignature(part: part, offset: offset) }
        // Safe: the 30 fixed bytes are inside the data.
        let nameLength = Int(fields.uint16(offset + 26)!), extraLength = Int(fields.uint16(offset + 28)!)
        let nameStart = offset + fixedSize, dataStart = nameStart + nameLength + extraLength
        guard let name = fields.bytes(nameStart, length: nameLength), dataStart <= fields.count else {
            throw .truncatedArchive(part: part, needed: dataStart, available: fields.count)
        }
        return ZipLocalRecord(name: name, dataStart: dataStart)
    }

    /// The name in a header at `offset`, without any error: for the lenient listing of a truncated archive.
    static func name(_ fields: ByteFields, at offset: Int) -> UnsafeRawBufferPointer? {
        guard fields.uint32(offset) == ZipSignature.localHeader, let length = fields.uint16(offset + 26) else { return nil }
        return fields.bytes(offset + fixedSize, length: Int(length))
    }
}
