"""``python -m benchmarks [--smoke] [--json PATH] [--only G1,G7] [--markdown]``.

Runs every benchmark module in its own fresh interpreter and prints one table:
id, what, ours, peer, unit, ratio (ours / peer), target, pass/FAIL (info for a row without a target). ``--json``
writes the same, keyed by id, each ``{"ours", "peer", "unit", "ratio", "target", …}``.
``--smoke`` runs everything with tiny counts (the test suite does, so the
benchmarks never rot); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import MODULES
from benchmarks._loopback import ROOT
from benchmarks._report import Result, machine, meets, result, table, unavailable

#: The ids each of our modules reports, for --only; other modules run unless --only excludes all ids.
KNOWN_IDS = {
    "bench_cold_start": ("G1", "G2", "G1-http", "G2-http", "G1-first-calls", "G2-first-calls"),
    "bench_span": ("G3",),
    "bench_propagation": ("G4",),
    "bench_invocation": ("G5",),
    "bench_calls_out": ("C1", "C2"),
    "bench_export": ("G6", "G7"),
    "bench_layer": ("L1", "L2", "L3"),
    "bench_rollout": ("R1", "R2"),
    "bench_insights": ("I1", "I2", "I3"),
    "bench_scale_out": ("S1", "S2"),
}


def _wanted(module: str, only: set[str] | None) -> bool:
    if only is None:
        return True
    ids = KNOWN_IDS.get(module)
    return bool(only & set(ids)) if ids is not None else not only <= {i for v in KNOWN_IDS.values() for i in v}


def _run_module(module: str, smoke: bool) -> dict[str, Result]:
    command = [sys.executable, "-m", "benchmarks._one", module, *(["--smoke"] if smoke else [])]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=1800)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        # Under the module's first id, so that --only keeps the failure in the table instead of an empty one.
        key = KNOWN_IDS.get(module, (module,))[0]
        return {key: unavailable(module, ">= 0", f"{module} failed: {reason[:200]}")}
    found: dict[str, Result] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _normalise(module: str, found: dict[str, Result]) -> dict[str, Result]:
    """Give other modules' entries the fields of ours; G4 arrives per carrier and gets a summary row.

    G4 is informational since #18 (was <= 1.0): its rows have no target.
    """
    if module == "bench_propagation" and "G4" not in found:
        found = {f"G4-{carrier}": {"what": f"  inject + extract, {carrier}", **item} for carrier, item in found.items()}
        ratios = {key: item["ratio"] for key, item in found.items() if isinstance(item.get("ratio"), int | float)}
        if ratios:
            worst = max(ratios, key=lambda key: ratios[key])
            found = {
                "G4": result(
                    "inject + extract per carrier (worst carrier)",
                    found[worst]["ours"],
                    found[worst]["peer"],
                    found[worst].get("unit", "µs"),
                    None,
                    note=f"worst: {worst[3:]}",
                ),
                **found,
            }
    for key, item in found.items():
        item.setdefault("what", key)
        item.setdefault("note", "")
        item.setdefault("target", None)
        if "pass" not in item:
            ratio = item.get("ratio")
            item["pass"] = meets(ratio, item["target"]) if item["target"] and isinstance(ratio, int | float) else None
    return found


def run(smoke: bool, only: set[str] | None, log: Any = sys.stderr) -> dict[str, Result]:
    results: dict[str, Result] = {}
    for module in MODULES:
        if importlib.util.find_spec(f"benchmarks.{module}") is None or not _wanted(module, only):
            continue
        started = time.monotonic()
        print(f"running {module}…", file=log, flush=True)
        for key, item in _normalise(module, _run_module(module, smoke)).items():
            # Our figures keep their ids; another module's figure for the same id is kept beside it.
            results[key if key not in results else f"{key} ({module})"] = item
        print(f"  done in {time.monotonic() - started:.1f} s", file=log, flush=True)
    if only is not None:
        results = {key: item for key, item in results.items() if key.split("-")[0].split(" ")[0] in only}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[1])
    parser.add_argument("--smoke", action="store_true", help="tiny counts, no claims: checks that everything runs")
    parser.add_argument("--json", metavar="PATH", type=Path, help="write the results, keyed by id, to PATH")
    parser.add_argument("--only", metavar="IDS", help="comma-separated ids, e.g. G1,G7")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    args = parser.parse_args(argv)
    only = {item.strip().upper() for item in args.only.split(",")} if args.only else None
    results = run(args.smoke, only)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    where = machine()
    print(f"\nMachine: {where}{'  (smoke run: figures mean nothing)' if args.smoke else ''}\n")
    print(table(results, markdown=args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
