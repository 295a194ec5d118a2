// Overflow-checked size arithmetic. Sizes derived from caller input go through these so that an
// overflow becomes a thrown `ConvError.sizeOverflow` instead of a trap.

internal func checkedProduct(_ factors: Int..., quantity: @autoclosure () -> String) throws(ConvError) -> Int {
    var result = 1
    for f in factors {
        let (p, overflow) = result.multipliedReportingOverflow(by: f)
        if overflow { throw .sizeOverflow(quantity: quantity()) }
        result = p
    }
    return result
}

internal func checkedSum(_ terms: Int..., quantity: @autoclosure () -> String) throws(ConvError) -> Int {
    var result = 0
    for t in terms {
        let (s, overflow) = result.addingReportingOverflow(t)
        if overflow { throw .sizeOverflow(quantity: quantity()) }
        result = s
    }
    return result
}
