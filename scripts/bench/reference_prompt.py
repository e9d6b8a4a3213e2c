"""The prompt and responses of a prepared dataset directory, written out in Python for the
reference (PyTorch/transformers) sides of the benchmarks and fixtures — the same text that
llmrec's PromptTemplate renders (RecData/PromptTemplate.swift)."""
import json
import os


class PreparedDataset:
    def __init__(self, directory):
        self.vocabulary = json.load(open(os.path.join(directory, "dataset.json")))["prompt"]["vocabulary"]
        self.titles = [json.loads(l)["title"] for l in open(os.path.join(directory, "catalog.jsonl"))]
        self.directory = directory

    def samples(self, split):
        return [json.loads(l) for l in open(os.path.join(self.directory, f"{split}.jsonl"))]

    def prompt(self, history):
        v = self.vocabulary
        quoted = ", ".join(f'"{self.titles[h]}"' for h in history)
        return ("Below is an instruction that describes a task, paired with an input that provides further context. "
                "Write a response that appropriately completes the request.\n\n### Instruction:\n"
                f"Given a list of {v['plural']} the user has {v['verb']} before, please recommend a new {v['noun']} that the user likes to the user.\n\n"
                f"### Input:\nThe user has {v['verb']} the following {v['plural']} before: {quoted}\n\n### Response:\n")

    @staticmethod
    def response(title):
        return f'"{title}"'
