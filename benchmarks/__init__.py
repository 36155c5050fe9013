"""Benchmarks of the tracking API: each figure is a ratio against a baseline measured in the same run.

``run(size="full")`` measures everything and writes docs/benchmarks.md; ``size="tiny"``
runs every section with a handful of samples in seconds, for the test suite.
``benchmarks.cost.report(scale)`` is the monthly cost model on its own.

The worker modules (``warm``, ``reads``, ``preview``, ``throughput``) run in fresh
processes, some on the function's Python 3.9, so this package keeps to Python 3.9 syntax
and imports nothing heavy at package import.
"""

from pathlib import Path
from typing import Optional


def run(size: str = "full", output: Optional[Path] = None, command: Optional[str] = None) -> dict:
    """Run every benchmark at ``size`` ("full" or "tiny"), write the page to ``output`` and return the results.

    ``output`` defaults to docs/benchmarks.md; ``command`` is the command line written on the
    page, by default the ``python -m benchmarks`` equivalent of this call.
    """
    from benchmarks import runner

    return runner.run(size=size, output=output, command=command)
