// The member names of a zip archive, read only to say what the archive is when one is given where a `.npy`
// file was expected (NPYError.zipArchive). Lenient where NPZArchive is strict: nothing is extracted or checked,
// and any inconsistency just ends the list. The records are parsed by ZipRecords.swift, as for NPZArchive.

enum ZipMembers {
    /// The first four bytes of a zip archive that starts with a member (`PK\x03\x04`) or is empty (`PK\x05\x06`).
    static func isZip(_ raw: UnsafeRawBufferPointer) -> Bool {
        let signature = ByteFields(raw: raw).uint32(0)
        return signature == ZipSignature.localHeader || signature == ZipSignature.end
    }

    /// The names of the first `limit` members: from the central directory when it can be found, else the
    /// first local header's name alone (a truncated archive), else none.
    static func names(_ raw: UnsafeRawBufferPointer, limit: Int = 16) -> [String] {
        let fields = ByteFields(raw: raw)
        let fromDirectory = centralDirectoryNames(fields, limit: limit)
        if !fromDirectory.isEmpty { return fromDirectory }
        if let first = ZipLocalRecord.name(fields, at: 0) { return [String(decoding: first, as: UTF8.self)] }
        return []
    }

    private static func centralDirectoryNames(_ fields: ByteFields, limit: Int) -> [String] {
        guard let end = ZipEndRecord.find(in: fields) else { return [] }
        var names: [String] = []
        var offset = Int(end.directoryOffset)
        while names.count < min(Int(end.entryCount), limit),
              let entry = try? ZipCentralRecord.read(fields, at: offset, index: names.count, limit: fields.count) {
            names.append(String(decoding: entry.name, as: UTF8.self))
            offset = entry.end
        }
        return names
    }
}
