"""Warm path: time per POST /track and GET /status through the real handler against a minimal handler.

Both handlers run in one process on the function's Python, with botocore's Stubber on their
DynamoDB clients, so no request leaves the process. The real handler's table client (the one
``tracking.aws`` creates lazily) gets a put_item or a query response queued per call, and so
does the minimal handler's plain boto3 client. The minimal handler parses the body with
``json``, makes the same DynamoDB call (same attributes, same condition) and returns JSON.
Tracing is disabled; the real handler's metrics flush (EMF printed to stdout) stays in the
measured path and goes to a counting sink.

Run as a worker: ``python -m benchmarks.warm --rounds R --calls N --warmup W --result FILE``.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

from benchmarks.events import SAMPLE_UPDATE, CountingSink, LambdaContext, rest_event

GOAL_RATIO = 1.5
REGION = "us-west-2"
# Per route: the real handler; its router alone (app.app.resolve, without the Logger, Tracer and
# Metrics decorators); the service alone (TrackingService.ingest or .status); the minimal handler.
ROUTES = ("track", "status")
LAYERS = ("", "_resolver", "_service", "_minimal")
VARIANTS = tuple(route + layer for route in ROUTES for layer in LAYERS)
_CONDITION = "attribute_not_exists(#pk) AND attribute_not_exists(#sk)"


class MinimalHandlers:
    """The smallest handlers that make the function's DynamoDB calls: plain boto3 and json."""

    def __init__(self, dynamodb, table_name: str):
        self.dynamodb = dynamodb
        self.table_name = table_name

    def track(self, event: dict, context) -> dict:
        update = json.loads(event["body"])
        item = {
            "tracking_id": {"S": update["tracking_id"]},
            "timestamp": {"S": update["timestamp"]},
            "event_time": {"S": update["timestamp"]},
            "received_at": {"S": update["timestamp"]},
            "request_id": {"S": event["requestContext"]["requestId"]},
            "status": {"S": update["status"]},
            "carrier": {"S": update["carrier"]},
            "carrier_status": {"S": update["carrier_status"]},
            "description": {"S": update["description"]},
            "location": {"M": {key: {"S": value} for key, value in update["location"].items()}},
        }
        self.dynamodb.put_item(
            TableName=self.table_name,
            Item=item,
            ConditionExpression=_CONDITION,
            ExpressionAttributeNames={"#pk": "tracking_id", "#sk": "timestamp"},
        )
        body = {"result": "created", "tracking_id": update["tracking_id"], "timestamp": update["timestamp"]}
        return {"statusCode": 201, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}

    def status(self, event: dict, context) -> dict:
        tracking_id = event["queryStringParameters"]["tracking_id"]
        response = self.dynamodb.query(
            TableName=self.table_name,
            KeyConditionExpression="#pk = :id",
            ExpressionAttributeNames={"#pk": "tracking_id"},
            ExpressionAttributeValues={":id": {"S": tracking_id}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
            ReturnConsumedCapacity="TOTAL",
        )
        item = response["Items"][0]
        body = {"tracking_id": tracking_id, "timestamp": item["event_time"]["S"]}
        for name, value in item.items():
            if name in ("status", "carrier", "carrier_status", "description"):
                body[name] = value["S"]
        body["location"] = {key: value["S"] for key, value in item["location"]["M"].items()}
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


class _Variant:
    def __init__(
        self,
        handler: Callable,
        event: dict,
        stubber,
        operation: str,
        response: dict,
        status: int,
        after_round: Optional[Callable[[], None]] = None,
    ):
        self.handler = handler
        self.after_round = after_round
        self.event = event
        self.stubber = stubber
        self.operation = operation
        self.response = response
        self.status = status
        self.durations_ns: List[int] = []
        # Median call time of each round, in round order, for ratios paired by round.
        self.round_medians_ns: List[float] = []
        self.output_characters = 0
        self.output_lines = 0
        self.calls = 0

    def call(self, count: int, sink: CountingSink, record: bool) -> None:
        for _ in range(count):
            self.stubber.add_response(self.operation, self.response)
        sink.reset()
        context = LambdaContext()
        durations = []
        for _ in range(count):
            start = time.perf_counter_ns()
            result = self.handler(self.event, context)
            durations.append(time.perf_counter_ns() - start)
            if result["statusCode"] != self.status:
                raise RuntimeError(f"expected status {self.status}, got {result['statusCode']}: {result['body']}")
        self.stubber.assert_no_pending_responses()
        if self.after_round is not None:
            self.after_round()
        if record:
            self.durations_ns.extend(durations)
            self.round_medians_ns.append(statistics.median(durations))
            self.output_characters += sink.characters
            self.output_lines += sink.lines
            self.calls += count


def _build_variants() -> Dict[str, _Variant]:
    import boto3
    from botocore.stub import Stubber

    from tracking import app, store, validation
    from tracking.observability import metrics

    service = app.service()
    table_name = service.store.table_name
    real = Stubber(service.store.dynamodb)
    minimal_handlers = MinimalHandlers(boto3.client("dynamodb", region_name=REGION), table_name)
    minimal = Stubber(minimal_handlers.dynamodb)
    real.activate()
    minimal.activate()

    _, (normalized,) = validation.validate_track_body(SAMPLE_UPDATE)
    stored = store._to_item(normalized, normalized["timestamp"], "00000000-0000-0000-0000-000000000001")
    query_response = {
        "Items": [stored],
        "Count": 1,
        "ScannedCount": 1,
        "ConsumedCapacity": {"TableName": table_name, "CapacityUnits": 1.0},
    }
    post = rest_event("POST", "/track", body=SAMPLE_UPDATE)
    get = rest_event("GET", "/status", query={"tracking_id": SAMPLE_UPDATE["tracking_id"]})

    def discard() -> None:
        # Without the metrics decorator nothing flushes the values, so they are dropped here and the
        # real handler's next flush carries only its own.
        metrics.clear_metrics()

    def track_service(event: dict, context) -> dict:
        status, _ = service.ingest(validation.parse_body(event["body"]), event["requestContext"]["requestId"])
        return {"statusCode": status}

    def status_service(event: dict, context) -> dict:
        service.status(dict(event["queryStringParameters"]))
        return {"statusCode": 200}

    return {
        "track": _Variant(app.handler, post, real, "put_item", {}, 201),
        "track_resolver": _Variant(app.app.resolve, post, real, "put_item", {}, 201, discard),
        "track_service": _Variant(track_service, post, real, "put_item", {}, 201, discard),
        "track_minimal": _Variant(minimal_handlers.track, post, minimal, "put_item", {}, 201),
        "status": _Variant(app.handler, get, real, "query", query_response, 200),
        "status_resolver": _Variant(app.app.resolve, get, real, "query", query_response, 200, discard),
        "status_service": _Variant(status_service, get, real, "query", query_response, 200, discard),
        "status_minimal": _Variant(minimal_handlers.status, get, minimal, "query", query_response, 200),
    }


def _versions() -> dict:
    import platform

    import boto3
    import botocore
    from aws_lambda_powertools.shared.version import VERSION

    return {
        "python": platform.python_version(),
        "powertools": VERSION,
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
    }


def _measure(rounds: int, calls: int, warmup: int, sink: CountingSink) -> dict:
    from benchmarks.processes import rotated, spread

    variants = _build_variants()
    for variant in variants.values():
        variant.call(warmup, sink, record=False)
    for index in range(rounds):
        for name in rotated(VARIANTS, index):
            variants[name].call(calls, sink, record=True)

    figures = {}
    for name, variant in variants.items():
        microseconds = [value / 1000 for value in variant.durations_ns]
        figures[name] = {
            "us": spread(microseconds),
            "round_medians_us": [value / 1000 for value in variant.round_medians_ns],
            "mean_us": sum(microseconds) / len(microseconds),
            "stdout_characters_per_call": variant.output_characters / variant.calls,
            "stdout_lines_per_call": variant.output_lines / variant.calls,
        }
    return {"versions": _versions(), "rounds": rounds, "calls_per_round": calls, "warmup": warmup, "figures": figures}


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.warm", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, required=True, help="interleaved rounds per variant")
    parser.add_argument("--calls", type=int, required=True, help="timed calls per variant and round")
    parser.add_argument("--warmup", type=int, required=True, help="untimed calls per variant first")
    parser.add_argument("--result", required=True, help="file to write the JSON result to")
    args = parser.parse_args(argv)

    # In place before the function is imported, so the Powertools logger writes to the sink too.
    sink = CountingSink()
    real_stdout, sys.stdout = sys.stdout, sink
    try:
        result = _measure(args.rounds, args.calls, args.warmup, sink)
    finally:
        sys.stdout = real_stdout
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")
    return 0


def _paired_ratio(figures: dict, variant: str, baseline: str) -> float:
    """Return the median over rounds of the two variants' ratio, so load that changes between rounds cancels."""
    pairs = zip(figures[variant]["round_medians_us"], figures[baseline]["round_medians_us"])
    return statistics.median(value / base for value, base in pairs)


def _breakdown(figures: dict, route: str) -> dict:
    """Split a route's median time into the layers the variants add one by one."""
    medians = {layer: figures[route + layer]["us"]["median"] for layer in LAYERS}
    return {
        "minimal_handler": medians["_minimal"],
        "service_over_minimal": medians["_service"] - medians["_minimal"],
        "router_over_service": medians["_resolver"] - medians["_service"],
        "decorators_over_router": medians[""] - medians["_resolver"],
    }


def measure(interpreter, size, workdir: Path) -> dict:
    """Run the worker on ``interpreter`` and return its figures with the ratios and the goal."""
    from benchmarks.events import function_environment
    from benchmarks.processes import CLOSED_LOOPBACK_ENDPOINT, run_worker
    from shared import definitions

    table_name = definitions.table_name("dev")
    # Never called: a write is parked only when the table fails, and the stub does not fail.
    queue_url = f"{CLOSED_LOOPBACK_ENDPOINT}/123456789012/{definitions.queue_name('dev')}"
    arguments = ["--rounds", str(size.warm_rounds), "--calls", str(size.warm_calls), "--warmup", str(size.warm_warmup)]
    result = run_worker(
        interpreter,
        "benchmarks.warm",
        arguments,
        workdir / "warm.json",
        extra=function_environment(table_name, queue_url),
    )
    figures = result["figures"]
    ratios = {route: figures[route]["us"]["median"] / figures[f"{route}_minimal"]["us"]["median"] for route in ROUTES}
    result["ratios"] = ratios
    result["goal_ratio"] = GOAL_RATIO
    result["breakdown_us"] = {route: _breakdown(figures, route) for route in ROUTES}
    result["interpreter"] = interpreter.display_name()
    result["python"] = interpreter.version
    result["is_function_runtime"] = interpreter.is_function_runtime
    result["goal"] = {
        "text": "a warm request through the real handler takes at most 1.5 times the minimal handler's time",
        "met": all(ratio <= GOAL_RATIO for ratio in ratios.values()),
        "detail": (
            f"POST /track {figures['track']['us']['median']:.0f} us against "
            f"{figures['track_minimal']['us']['median']:.0f} us ({ratios['track']:.2f}x); GET /status "
            f"{figures['status']['us']['median']:.0f} us against {figures['status_minimal']['us']['median']:.0f} us "
            f"({ratios['status']:.2f}x)"
        ),
    }
    return result


if __name__ == "__main__":
    sys.exit(main())
