/// The workspace regions of one pass: what every algorithm's layout provides to the engine.
protocol WorkspaceLayout {
    /// Elements of workspace the pass needs (the end of its last region).
    var total: Int { get }
}

/// A region of the workspace: one block per worker slot (`perWorker` elements each, consecutive) or one
/// shared block (`workers` 1). Empty regions have size 0 and may be addressed but never dereferenced.
struct WorkspaceRegion: Hashable {
    /// Elements from the workspace's start to the region's.
    var offset = 0
    /// Elements of each worker's block.
    var perWorker = 0

    /// The block of worker slot `w`.
    @inline(__always)
    func at<T>(_ workspace: UnsafeMutablePointer<T>, worker w: Int = 0) -> UnsafeMutablePointer<T> {
        workspace + offset + w * perWorker
    }

    /// Whether the region holds no elements.
    var isEmpty: Bool { perWorker == 0 }
}

/// Lays regions out one after another, with every size and offset overflow-checked, so that no pointer
/// arithmetic inside the workspace can overflow later.
struct WorkspaceLayoutBuilder {
    /// Worker slots of the per-worker regions.
    let workers: Int
    /// Elements laid out so far.
    private(set) var total = 0

    init(workers: Int) { self.workers = workers }

    /// A region of `count` elements for each worker slot (`count` 0: an empty region).
    mutating func perWorker(_ count: Int, _ quantity: @autoclosure () -> String) throws(ConvError) -> WorkspaceRegion {
        let size = try checkedProduct(workers, count, quantity: "\(quantity()) (all workers)")
        return try place(size, perWorker: count, quantity())
    }

    /// One region of `count` elements shared by the whole call.
    mutating func shared(_ count: Int, _ quantity: @autoclosure () -> String) throws(ConvError) -> WorkspaceRegion {
        try place(count, perWorker: count, quantity())
    }

    private mutating func place(_ size: Int, perWorker: Int, _ quantity: String) throws(ConvError) -> WorkspaceRegion {
        if size < 0 { throw .sizeOverflow(quantity: quantity) }
        if size == 0 { return WorkspaceRegion(offset: total, perWorker: 0) }
        let region = WorkspaceRegion(offset: total, perWorker: perWorker)
        total = try checkedSum(total, size, quantity: "workspace (\(quantity))")
        return region
    }
}
