"""The real function, loaded in this process as an isolated Lambda execution environment.

The function reads its settings from the environment and caches its modules, boto3
clients and Powertools parameter providers. A ``FunctionRuntime`` keeps its own copy of
each: its environment variables, its ``tracking`` modules in ``sys.modules`` and its
Powertools providers are put in place only while it imports or runs the handler, and the
process's own are put back right after. Tests in the same process that import the
function themselves, or run their own emulator, therefore see none of the local API's
state. Invocations of all runtimes in a process are serialized, as one execution
environment runs one request at a time.
"""

import contextlib
import importlib
import logging
import os
import sys
import threading
from typing import Callable, Iterator, Optional

from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

from devkit.local.emulator import OVERRIDING_PREFIXES, Emulator
from shared.contract import LAMBDA_DIR

logger = logging.getLogger(__name__)

# Module and attribute of the function's entry point, relative to the lambda/ folder.
HANDLER_MODULE = "tracking.app"
HANDLER_ATTRIBUTE = "handler"
_PACKAGE = HANDLER_MODULE.split(".")[0]

# Point the SDK's config and credentials files at nothing, so no profile applies to the function.
_EMPTY_FILES = {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}

# os.environ, sys.modules and the Powertools providers are process-wide, so one runtime at a time.
_activation_lock = threading.RLock()


class FunctionRuntime:
    """The function's handler, loaded against one emulator."""

    def __init__(self, emulator: Emulator):
        self.emulator = emulator
        self._handler: Optional[Callable] = None
        self._modules: dict = {}
        self._providers: dict = {}

    @property
    def loaded(self) -> bool:
        return self._handler is not None

    def load(self) -> None:
        """Import the handler afresh, as at a cold start, with the function's environment."""
        with self.activated():
            module = importlib.import_module(HANDLER_MODULE)
            self._handler = getattr(module, HANDLER_ATTRIBUTE)
        logger.info(
            "function loaded handler=%s.%s file=%s", HANDLER_MODULE, HANDLER_ATTRIBUTE, module.__file__
        )

    def invoke(self, event: dict, context: object) -> dict:
        """Call the handler with the function's environment in place and return its result."""
        if self._handler is None:
            raise RuntimeError("the function is not loaded; call load() first")
        with self.activated():
            return self._handler(event, context)

    def close(self) -> None:
        """Drop the function's modules and providers; the next ``load`` is a cold start again."""
        self._handler = None
        self._modules = {}
        self._providers = {}

    @contextlib.contextmanager
    def activated(self) -> Iterator[None]:
        """Put this runtime's environment, modules and providers in place for the duration."""
        with _activation_lock:
            saved_environment = self._apply_environment()
            saved_modules = _swap_modules(self._modules)
            saved_providers = _swap_providers(self._providers)
            added_path = _add_lambda_dir()
            try:
                yield
            finally:
                if added_path:
                    sys.path.remove(added_path)
                self._providers = _swap_providers(saved_providers)
                self._modules = _swap_modules(saved_modules)
                _restore_environment(saved_environment)

    def _apply_environment(self) -> dict:
        """Set the function's variables, unset overriding ones, and return the previous values."""
        changes = dict(self.emulator.function_environment)
        changes.update(_EMPTY_FILES)
        removed = set(self.emulator.removed_variables)
        removed.update(name for name in os.environ if name.startswith(OVERRIDING_PREFIXES))
        saved = {name: os.environ.get(name) for name in set(changes) | removed}
        for name in removed:
            os.environ.pop(name, None)
        os.environ.update(changes)
        return saved


def _restore_environment(saved: dict) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _swap_modules(replacement: dict) -> dict:
    """Replace the function package's modules in ``sys.modules`` and return the ones removed."""
    names = [name for name in sys.modules if name == _PACKAGE or name.startswith(f"{_PACKAGE}.")]
    removed = {name: sys.modules.pop(name) for name in names}
    sys.modules.update(replacement)
    return removed


def _swap_providers(replacement: dict) -> dict:
    """Replace Powertools' default parameter providers and return the previous ones."""
    previous = dict(DEFAULT_PROVIDERS)
    DEFAULT_PROVIDERS.clear()
    DEFAULT_PROVIDERS.update(replacement)
    return previous


def _add_lambda_dir() -> Optional[str]:
    lambda_dir = str(LAMBDA_DIR)
    if lambda_dir in sys.path:
        return None
    sys.path.insert(0, lambda_dir)
    return lambda_dir
