"""Run every benchmark in turn, gather the machine's description and write the page."""

import datetime
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

from benchmarks import coldstart, cost, package, preview, reads, report, throughput, warm
from benchmarks.processes import REPO_ROOT, current_python, function_python
from benchmarks.sizes import size_named

DEFAULT_OUTPUT = REPO_ROOT / "docs" / "benchmarks.md"
COST_SCALES = (1.0, 100.0)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / (1024 * 1024)
    except OSError:
        pass
    return 0.0


def _load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} with uncommitted changes" if changes else head


def _machine(function_interpreter, tooling_interpreter) -> dict:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "function_python": f"{function_interpreter.version} ({function_interpreter.display_name()})",
        "tooling_python": f"{tooling_interpreter.version} ({tooling_interpreter.display_name()})",
        "load_start": _load_average(),
    }


def default_command(size: str, output: Path) -> str:
    command = "python -m benchmarks"
    if size != "full":
        command += f" --size {size}"
    if output != DEFAULT_OUTPUT:
        try:
            output_name = output.resolve().relative_to(REPO_ROOT)
        except ValueError:
            output_name = output
        command += f" --output {output_name}"
    return command


def _cost_section() -> dict:
    reports = [cost.report(scale) for scale in COST_SCALES]
    return {"reports": reports}


def run(size: str = "full", output: Optional[Path] = None, command: Optional[str] = None) -> dict:
    """Run every benchmark at ``size``, write the page to ``output`` and return every result.

    A benchmark that fails does not stop the others: its section on the page shows the
    error, and its key is listed in the result's ``failures``.
    """
    chosen = size_named(size)
    output = Path(output) if output else DEFAULT_OUTPUT
    function_interpreter, tooling_interpreter = function_python(), current_python()
    started = time.perf_counter()
    machine = _machine(function_interpreter, tooling_interpreter)
    sections, failures = {}, []
    with tempfile.TemporaryDirectory(prefix="tracking-bench-") as directory:
        workdir = Path(directory)
        steps = {
            "cold_start": lambda: coldstart.measure(function_interpreter, chosen.cold_runs),
            "warm_path": lambda: warm.measure(function_interpreter, chosen, workdir),
            "reads": lambda: reads.measure(function_interpreter, chosen, workdir),
            "preview": lambda: preview.measure(tooling_interpreter, chosen, workdir),
            "package": package.measure,
            "throughput": lambda: throughput.measure(tooling_interpreter, chosen, workdir),
            "cost": _cost_section,
        }
        for key, _ in report.SECTIONS:
            step_started = time.perf_counter()
            try:
                sections[key] = steps[key]()
            except Exception as exc:  # reported on the page, and the other benchmarks still run
                sections[key] = {"error": f"{type(exc).__name__}: {exc}"}
                failures.append(key)
            sections[key]["seconds"] = time.perf_counter() - step_started
    machine["load_end"] = _load_average()
    result = {
        "size": chosen.name,
        "command": command or default_command(chosen.name, output),
        "output": str(output),
        "machine": machine,
        "sections": sections,
        "failures": failures,
        "seconds": time.perf_counter() - started,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report.render(result), encoding="utf-8")
    return result
