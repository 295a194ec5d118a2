// The header of a .npy file is a Python dictionary literal, read by NumPy with `ast.literal_eval`.
// This parser accepts the subset such headers use — a dict with quoted string keys whose values are
// strings, True/False/None, integers, tuples and lists — with Python's whitespace and trailing-comma rules,
// and reports everything else as `NPYError.malformedHeader` with the character offset. Nesting is limited
// so a hostile header cannot exhaust the stack.
//
// Parsing is linear in the header's length: one forward pass over the decoded scalars by integer index,
// each token copied once, and duplicate keys found through a hash set (a search of the keys seen so far made
// a header of 80,000 keys take tens of seconds). Readers also cap the header's size
// (`NPYArray.defaultMaximumHeaderSize`) before it gets here.

struct HeaderParser {
    /// A parsed Python literal.
    enum Value: Equatable {
        case string(String)
        case bool(Bool)
        case none
        /// An integer; `nil` when it does not fit in `Int`.
        case int(Int?)
        /// A number that is not an integer (`3.0`, `1e3`).
        case float(String)
        case tuple([Value])
        case list([Value])

        /// How error messages name the value.
        var kind: String {
            switch self {
            case .string(let s): return "the string '\(s)'"
            case .bool(let b): return b ? "True" : "False"
            case .none: return "None"
            case .int(let v?): return "the integer \(v)"
            case .int(nil): return "an integer too large for Int"
            case .float(let s): return "the number \(s)"
            case .tuple: return "a tuple"
            case .list: return "a list"
            }
        }
    }

    static let maximumDepth = 8

    let text: [Unicode.Scalar]
    var position = 0

    init(_ text: [Unicode.Scalar]) {
        self.text = text
    }

    private var current: Unicode.Scalar? { position < text.count ? text[position] : nil }

    private func failure(_ reason: String) -> NPYError {
        .malformedHeader(reason: current == nil ? reason + " (the header ends here)" : reason, offset: position)
    }

    private mutating func skipWhitespace() {
        while let c = current, c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" { position += 1 }
    }

    /// The whole header: one dictionary, then only whitespace. Keys in order of appearance.
    mutating func parseHeader() throws(NPYError) -> [(key: String, value: Value)] {
        skipWhitespace()
        guard current == "{" else { throw failure("expected '{' to open the header dictionary") }
        position += 1
        var entries: [(key: String, value: Value)] = []
        var seenKeys: Set<String> = []
        entries: while true {
            skipWhitespace()
            if current == "}" { position += 1; break }
            guard current == "'" || current == "\"" else {
                throw failure(entries.isEmpty ? "expected a quoted key or '}'" : "expected a quoted key or '}' after ','")
            }
            let key = try parseString()
            skipWhitespace()
            guard current == ":" else { throw failure("expected ':' after the key '\(key)'") }
            position += 1
            skipWhitespace()
            let value = try parseValue(depth: 1)
            if !seenKeys.insert(key).inserted { throw .duplicateKey(key) }
            entries.append((key, value))
            skipWhitespace()
            switch current {
            case ",": position += 1
            case "}": position += 1; break entries
            default: throw failure("expected ',' or '}' after the value of '\(key)'")
            }
        }
        skipWhitespace()
        if current != nil { throw failure("unexpected text after the header dictionary") }
        return entries
    }

    private mutating func parseValue(depth: Int) throws(NPYError) -> Value {
        guard let c = current else { throw failure("expected a value") }
        switch c {
        case "'", "\"":
            return .string(try parseString())
        case "(":
            return try parseSequence(close: ")", depth: depth)
        case "[":
            return try parseSequence(close: "]", depth: depth)
        case "0"..."9", "-", "+", ".":
            return try parseNumber()
        case "A"..."Z", "a"..."z", "_":
            let start = position
            while let c = current, c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" { position += 1 }
            let name = String(String.UnicodeScalarView(text[start..<position]))
            switch name {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default:
                position = start
                throw failure("unknown name '\(name)' (expected a string, True, False, None, a number or a tuple)")
            }
        default:
            throw failure("expected a value, found '\(Character(c))'")
        }
    }

    /// A quoted string without escapes (NumPy's headers never need one).
    private mutating func parseString() throws(NPYError) -> String {
        let quote = text[position]  // Safe: called only when `current` is a quote.
        let start = position
        position += 1
        var scalars = String.UnicodeScalarView()
        while let c = current, c != quote {
            if c == "\\" { throw failure("escape sequences in strings are not supported") }
            if c == "\n" || c == "\r" { position = start; throw failure("unterminated string") }
            scalars.append(c)
            position += 1
        }
        guard current == quote else { position = start; throw failure("unterminated string") }
        position += 1
        return String(scalars)
    }

    /// `(a, b)`, `(a,)`, `()` — and `(a)`, which in Python is `a` itself — or a list `[a, b]`.
    private mutating func parseSequence(close: Unicode.Scalar, depth: Int) throws(NPYError) -> Value {
        guard depth < HeaderParser.maximumDepth else { throw failure("values nested too deeply") }
        let isTuple = close == ")"
        position += 1
        var items: [Value] = []
        var sawComma = false
        while true {
            skipWhitespace()
            if current == close { position += 1; break }
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if current == "," {
                sawComma = true
                position += 1
            } else if current == close {
                position += 1
                break
            } else {
                throw failure("expected ',' or '\(Character(close))'")
            }
        }
        if isTuple && items.count == 1 && !sawComma { return items[0] }  // Parentheses around one value.
        return isTuple ? .tuple(items) : .list(items)
    }

    /// An integer (optionally signed), or a token that is a number but not an integer.
    private mutating func parseNumber() throws(NPYError) -> Value {
        let start = position
        var negative = false
        if current == "-" || current == "+" {
            negative = current == "-"
            position += 1
            skipWhitespace()
        }
        let digitsStart = position
        while let c = current,
              ("0"..."9").contains(c) || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "." || c == "_"
              || ((c == "-" || c == "+") && position > digitsStart && (text[position - 1] == "e" || text[position - 1] == "E")) {
            position += 1
        }
        let token = String(String.UnicodeScalarView(text[digitsStart..<position]))
        if !token.isEmpty, token.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) {
            var value = 0
            var fits = true
            for d in token.unicodeScalars {
                let digit = Int(d.value - 48)
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
                if o1 || o2 { fits = false; break }
                value = s
            }
            return .int(fits ? value : nil)
        }
        let decimal = token.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || "._eE+-".unicodeScalars.contains($0) }
        if !token.isEmpty, decimal, !token.contains("_"), Double(token) != nil {
            return .float((negative ? "-" : "") + token)
        }
        let written = String(String.UnicodeScalarView(text[start..<position]))
        position = start
        throw failure("invalid number '\(written)'")
    }
}
