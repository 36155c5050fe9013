"""The API contract as the stacks see it, loaded from the function's own contract module.

The function ships its schemas with its code, so they live under ``lambda/``; this
module loads that file by path so there is exactly one copy.
"""

import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = REPO_ROOT / "lambda"

_MODULE_NAME = "tracking_contract"


def _load_function_contract():
    if _MODULE_NAME in sys.modules:
        return sys.modules[_MODULE_NAME]
    spec = importlib.util.spec_from_file_location(_MODULE_NAME, LAMBDA_DIR / "tracking" / "contract.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


function_contract = _load_function_contract()

ROUTES = function_contract.ROUTES
STATUS_QUERY_PARAMETERS = function_contract.STATUS_QUERY_PARAMETERS
MODEL_FILES = function_contract.MODEL_FILES
load_schema = function_contract.load_schema

TRACK_REQUEST_MODEL = "TrackRequest"


def models() -> dict:
    """Return every API Gateway model schema keyed by model name."""
    return {name: load_schema(file_name) for name, file_name in MODEL_FILES.items()}


def status_query_schema() -> dict:
    return load_schema(function_contract.STATUS_QUERY_SCHEMA_FILE)
