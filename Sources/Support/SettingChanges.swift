// How a stored configuration differs from a new one, setting by setting: both are encoded as
// JSON and flattened to dotted keys (`lora.rank`), so that a refusal can name each setting.
import Foundation

/// The settings `a` and `b` differ in, sorted by key, with each side's value ("unset" where one
/// lacks the key). `encode` is how the type is written to disk (key style included).
public func settingChanges<T>(_ a: T, _ b: T, encode: (T) throws -> Data) -> [(key: String, before: String, after: String)] {
    func flat(_ value: T) -> [String: String] {
        guard let data = try? encode(value), let object = try? JSONSerialization.jsonObject(with: data) else { return [:] }
        var out: [String: String] = [:]
        func walk(_ prefix: String, _ v: Any) {
            if let d = v as? [String: Any] {
                for (k, x) in d { walk(prefix.isEmpty ? k : "\(prefix).\(k)", x) }
            } else {
                out[prefix] = "\(v)"
            }
        }
        walk("", object)
        return out
    }
    let fa = flat(a), fb = flat(b)
    return Set(fa.keys).union(fb.keys).sorted().compactMap { k in
        fa[k] == fb[k] ? nil : (k, fa[k] ?? "unset", fb[k] ?? "unset")
    }
}
