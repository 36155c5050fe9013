"""Command line: ``python -m benchmarks [--size full|tiny] [--output FILE]``."""

import argparse
import sys
from pathlib import Path

from benchmarks import run
from benchmarks.sizes import SIZES


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure cold start, warm path, read cost, offline preview, package size, local API "
        "throughput and the monthly cost, and write the results page.",
    )
    parser.add_argument(
        "--size", choices=sorted(SIZES), default="full", help="full for figures (minutes), tiny for a smoke run"
    )
    parser.add_argument("--output", type=Path, help="page to write; default docs/benchmarks.md")
    args = parser.parse_args(argv)
    result = run(size=args.size, output=args.output)
    print(f"wrote {result['output']} in {result['seconds']:.0f} s")
    for key in result["failures"]:
        print(f"error: benchmark {key} failed: {result['sections'][key]['error']}", file=sys.stderr)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
