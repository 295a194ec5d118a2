// The member names of a zip archive, read only to say what the archive is when one is given where a `.npy`
// file was expected (NPYError.zipArchive). Not a zip reader: nothing is extracted, and any inconsistency
// just ends the list. Every offset read from the data is checked against its length before it is used.
//
//   end of central directory (22 bytes + comment, at the end): "PK\x05\x06", …, +10 entry count (UInt16),
//     +16 offset of the central directory (UInt32)
//   central directory entry: "PK\x01\x02", …, +28 name length, +30 extra length, +32 comment length
//     (UInt16 each), +46 the name
//   local file header (at offset 0 in a zip that starts with a member): "PK\x03\x04", …, +26 name length,
//     +28 extra length, +30 the name
//
// (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT, sections 4.3.7, 4.3.12 and 4.3.16.)

enum ZipMembers {
    /// The first four bytes of a zip archive that starts with a member (`PK\x03\x04`) or is empty (`PK\x05\x06`).
    static func isZip(_ raw: UnsafeRawBufferPointer) -> Bool {
        guard raw.count >= 4, raw[0] == 0x50, raw[1] == 0x4B else { return false }
        return (raw[2] == 0x03 && raw[3] == 0x04) || (raw[2] == 0x05 && raw[3] == 0x06)
    }

    /// The names of the first `limit` members: from the central directory when it can be found, else the
    /// first local header's name alone (a truncated archive), else none.
    static func names(_ raw: UnsafeRawBufferPointer, limit: Int = 16) -> [String] {
        let fromDirectory = centralDirectoryNames(raw, limit: limit)
        if !fromDirectory.isEmpty { return fromDirectory }
        if let first = name(raw, at: 0, signature: 0x0403_4B50, lengthAt: 26, extraAt: 28, nameAt: 30) {
            return [first.name]
        }
        return []
    }

    private static func centralDirectoryNames(_ raw: UnsafeRawBufferPointer, limit: Int) -> [String] {
        guard let end = endOfCentralDirectory(raw) else { return [] }
        let count = Int(uint16(raw, end + 10)), start = Int(uint32(raw, end + 16))
        var names: [String] = []
        var offset = start
        while names.count < min(count, limit),
              let entry = name(raw, at: offset, signature: 0x0201_4B50, lengthAt: 28, extraAt: 30, nameAt: 46) {
            names.append(entry.name)
            offset = entry.end + Int(uint16(raw, offset + 32))  // past the comment
        }
        return names
    }

    /// The offset of the end-of-central-directory record: the last `PK\x05\x06` within the last 22 + 65,535
    /// bytes (the record's size plus the longest comment).
    private static func endOfCentralDirectory(_ raw: UnsafeRawBufferPointer) -> Int? {
        guard raw.count >= 22 else { return nil }
        var offset = raw.count - 22
        let lowest = max(0, raw.count - 22 - 65_535)
        while offset >= lowest {
            if uint32(raw, offset) == 0x0605_4B50 { return offset }
            offset -= 1
        }
        return nil
    }

    /// The name of the header with `signature` at `offset`, and the offset just past its name and extra field;
    /// nil if the header or its name does not fit in `raw`.
    private static func name(_ raw: UnsafeRawBufferPointer, at offset: Int, signature: UInt32, lengthAt: Int,
                             extraAt: Int, nameAt: Int) -> (name: String, end: Int)? {
        guard offset >= 0, offset <= raw.count - nameAt, uint32(raw, offset) == signature else { return nil }
        let nameLength = Int(uint16(raw, offset + lengthAt)), extraLength = Int(uint16(raw, offset + extraAt))
        let nameStart = offset + nameAt
        guard nameLength <= raw.count - nameStart else { return nil }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: raw[nameStart..<nameStart + nameLength]),
                          as: UTF8.self)
        return (name, nameStart + nameLength + extraLength)
    }

    // Little-endian integers; the callers checked that the bytes are there (offset + 2 or 4 ≤ raw.count).
    private static func uint16(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        offset >= 0 && offset + 2 <= raw.count ? UInt16(raw[offset]) | UInt16(raw[offset + 1]) << 8 : 0
    }

    private static func uint32(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        guard offset >= 0, offset + 4 <= raw.count else { return 0 }
        return UInt32(uint16(raw, offset)) | UInt32(uint16(raw, offset + 2)) << 16
    }
}
