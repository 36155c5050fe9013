"""Cold start: the import of ``tracking.app`` against the Powertools utilities alone and a bare interpreter.

Each variant runs in fresh processes, interleaved round by round, on the function's Python:

- ``bare``: ``python -c pass``, the interpreter's own start;
- ``utilities``: the Powertools utilities, boto3 and fastjsonschema that the handler imports,
  with one Logger, Tracer, Metrics and APIGatewayRestResolver created as the handler does;
- ``handler``: ``import tracking.app``.

Wall time is measured from spawn to exit; ``-X importtime`` totals are the sum of every
module's own (self) time, from separate runs. Bytecode comes from a cache directory filled
by one untimed run of each variant (PYTHONPYCACHEPREFIX), so nothing is written under
lambda/. The ``handler_source`` variant then drops the function package's bytecode: the
deployment archive ships none and /var/task is read-only in Lambda, so there the package is
compiled from source at every cold start.
"""

import json
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List

from benchmarks.processes import LAMBDA_DIR, Interpreter, median, rotated, run_timed, sealed_environment, spread

GOAL_FRACTION = 0.10
PACKAGE = "tracking"

BARE_SCRIPT = "pass"
HANDLER_SCRIPT = "import tracking.app"
# Imports of tracking.app and its modules from outside the standard library, with one instance
# of each object the function creates at import (lambda/tracking/observability.py and app.py).
UTILITIES_SCRIPT = """
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
import boto3
import fastjsonschema
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()
"""

VARIANTS = {"bare": BARE_SCRIPT, "utilities": UTILITIES_SCRIPT, "handler": HANDLER_SCRIPT}
# handler_source: the handler with its package compiled from source, as in Lambda.
ALL_VARIANTS = [*VARIANTS, "handler_source"]

# Runs a script after wrapping botocore's create_client, then prints every client created,
# with the first caller outside botocore and boto3.
_CLIENT_COUNTER = """
import json, sys, traceback
import botocore.session

created = []
original = botocore.session.Session.create_client

def create_client(self, service_name, *args, **kwargs):
    frames = [frame for frame in traceback.extract_stack()[:-1]
              if "/botocore/" not in frame.filename and "/boto3/" not in frame.filename]
    caller = frames[-1]
    created.append({"service": service_name, "file": caller.filename, "line": caller.lineno})
    return original(self, service_name, *args, **kwargs)

botocore.session.Session.create_client = create_client
exec(compile(TARGET, "<benchmark>", "exec"), {"__name__": "__benchmark__"})
sys.stdout.write(json.dumps(created))
"""


def parse_importtime(stderr: str) -> Dict[str, int]:
    """Return each imported module's own import time in microseconds, from ``-X importtime`` output."""
    modules = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3:
            continue
        try:
            self_us = int(parts[0])
        except ValueError:
            continue  # the header line
        modules.setdefault(parts[2].strip(), self_us)
    return modules


def _module_shown(filename: str) -> str:
    """Return a caller's file as a module-relative path, so the page names no directory of this machine."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    if filename.startswith(str(LAMBDA_DIR)):
        return "lambda/" + str(Path(filename).relative_to(LAMBDA_DIR))
    return Path(filename).name


class _Runner:
    """Runs variants with a filled bytecode cache, and ``handler_source`` with one that lacks the package."""

    def __init__(self, interpreter: Interpreter, workdir: Path):
        self.interpreter = interpreter
        self.workdir = workdir
        self.cache = workdir / "pycache"
        self.source_cache = workdir / "pycache-without-package"
        self.cache.mkdir()
        self.environment = self._environment(self.cache)
        self.source_environment = self._environment(self.source_cache)

    @staticmethod
    def _environment(cache: Path) -> dict:
        return sealed_environment({"PYTHONPYCACHEPREFIX": str(cache)}, python_path=(LAMBDA_DIR,))

    def fill_caches(self) -> None:
        """Compile every variant into the cache, then copy it without the function package's bytecode."""
        for script in VARIANTS.values():
            self.run(script, importtime=False, write_bytecode=True)
        shutil.copytree(self.cache, self.source_cache)
        shutil.rmtree(self.source_cache / Path(*LAMBDA_DIR.parts[1:]), ignore_errors=True)
        for name in ALL_VARIANTS:
            self.run_variant(name, importtime=False)  # warms the file system cache

    def run_variant(self, name: str, importtime: bool):
        if name == "handler_source":
            return self.run(HANDLER_SCRIPT, importtime, environment=self.source_environment)
        return self.run(VARIANTS[name], importtime)

    def run(self, script: str, importtime: bool, write_bytecode: bool = False, environment: dict = None):
        argv = [str(self.interpreter.path)] + (["-X", "importtime"] if importtime else []) + ["-c", script]
        environment = dict(environment or self.environment)
        if write_bytecode:
            environment.pop("PYTHONDONTWRITEBYTECODE")
        return run_timed(argv, environment, cwd=self.workdir)

    def clients_created(self, script: str) -> List[dict]:
        counter = f"TARGET = {script!r}\n" + _CLIENT_COUNTER
        created = json.loads(self.run(counter, importtime=False).stdout)
        return [{"service": c["service"], "caller": f"{_module_shown(c['file'])}:{c['line']}"} for c in created]


