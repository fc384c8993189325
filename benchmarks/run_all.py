"""Run every benchmark, collect their results in results/latest.json and refresh docs/benchmarks.md.

Each script runs as its own child process; its last printed JSON line is its result. A script
that fails or times out is recorded with its error and the others still run. Tables in
``docs/benchmarks.md`` between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->`` are
rewritten from the results (see ``_report.py``); the rest of the page is left as it is.

Usage::

    python benchmarks/run_all.py            # full runs (about an hour on 2 cores)
    python benchmarks/run_all.py --quick    # a minute or a few per script
    python benchmarks/run_all.py --only vs_pytorch,scaling
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCHMARKS, ROOT, git_commit, last_json_line, machine_info, utc_now  # noqa: E402
from _report import refresh_page  # noqa: E402

RESULTS = BENCHMARKS / "results" / "latest.json"
PAGE = ROOT / "docs" / "benchmarks.md"

# name: (script, arguments of the full run, arguments of the quick run, timeout in seconds)
SCRIPTS: dict[str, tuple[str, list[str], list[str], int]] = {
    "engine_vs_psychrnn": ("engine_vs_psychrnn.py", [], ["--quick"], 7200),
    "time_to_criterion": ("time_to_criterion.py", [], ["--quick"], 4000),
    "vs_pytorch": ("vs_pytorch.py", [], ["--quick"], 1800),
    "tasks_vs_psychrnn": ("tasks_vs_psychrnn.py", [], ["--rounds", "2"], 1800),
    "dashboard_overhead": ("dashboard_overhead.py", [], ["--updates", "200", "--rounds", "3"], 1800),
    "sweep_scaling": ("sweep_scaling.py", ["--rounds", "3", "--prefetch", "best-1"], ["--updates", "100", "--prefetch", "best-1"], 1800),
    "scaling": ("scaling.py", [], ["--quick"], 3600),
    "voila_memory": ("voila_memory.py", [], ["--quick"], 1800),
}


def run_script(name: str, quick: bool) -> dict:
    """Run one benchmark script and return its result, or its error, with the time it took."""
    script, full_args, quick_args, timeout = SCRIPTS[name]
    command = [sys.executable, str(BENCHMARKS / script), *(quick_args if quick else full_args)]
    started = time.monotonic()
    entry: dict = {"command": " ".join(["python", f"benchmarks/{script}", *command[2:]])}
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
    except subprocess.TimeoutExpired:
        entry["error"] = f"timed out after {timeout} s"
    else:
        if completed.returncode != 0:
            entry["error"] = f"exit code {completed.returncode}: {completed.stderr.strip()[-1500:]}"
        else:
            try:
                entry["result"] = last_json_line(completed.stdout)
            except ValueError as error:
                entry["error"] = f"{error}; stdout ended with: {completed.stdout.strip()[-500:]}"
    entry["seconds"] = round(time.monotonic() - started, 1)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs of every script")
    parser.add_argument("--only", default="", help="comma-separated subset of: " + ", ".join(SCRIPTS))
    parser.add_argument("--no-docs", action="store_true", help="leave docs/benchmarks.md alone")
    options = parser.parse_args(argv)
    names = [n.strip() for n in options.only.split(",") if n.strip()] or list(SCRIPTS)
    unknown = [n for n in names if n not in SCRIPTS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; expected some of {', '.join(SCRIPTS)}")

    report = {
        "command": "python benchmarks/run_all.py" + (" --quick" if options.quick else "")
        + (f" --only {options.only}" if options.only else ""),
        "date": utc_now(),
        "commit": git_commit(),
        "quick": options.quick,
        "machine": machine_info(),
        "benchmarks": {},
    }
    # A partial run keeps the other scripts' earlier results and the header of the run that made them.
    if options.only and RESULTS.exists():
        previous = json.loads(RESULTS.read_text())
        report["benchmarks"] = {k: v for k, v in previous.get("benchmarks", {}).items() if k not in names}
        reruns = previous.get("reruns", []) + [{"command": report["command"], "date": report["date"]}]
        report.update({key: previous[key] for key in ("command", "date", "commit", "quick") if key in previous})
        report["reruns"] = reruns
    for name in names:
        print(f"{name}: running", file=sys.stderr, flush=True)
        entry = run_script(name, options.quick)
        entry["date"] = utc_now()
        report["benchmarks"][name] = entry
        status = "failed: " + entry["error"][:300] if "error" in entry else "done"
        print(f"{name}: {status} in {entry['seconds']} s", file=sys.stderr, flush=True)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=1) + "\n")
    report["machine"]["load_average_1min_end"] = machine_info()["load_average_1min"]
    RESULTS.write_text(json.dumps(report, indent=1) + "\n")
    if not options.no_docs:
        refresh_page(PAGE, report)
    summary = {name: ("error" if "error" in entry else "ok") for name, entry in report["benchmarks"].items()}
    print(json.dumps({"results": str(RESULTS.relative_to(ROOT)), "benchmarks": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
