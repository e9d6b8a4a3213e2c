#!/usr/bin/env python3
"""Brings a GPU machine's study results (scripts/device/study.sh run) into the study directory here.

usage: scripts/device/study_merge.py TARBALL [--study docs/study/ml-1m] [--runs RUNS] [--sasrec-state FILE]
                                     [--other-study-running]

Only whole arms come in: an arm trained there and evaluated with every decoder the plan gives it
(its weights never travel back, so an arm evaluated in part could not be finished here), the
zero-shot floor with every decoder, and external results (SASRec) with their metrics. A whole arm
there replaces an unfinished one here (stop `llmrec study run` here first: the script refuses
while one runs); finished arms here are left alone. results/machines.json gains the machines it
lacks. The popularity floor and the power check are not merged: they run first, here.
With --runs, SASRec's per-epoch state (--sasrec-state, from the same call's $OUT) replaces the
one here when SASRec's results are still missing, so a CPU can go on where the GPU stopped; and
runs of merged arms begun here are named, since they are superseded (remove them to free space).
Nothing is half-written: each arm is copied into a temporary directory, then renamed.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile


def whole(results, name, decoders, trained):
    arm = os.path.join(results, name)
    if trained and not os.path.exists(os.path.join(arm, "training.json")):
        return False
    return all(os.path.exists(os.path.join(arm, f"{d}.json")) and os.path.exists(os.path.join(arm, f"{d}.tsv")) for d in decoders)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tarball", help="study-results.tar.gz from the device call's $OUT")
    ap.add_argument("--study", default="docs/study/ml-1m", help="the study directory here")
    ap.add_argument("--runs", help="the study's runs directory here")
    ap.add_argument("--sasrec-state", help="sasrec-state.pt from the same call's $OUT")
    ap.add_argument("--other-study-running", action="store_true",
                    help="merge although `llmrec study run` runs here (when it is another study's)")
    args = ap.parse_args()
    if args.sasrec_state and not os.path.exists(args.sasrec_state):
        sys.exit(f"study_merge: {args.sasrec_state} does not exist (leave --sasrec-state out when the call brought none)")
    running = subprocess.run(["pgrep", "-f", "llmrec study run"], capture_output=True, text=True).stdout.split()
    if running and not args.other_study_running:
        sys.exit(f"study_merge: `llmrec study run` is running here (pid {', '.join(running)}); stop it first, since it may write the arms being merged")

    plan = json.load(open(os.path.join(args.study, "plan.json"), encoding="utf-8"))
    arms = {a["name"]: (a["decoders"], True) for a in plan["arms"]}
    zero_shot = plan.get("floors", {}).get("zero_shot", [])
    if zero_shot:
        arms["zero-shot"] = (zero_shot, False)
    for e in plan.get("external", []):
        arms[e["name"]] = (["full-ranking"], False)
    results = os.path.join(args.study, "results")

    with tempfile.TemporaryDirectory(dir=args.study) as tmp:
        with tarfile.open(args.tarball) as t:
            t.extractall(tmp, filter="data")
        theirs = os.path.join(tmp, "results")
        if json.load(open(os.path.join(tmp, "plan.json"))) != plan:
            sys.exit(f"study_merge: {args.tarball} holds another plan than {args.study}/plan.json; merge it by hand or not at all")
        if json.load(open(os.path.join(theirs, "study.json"))) != json.load(open(os.path.join(results, "study.json"))):
            sys.exit(f"study_merge: {args.tarball} holds another study (results/study.json differs)")
        merged = []
        for name, (decoders, trained) in arms.items():
            if not os.path.isdir(os.path.join(theirs, name)):
                continue
            if os.path.isdir(os.path.join(results, name)) and whole(results, name, decoders, trained):
                continue
            if not whole(theirs, name, decoders, trained):
                print(f"not merged: {name} is not finished there (its weights stay on that machine)")
                continue
            staging = os.path.join(results, f".{name}.merging")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(os.path.join(theirs, name), staging)
            if os.path.isdir(os.path.join(results, name)):
                # An unfinished arm here (a training under way): the finished one replaces it.
                old = os.path.join(results, f".{name}.replaced")
                shutil.rmtree(old, ignore_errors=True)
                os.rename(os.path.join(results, name), old)
                os.rename(staging, os.path.join(results, name))
                shutil.rmtree(old)
                print(f"replaced the unfinished results of {name} here with the finished ones")
            else:
                os.rename(staging, os.path.join(results, name))
            merged.append(name)
            if args.runs and os.path.isdir(os.path.join(args.runs, name)):
                superseded = os.path.join(args.runs, f"{name}.superseded")
                shutil.rmtree(superseded, ignore_errors=True)
                os.rename(os.path.join(args.runs, name), superseded)
                print(f"note: the run of {name} begun here is superseded and moved to {superseded}; remove it to free space")
        machines_path = os.path.join(results, "machines.json")
        mine = json.load(open(machines_path)) if os.path.exists(machines_path) else []
        added = [m for m in json.load(open(os.path.join(theirs, "machines.json"))) if m not in mine]
        if added:
            with open(machines_path + ".tmp", "w", encoding="utf-8") as f:
                json.dump(mine + added, f, indent=2, sort_keys=True)
                f.write("\n")
            os.replace(machines_path + ".tmp", machines_path)
    if args.runs and args.sasrec_state and not os.path.exists(os.path.join(results, "sasrec", "full-ranking.json")):
        target = os.path.join(args.runs, "sasrec", "state.pt")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        kept = ""
        if os.path.exists(target):
            shutil.copy2(target, target + ".before-merge")
            kept = " (the previous one kept as state.pt.before-merge)"
        shutil.copy2(args.sasrec_state, target + ".tmp")
        os.replace(target + ".tmp", target)
        print(f"SASRec's state from the GPU is now {target}{kept}")
    print(f"merged: {', '.join(merged) if merged else 'nothing'}; machines added: {len(added)}")
    if merged:
        print(f"next: llmrec report {args.study} --out docs/RESULTS.md, look at the figures, commit results and report together")


if __name__ == "__main__":
    sys.exit(main())
