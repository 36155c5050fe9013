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


def test_import_creates_no_aws_client_of_the_function():
    """Clients are made on first use: made at import, they would keep the endpoint and region of that moment."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    probe = (
        "import json, botocore.session\n"
        "made = []\n"
        "original = botocore.session.Session.create_client\n"
        "def record(self, service_name, *args, **kwargs):\n"
        "    made.append(service_name)\n"
        "    return original(self, service_name, *args, **kwargs)\n"
        "botocore.session.Session.create_client = record\n"
        "import tracking.app\n"
        "print(json.dumps(made))\n"
    )
    lambda_dir = Path(__file__).resolve().parents[2] / "lambda"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=dict(os.environ, PYTHONPATH=str(lambda_dir)),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    created = json.loads(done.stdout.strip().splitlines()[-1])
    assert not {"dynamodb", "sqs", "ssm"} & set(created), created
