// Every way a dataset can be wrong, each naming the file, the line and what was expected,
// so a user can fix the input without reading our code.

public enum DataError: Error, CustomStringConvertible, Equatable {
    case fileMissing(path: String, hint: String)
    case unreadable(path: String, reason: String)
    case emptyFile(path: String)
    case unknownFormat(path: String, expected: String)
    case missingColumn(file: String, column: String, found: [String])
    case malformedLine(file: String, line: Int, expected: String, found: String)
    case badTimestamp(file: String, line: Int, value: String)
    case implausibleTimestamp(file: String, line: Int, value: String, expected: String)
    case emptyTitle(file: String, line: Int, item: String)
    case untitledItem(file: String, line: Int, item: String, itemsFile: String)
    case badOption(String)
    case noSamples(String)

    public var description: String {
        switch self {
        case .fileMissing(let path, let hint):
            return "\(path): file not found. \(hint)"
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .emptyFile(let path):
            return "\(path): the file is empty"
        case .unknownFormat(let path, let expected):
            return "\(path): cannot tell the data format; expected \(expected). Pass --format to name it."
        case .missingColumn(let file, let column, let found):
            return "\(file): line 1: no column '\(column)' in the header; found \(found.map { "'\($0)'" }.joined(separator: ", "))"
        case .malformedLine(let file, let line, let expected, let found):
            return "\(file): line \(line): expected \(expected), found \(quoteExcerpt(found))"
        case .badTimestamp(let file, let line, let value):
            return "\(file): line \(line): timestamp \(quoteExcerpt(value)) does not parse; expected seconds since 1970 (integer or decimal) or an ISO 8601 date such as 2014-05-01 or 2014-05-01T10:00:00Z"
        case .implausibleTimestamp(let file, let line, let value, let expected):
            return "\(file): line \(line): timestamp \(quoteExcerpt(value)) is not \(expected); a damaged field, or a unit mistake such as milliseconds for seconds"
        case .emptyTitle(let file, let line, let item):
            return "\(file): line \(line): item '\(item)' has an empty title; fix the file, or pass --drop-untitled to drop such items and their interactions"
        case .untitledItem(let file, let line, let item, let itemsFile):
            return "\(file): line \(line): item '\(item)' has no title in \(itemsFile); pass --drop-untitled to drop items without titles and their interactions"
        case .badOption(let message):
            return message
        case .noSamples(let message):
            return message
        }
    }
}

/// A short, visible rendering of offending text for error messages.
func quoteExcerpt(_ s: String) -> String {
    let shown = s.count > 80 ? String(s.prefix(80)) + "…" : s
    return "\"" + shown.replacingOccurrences(of: "\t", with: "\\t").replacingOccurrences(of: "\r", with: "\\r") + "\""
}

/// A short reason for a JSON decoding failure, naming the key where there is one.
public func jsonProblem(_ error: Error) -> String {
    switch error {
    case DecodingError.typeMismatch(let type, let context):
        return "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' is not a \(type)"
    case DecodingError.valueNotFound(_, let context):
        return "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' is null"
    case DecodingError.keyNotFound(let key, _):
        return "no key '\(key.stringValue)'"
    default:
        return "invalid JSON"
    }
}
