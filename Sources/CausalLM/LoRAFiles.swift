// LoRA adapters on disk in PEFT's format, so adapters move between llmrec and PEFT both ways:
//   adapter_config.json        r, lora_alpha, lora_dropout, target_modules (and PEFT's other
//                              fields, which must keep their plain-LoRA values)
//   adapter_model.safetensors  base_model.model.model.layers.{l}.{module}.lora_{A,B}.weight
import Foundation
import ModelFormats

extension LoRATarget {
    /// Target modules from names ("q_proj,v_proj") or "all-linear" (PEFT's spelling for every linear
    /// layer but the output head). A name the model lacks is an error listing the ones it has.
    public static func parse(_ names: [String], source: String = "--lora-targets") throws -> [LoRATarget] {
        if names == ["all-linear"] { return allCases }
        return try names.map { name in
            guard let t = LoRATarget(rawValue: name) else {
                throw LoRAError.invalid("\(source): the model has no linear layer '\(name)' that LoRA can adapt; "
                    + "it has \(allCases.map(\.rawValue).joined(separator: ", ")) (or all-linear)")
            }
            return t
        }
    }
}

extension LoRAAdapter {
    /// Reads a PEFT LoRA adapter made for a model with `config`.
    public convenience init(peftDirectory dir: URL, config: ModelConfig) throws {
        let configURL = dir.appendingPathComponent("adapter_config.json")
        let file = configURL.path
        guard let data = try? Data(contentsOf: configURL) else { throw LoRAError.badAdapterFile(file, "cannot read the file") }
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw LoRAError.badAdapterFile(file, "not a JSON object")
        }
        guard (json["peft_type"] as? String) == "LORA" else {
            throw LoRAError.badAdapterFile(file, "peft_type is \(json["peft_type"] ?? "missing"); expected LORA")
        }
        guard let rank = json["r"] as? Int, let alpha = (json["lora_alpha"] as? NSNumber)?.doubleValue else {
            throw LoRAError.badAdapterFile(file, "r and lora_alpha must be numbers")
        }
        // Variants of LoRA we do not compute: refuse them rather than load something else.
        let plain: [(String, (Any?) -> Bool)] = [
            ("use_rslora", { ($0 as? Bool) != true }), ("use_dora", { ($0 as? Bool) != true }),
            ("fan_in_fan_out", { ($0 as? Bool) != true }), ("bias", { $0 == nil || ($0 as? String) == "none" }),
            ("rank_pattern", { ($0 as? [String: Any])?.isEmpty ?? true }), ("alpha_pattern", { ($0 as? [String: Any])?.isEmpty ?? true }),
            ("layers_to_transform", { $0 == nil || $0 is NSNull }), ("modules_to_save", { $0 == nil || $0 is NSNull || ($0 as? [Any])?.isEmpty == true }),
        ]
        for (key, ok) in plain where !ok(json[key]) {
            throw LoRAError.badAdapterFile(file, "\(key) = \(json[key]!) is not supported; llmrec reads plain LoRA adapters")
        }
        let names: [String]
        if let list = json["target_modules"] as? [String] { names = list } else if let one = json["target_modules"] as? String { names = [one] } else {
            throw LoRAError.badAdapterFile(file, "target_modules must be a list of module names")
        }
        // PEFT stores target_modules as a set: use our fixed order, so the layout does not depend on the file.
        let targets = try LoRATarget.parse(names, source: "\(file): target_modules")
        let ordered = LoRATarget.allCases.filter(targets.contains)
        let settings = LoRASettings(rank: rank, alpha: alpha, dropout: (json["lora_dropout"] as? NSNumber)?.doubleValue ?? 0, targets: ordered)
        try self.init(settings: settings, config: config, seed: 0)

        let weightsPath = dir.appendingPathComponent("adapter_model.safetensors").path
        let tensors = try Safetensors.read(path: weightsPath)
        let expected = peftNames()
        for (name, slot) in expected {
            guard let t = tensors[name] else {
                throw LoRAError.badAdapterFile(weightsPath, "tensor '\(name)' is missing (the model has \(config.layers) layers)")
            }
            guard t.shape == slot.shape else {
                throw LoRAError.badAdapterFile(weightsPath, "tensor '\(name)' has shape \(t.shape); expected \(slot.shape) for this model")
            }
            t.read(into: parameters.view(slot))
        }
        let known = Set(expected.map(\.name))
        if let extra = tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw LoRAError.badAdapterFile(weightsPath, "tensor '\(extra)' belongs to no adapted layer of this model")
        }
    }

    /// Writes the adapter as PEFT's `save_pretrained` would: loadable with PeftModel.from_pretrained.
    public func save(peftDirectory dir: URL, baseModel: String) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let entries = peftNames().map { SafetensorsEntry(name: $0.name, shape: $0.slot.shape, data: parameters.view($0.slot)) }
        try Safetensors.write(entries, to: dir.appendingPathComponent("adapter_model.safetensors"))
        let alpha: Any = settings.alpha == settings.alpha.rounded() ? Int(settings.alpha) : settings.alpha
        let config: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": baseModel,
            "r": settings.rank, "lora_alpha": alpha, "lora_dropout": settings.dropout,
            "target_modules": settings.targets.map(\.rawValue), "bias": "none", "fan_in_fan_out": false,
            "inference_mode": true, "init_lora_weights": true, "use_rslora": false, "use_dora": false,
            "modules_to_save": NSNull(), "layers_to_transform": NSNull(), "layers_pattern": NSNull(),
            "rank_pattern": [String: Any](), "alpha_pattern": [String: Any](), "revision": NSNull(),
        ]
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: dir.appendingPathComponent("adapter_config.json"), options: .atomic)
    }
}
