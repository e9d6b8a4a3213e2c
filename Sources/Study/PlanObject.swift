// One JSON object of a study plan being read strictly: members handed out by key, every key read
// remembered, the rest an error naming its line; typed reads of strings, numbers, whole numbers,
// choices, booleans and arrays, each failing with the file, the line and what was expected.
import Foundation
import Support

/// One JSON object being read: hands out members by key, remembers which were read, and
/// rejects the rest.
struct PlanObject {
    let file: String
    let line: Int
    let context: String
    let members: [JSONMember]
    private(set) var used = Set<String>()

    init(_ node: JSONNode, file: String, context: String) throws {
        guard case .object(let m) = node.value else {
            throw StudyError.plan(file: file, line: node.line, message: "\(context) must be a JSON object")
        }
        self.file = file
        self.line = node.line
        self.context = context
        members = m
    }

    func fail(_ line: Int, _ message: String) -> StudyError {
        .plan(file: file, line: line, message: "\(context): \(message)")
    }

    mutating func member(_ key: String) -> JSONMember? {
        used.insert(key)
        return members.first { $0.key == key }
    }

    mutating func required(_ key: String) throws -> JSONMember {
        guard let m = member(key) else { throw fail(line, "the key '\(key)' is missing") }
        return m
    }

    func has(_ key: String) -> Bool { members.contains { $0.key == key } }

    /// Every key not read is an error naming it, its line and the keys this object takes.
    func finish(known: [String]) throws {
        if let extra = members.first(where: { !used.contains($0.key) }) {
            throw fail(extra.line, "unknown key '\(extra.key)' (known: \(known.joined(separator: ", ")))")
        }
    }

    func string(_ m: JSONMember) throws -> String {
        guard case .string(let s) = m.node.value else { throw fail(m.line, "'\(m.key)' must be a string") }
        return s
    }

    func number(_ m: JSONMember) throws -> Double {
        guard case .number(let x) = m.node.value else { throw fail(m.line, "'\(m.key)' must be a number") }
        return x
    }

    func integer(_ m: JSONMember, min: Int) throws -> Int {
        let x = try number(m)
        guard x == x.rounded(), abs(x) < 1e15 else { throw fail(m.line, "'\(m.key)' must be a whole number, got \(x)") }
        guard Int(x) >= min else { throw fail(m.line, "'\(m.key)' must be at least \(min), got \(Int(x))") }
        return Int(x)
    }

    /// One of an enumeration's raw values, naming the values allowed when it is none of them.
    func choice<E: RawRepresentable & CaseIterable>(_ m: JSONMember, _ type: E.Type, what: String) throws -> E where E.RawValue == String {
        let text = try string(m)
        guard let value = E(rawValue: text) else {
            throw fail(m.line, "unknown \(what) '\(text)' (one of: \(E.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return value
    }

    func bool(_ m: JSONMember) throws -> Bool {
        guard case .bool(let b) = m.node.value else { throw fail(m.line, "'\(m.key)' must be true or false") }
        return b
    }

    func array(_ m: JSONMember) throws -> [JSONNode] {
        guard case .array(let a) = m.node.value else { throw fail(m.line, "'\(m.key)' must be an array") }
        return a
    }

    func strings(_ m: JSONMember) throws -> [String] {
        try array(m).map { node in
            guard case .string(let s) = node.value else { throw fail(node.line, "'\(m.key)' must hold strings") }
            return s
        }
    }

    func integers(_ m: JSONMember, min: Int) throws -> [Int] {
        try array(m).map { node in
            guard case .number(let x) = node.value, x == x.rounded(), x >= Double(min), x < 1e15 else {
                throw fail(node.line, "'\(m.key)' must hold whole numbers of at least \(min)")
            }
            return Int(x)
        }
    }
}