def measure(interpreter: Interpreter, runs: int) -> dict:
    """Measure every variant ``runs`` times in fresh processes and return the figures and the goal."""
    with tempfile.TemporaryDirectory(prefix="tracking-bench-cold-") as workdir:
        runner = _Runner(interpreter, Path(workdir))
        runner.fill_caches()
        wall: Dict[str, list] = {name: [] for name in ALL_VARIANTS}
        imports: Dict[str, list] = {name: [] for name in ALL_VARIANTS}
        modules: Dict[str, list] = {name: [] for name in ALL_VARIANTS}
        for index in range(runs):
            for name in rotated(ALL_VARIANTS, index):
                wall[name].append(runner.run_variant(name, importtime=False).seconds * 1000)
            for name in rotated(ALL_VARIANTS, index):
                found = parse_importtime(runner.run_variant(name, importtime=True).stderr)
                imports[name].append(sum(found.values()) / 1000)
                modules[name].append(found)
        clients = {name: runner.clients_created(VARIANTS[name]) for name in ("utilities", "handler")}
    return _summarize(interpreter, runs, wall, imports, modules, clients)


def _attribution(handler_modules: List[Dict[str, int]], utilities_modules: List[Dict[str, int]]) -> tuple:
    """Return (our modules, other modules only the handler imports), each with its median self time in ms."""
    utilities_names = set().union(*utilities_modules) if utilities_modules else set()
    names = set().union(*handler_modules) - utilities_names
    ours, others = [], []
    for name in names:
        self_ms = median([modules.get(name, 0) for modules in handler_modules]) / 1000
        entry = {"module": name, "self_ms": self_ms}
        (ours if name == PACKAGE or name.startswith(PACKAGE + ".") else others).append(entry)
    ours.sort(key=lambda entry: -entry["self_ms"])
    others.sort(key=lambda entry: -entry["self_ms"])
    return ours, others


def _summarize(interpreter: Interpreter, runs: int, wall: dict, imports: dict, modules: dict, clients: dict) -> dict:
    ours, others = _attribution(modules["handler"], modules["utilities"])
    figures = {}
    for unit, samples in (("wall", wall), ("importtime", imports)):
        bare, utilities, handler = (median(samples[name]) for name in ("bare", "utilities", "handler"))
        paired = [h - u for h, u in zip(samples["handler"], samples["utilities"])]
        utilities_cost = utilities - bare
        figures[unit] = {
            "ms": {name: spread(values) for name, values in samples.items()},
            "utilities_cost_ms": utilities_cost,
            "added_ms": handler - utilities,
            "added_paired_ms": spread(paired),
            "added_fraction": (handler - utilities) / utilities_cost if utilities_cost > 0 else None,
            "compile_from_source_ms": median(samples["handler_source"]) - handler,
        }

    utilities_cost = figures["importtime"]["utilities_cost_ms"]
    attributed = sum(entry["self_ms"] for entry in ours + others)
    source_ours, _ = _attribution(modules["handler_source"], modules["utilities"])
    attributed_source = sum(entry["self_ms"] for entry in source_ours + others)
    fraction = attributed / utilities_cost if utilities_cost > 0 else None
    fraction_source = attributed_source / utilities_cost if utilities_cost > 0 else None
    attribution = {
        "attributed_ms": attributed,
        "attributed_fraction": fraction,
        "attributed_source_ms": attributed_source,
        "attributed_source_fraction": fraction_source,
    }
    met = fraction is not None and fraction <= GOAL_FRACTION
    detail = (
        f"the package's own modules take {attributed:.1f} ms of import time against the utilities' "
        f"{utilities_cost:.1f} ms ({_percent(fraction)}) with bytecode cached, and {attributed_source:.1f} ms "
        f"({_percent(fraction_source)}) compiled from source as in Lambda"
    )
    return {
        "interpreter": interpreter.display_name(),
        "python": interpreter.version,
        "is_function_runtime": interpreter.is_function_runtime,
        "runs": runs,
        "utilities_script": UTILITIES_SCRIPT.strip(),
        "figures": figures,
        "attribution": attribution,
        "our_modules": ours,
        "our_modules_from_source": source_ours,
        "handler_only_modules": others,
        "clients_at_import": clients,
        "goal": {
            "text": "the handler module adds at most 10% to the import cost of the Powertools utilities it uses",
            "met": met,
            "detail": detail,
        },
    }


def _percent(fraction) -> str:
    return "n/a" if fraction is None else f"{fraction * 100:.1f}%"
