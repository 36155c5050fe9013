"""Offline preview: each stack's program under the Pulumi mock engine in a fresh process, and all four in one.

A single layer runs with ``devkit.offline.run_program``, fed the exports of the layers before
it as an untimed chain run recorded them first. The chain runs ``devkit.offline.run_chain``.
Wall time is measured from spawn to exit, since a user pays the interpreter start and the
imports with every ``invoke preview --offline``; the worker also reports the time of the
``devkit.offline`` import and of the run itself.

Run as a worker: ``python -m benchmarks.preview (--layer LAYER --upstream FILE | --chain
[--save-outputs FILE]) --result FILE``.
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Optional

GOAL_RATIO = 1.5
CHAIN = "chain"


def _upstream_for(layer: str, chain_outputs: dict) -> dict:
    from shared import naming

    earlier = naming.LAYERS[: naming.LAYERS.index(layer)]
    return {
        naming.stack_reference_name(naming.DEFAULT_ORGANIZATION, name, "dev"): chain_outputs[name] for name in earlier
    }


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.preview", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--layer", help="run this one layer")
    target.add_argument("--chain", action="store_true", help="run all four layers in deploy order")
    parser.add_argument("--upstream", help="JSON file of every layer's exports, written by --save-outputs")
    parser.add_argument("--save-outputs", help="with --chain: write every layer's exports to this JSON file")
    parser.add_argument("--result", required=True, help="file to write the JSON result to")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    from devkit import offline

    imported = time.perf_counter()
    if args.chain:
        runs = offline.run_chain("dev")
    else:
        if not args.upstream:
            parser.error("--layer needs --upstream")
        chain_outputs = json.loads(Path(args.upstream).read_text(encoding="utf-8"))
        runs = {args.layer: offline.run_program(args.layer, "dev", upstream=_upstream_for(args.layer, chain_outputs))}
    finished = time.perf_counter()

    if args.save_outputs:
        outputs = {layer: run.outputs for layer, run in runs.items()}
        Path(args.save_outputs).write_text(json.dumps(outputs), encoding="utf-8")
    result = {
        "import_seconds": imported - start,
        "run_seconds": finished - imported,
        "resources": {layer: len(run.resources) for layer, run in runs.items()},
    }
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")
    return 0


def measure(interpreter, size, workdir: Path) -> dict:
    """Time every layer and the chain in fresh processes, interleaved, and return the figures and the goal."""
    from benchmarks.processes import REPO_ROOT, median, rotated, run_timed, sealed_environment, spread
    from shared import naming

    environment = sealed_environment(python_path=(REPO_ROOT,))
    outputs_file = workdir / "chain-outputs.json"
    result_file = workdir / "preview.json"

    def run(name: str, extra: list) -> dict:
        target = ["--chain"] if name == CHAIN else ["--layer", name, "--upstream", str(outputs_file)]
        argv = [str(interpreter.path), "-m", "benchmarks.preview", *target, *extra, "--result", str(result_file)]
        timed = run_timed(argv, environment)
        return {"wall": timed.seconds, **json.loads(result_file.read_text(encoding="utf-8"))}

    run(CHAIN, ["--save-outputs", str(outputs_file)])  # records the exports and warms the file system cache
    names = [*naming.LAYERS, CHAIN]
    samples = {name: [] for name in names}
    resources = {}
    for index in range(size.preview_runs):
        for name in rotated(names, index):
            sample = run(name, [])
            samples[name].append(sample)
            resources[name] = sample["resources"]

    figures = {}
    for name in names:
        figures[name] = {
            "wall_s": spread([sample["wall"] for sample in samples[name]]),
            "import_s": median([sample["import_seconds"] for sample in samples[name]]),
            "run_s": median([sample["run_seconds"] for sample in samples[name]]),
            "resources": sum(resources[name].values()),
        }
    slowest = max(naming.LAYERS, key=lambda layer: figures[layer]["wall_s"]["median"])
    ratio = figures[CHAIN]["wall_s"]["median"] / figures[slowest]["wall_s"]["median"]
    return {
        "interpreter": interpreter.display_name(),
        "runs": size.preview_runs,
        "figures": figures,
        "slowest_layer": slowest,
        "ratio": ratio,
        "goal": {
            "text": "all four stacks in one process within 1.5 times the slowest single stack's process",
            "met": ratio <= GOAL_RATIO,
            "detail": (
                f"the chain takes {figures[CHAIN]['wall_s']['median']:.2f} s against "
                f"{figures[slowest]['wall_s']['median']:.2f} s for {slowest} alone ({ratio:.2f}x)"
            ),
        },
    }


if __name__ == "__main__":
    sys.exit(main())
