#!/usr/bin/env python3
"""Copies docs/RESULTS.md's main table into README.md between the results-table markers.

Run after `llmrec report docs/study/ml-1m --out docs/RESULTS.md`; CommittedStudyTests checks
the two tables agree.
"""
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parents[2]


def line_starting(lines, prefix, file):
    """The index of the first line that starts with prefix; exits naming the file if none does."""
    for i, line in enumerate(lines):
        if line.startswith(prefix):
            return i
    sys.exit(f"{file}: no line starts with '{prefix}'")


report = (root / "docs/RESULTS.md").read_text(encoding="utf-8").split("\n")
start = line_starting(report, "| row | windows | NDCG@5", "docs/RESULTS.md")
table = []
for line in report[start:]:
    if not line.startswith("|"):
        break
    table.append(line)

readme_path = root / "README.md"
readme = readme_path.read_text(encoding="utf-8").split("\n")
open_at = line_starting(readme, "<!-- results-table", "README.md")
close_at = line_starting(readme, "<!-- /results-table", "README.md")
if close_at < open_at:
    sys.exit("README.md: the results-table markers are out of order")
readme[open_at + 1:close_at] = table
tmp = readme_path.with_suffix(".md.tmp")
tmp.write_text("\n".join(readme), encoding="utf-8")
tmp.replace(readme_path)
print(f"README.md: {len(table) - 2} rows copied from docs/RESULTS.md")
