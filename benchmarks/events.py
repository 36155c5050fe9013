"""API Gateway REST proxy events, a fake Lambda context and the function's environment, for the workers.

Events start from a captured API Gateway REST event with IAM authorization (the sample the
function tests use), so the handler parses the same headers and request context as in AWS.
"""

import copy
import json
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Optional
from urllib.parse import urlencode

REPO_ROOT = Path(__file__).resolve().parent.parent
EVENT_TEMPLATE = REPO_ROOT / "tests" / "data" / "samples" / "apigw-events" / "powertools-ts_apigw-rest_iam-auth.json"
STAGE = "dev"
ENVIRONMENT = "dev"

# A typical carrier update: UPS-style number, full location and a description.
SAMPLE_UPDATE = {
    "tracking_id": "1Z999AA10123456784",
    "timestamp": "2024-08-15T10:30:00Z",
    "status": "in_transit",
    "carrier": "UPS",
    "carrier_status": "AR",
    "location": {"city": "Louisville", "region": "KY", "postal_code": "40209", "country": "US"},
    "description": "Arrived at facility",
}


class LambdaContext:
    """The attributes of a Lambda context that Powertools reads."""

    function_name = "logistics-tracking-dev-api"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-west-2:123456789012:function:logistics-tracking-dev-api"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        # A fresh invocation with the compute stack's default timeout: room to try the table.
        from shared import settings

        return settings.BY_KEY["timeout"].default * 1000


@lru_cache(maxsize=1)
def _template() -> dict:
    return json.loads(EVENT_TEMPLATE.read_text(encoding="utf-8"))


def rest_event(method: str, path: str, body: Optional[dict] = None, query: Optional[dict] = None) -> dict:
    """Return a REST proxy event for ``method path`` on the dev stage, with a JSON body or a query string."""
    event = copy.deepcopy(_template())
    event.update(resource=path, path=path, httpMethod=method, isBase64Encoded=False)
    event["requestContext"].update(
        resourcePath=path, httpMethod=method, path=f"/{STAGE}{path}", stage=STAGE, requestId=str(uuid.uuid4())
    )
    event["body"] = None if body is None else json.dumps(body)
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    if query:
        event["requestContext"]["path"] += "?" + urlencode(query)
    return event


def function_environment(table_name: str, queue_url: str) -> dict:
    """Return the TRACKING_* variables the compute stack sets, for the dev environment's names."""
    from shared import definitions, naming
    from shared.contract import function_contract as contract

    return {
        contract.ENV_ENVIRONMENT: ENVIRONMENT,
        contract.ENV_DATABASE_CONNECTION: definitions.database_connection(table_name),
        contract.ENV_API_CONFIG: json.dumps(definitions.API_CONFIG),
        contract.ENV_FEATURE_FLAGS: json.dumps(definitions.FEATURE_FLAGS),
        contract.ENV_DEAD_LETTER_QUEUE_URL: queue_url,
        contract.ENV_PAGE_TOKEN_KEY_PARAMETER: naming.parameter_name(
            ENVIRONMENT, definitions.PAGE_TOKEN_KEY_PARAMETER.key
        ),
        contract.ENV_PARAMETER_MAX_AGE: "300",
    }


class CountingSink:
    """A text stream that keeps only the number of characters and lines written to it.

    The workers put it in place of ``sys.stdout`` before importing the function, so the
    Powertools logger and the metrics flush (EMF, printed once per invocation) still do
    their work but nothing floods the terminal.
    """

    def __init__(self):
        self.characters = 0
        self.lines = 0

    def write(self, text: str) -> int:
        self.characters += len(text)
        self.lines += text.count("\n")
        return len(text)

    def flush(self) -> None:
        pass

    def reset(self) -> None:
        self.characters = 0
        self.lines = 0
