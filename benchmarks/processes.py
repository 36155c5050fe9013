"""Fresh processes for the benchmarks: interpreters, a sealed environment, timed runs, statistics.

Every child process gets an environment built here rather than the caller's. It has fake
AWS credentials, no profile or config file and the instance metadata service disabled. Every
AWS endpoint points at a closed loopback port unless a worker starts its own emulator, so a
call that escaped a stub or an emulator fails at once instead of reaching AWS.
"""

import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = REPO_ROOT / "lambda"
FUNCTION_VENV_PYTHON = REPO_ROOT / ".venv39" / "bin" / "python"
FUNCTION_RUNTIME_VERSION = "3.9"

# Port 9 (discard) has no listener on loopback, so a stray AWS call is refused immediately.
CLOSED_LOOPBACK_ENDPOINT = "http://127.0.0.1:9"
REGION = "us-west-2"

# Variables a child keeps from this process; everything else, proxies and AWS_* included, is dropped.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TERM")

# Maximum time in seconds a single worker may run before the benchmark stops waiting for it.
WORKER_TIMEOUT_SECONDS = 600


class BenchmarkError(RuntimeError):
    """A benchmark process failed; the message has its command, exit code and the end of its stderr."""


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: str
    # True when this is the Lambda runtime's Python (3.9); False when the benchmark fell back to another one.
    is_function_runtime: bool

    def display_name(self) -> str:
        """Return the interpreter as the page names it: relative to the repository, never an absolute path."""
        try:
            return str(self.path.relative_to(REPO_ROOT))
        except ValueError:
            return f"python{self.version}"


def python_version(path: Path) -> Optional[str]:
    """Return the full version of an interpreter (``3.9.18``), or ``None`` if it does not run."""
    if not path.exists():
        return None
    probe = [str(path), "-c", "import platform; print(platform.python_version())"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def function_python() -> Interpreter:
    """Return the Python 3.9 of .venv39, or this interpreter, marked as not the function's runtime.

    ``invoke test`` creates .venv39. On a machine without it the benchmarks still run, and
    the page states which Python measured the function.
    """
    version = python_version(FUNCTION_VENV_PYTHON)
    if version and version.startswith(FUNCTION_RUNTIME_VERSION + "."):
        return Interpreter(FUNCTION_VENV_PYTHON, version, True)
    import platform

    return Interpreter(Path(sys.executable), platform.python_version(), False)


def current_python() -> Interpreter:
    import platform

    version = platform.python_version()
    return Interpreter(Path(sys.executable), version, version.startswith(FUNCTION_RUNTIME_VERSION + "."))


def sealed_environment(extra: Optional[dict] = None, python_path: Sequence[Path] = (REPO_ROOT, LAMBDA_DIR)) -> dict:
    """Return a child environment with fake credentials and no route to AWS, plus ``extra``."""
    environment = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    environment.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_ENDPOINT_URL": CLOSED_LOOPBACK_ENDPOINT,
            # Powertools: no X-Ray daemon here; metrics need a namespace and a service.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_SERVICE_NAME": "tracking-api",
            "POWERTOOLS_METRICS_NAMESPACE": "LogisticsTracking",
            "POWERTOOLS_DEV": "false",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": os.pathsep.join(str(path) for path in python_path),
        }
    )
    environment.update(extra or {})
    return environment


@dataclass(frozen=True)
class TimedRun:
    seconds: float
    stdout: str
    stderr: str


def run_timed(
    argv: Sequence[str], environment: dict, cwd: Path = REPO_ROOT, timeout: float = WORKER_TIMEOUT_SECONDS
) -> TimedRun:
    """Run a process to completion and return its wall time, from spawn to exit, with its output."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            list(argv), env=environment, cwd=str(cwd), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchmarkError(f"{_display_command(argv)} timed out after {timeout:.0f} s") from exc
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise BenchmarkError(f"{_display_command(argv)} failed with exit code {done.returncode}:\n{tail}")
    return TimedRun(seconds, done.stdout, done.stderr)


def run_worker(
    interpreter: Interpreter, module: str, arguments: Sequence[str], result_path: Path, extra: Optional[dict] = None
) -> dict:
    """Run ``python -m module arguments --result result_path`` in a sealed environment; return its JSON result."""
    argv = [str(interpreter.path), "-m", module, *arguments, "--result", str(result_path)]
    run_timed(argv, sealed_environment(extra))
    return json.loads(result_path.read_text(encoding="utf-8"))


def _display_command(argv: Sequence[str]) -> str:
    """Return a command line for messages, with the interpreter relative to the repository and files by name."""
    parts = [Interpreter(Path(argv[0]), "", False).display_name()]
    parts += [Path(part).name if part.startswith("/") else part for part in argv[1:]]
    text = " ".join(parts)
    return text if len(text) < 300 else text[:297] + "..."


def rotated(items: Sequence, offset: int) -> list:
    """Return ``items`` rotated by ``offset``, so interleaved variants take turns going first."""
    offset %= max(len(items), 1)
    return list(items[offset:]) + list(items[:offset])


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile (``fraction`` 0.99 for p99) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def spread(values: Sequence[float]) -> dict:
    """Return median, min, max and the quartiles of a sample, in its own unit."""
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "p25": percentile(ordered, 0.25),
        "p75": percentile(ordered, 0.75),
    }
