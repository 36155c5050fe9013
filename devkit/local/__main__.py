"""Command line: ``python -m devkit.local --port PORT [--stage STAGE] [--replay]``."""

import argparse
import sys

from devkit.local import DEFAULT_STAGE, LocalApiError, run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devkit.local",
        description="Serve the tracking API on 127.0.0.1 in front of the real function and an AWS emulator.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1; 0 picks a free port")
    parser.add_argument(
        "--stage", default=DEFAULT_STAGE, help=f"stage name in the URL path (default {DEFAULT_STAGE})"
    )
    parser.add_argument(
        "--replay",
        action="store_true",
        help="replay the sample updates once ready and print a summary per file",
    )
    args = parser.parse_args(argv)
    try:
        run(args.port, stage=args.stage, replay=args.replay)
    except LocalApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
