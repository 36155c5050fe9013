"""The function runs on what the Lambda layer provides: the pinned Powertools release."""

import re
import sys
from importlib import metadata
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parents[2] / "lambda" / "requirements.txt"


def test_powertools_version_matches_layer_pin():
    pin = re.search(r"aws-lambda-powertools\[[^\]]*\]==([\d.]+)", REQUIREMENTS.read_text()).group(1)

    assert metadata.version("aws-lambda-powertools") == pin


def test_python_is_a_supported_runtime():
    assert (3, 9) <= sys.version_info[:2] <= (3, 13), sys.version
