"""Read cost at scale: GET /status on shipments with 10, 1,000 and 10,000 stored events, against moto server.

The worker starts moto server on 127.0.0.1 (a free port), creates the table from
``shared.definitions``, and loads each shipment's events with batch_write_item in the key
layout that ``tracking.store`` writes. The events are valid updates normalized by the
function's own validation, shuffled, so the latest event is never the last one written.
It then calls the real handler, with the store's DynamoDB client wrapped to keep every
query's response and round-trip time.

Every shipment is loaded before the first timed request, into the one table the function is
configured with, as in production. moto evaluates a query by sorting every item of the table,
which DynamoDB does not do, so against moto the query round trip costs about the same at every
size and dominates the latency. The goal is therefore judged on what the function controls:
the items its query reads, and its own time per request (the handler's time less the query
round trip). The end-to-end latency is reported beside it.

Run as a worker: ``python -m benchmarks.reads --sizes 10,1000 --requests N --warmup W --result FILE``.
"""

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List, Optional

from benchmarks.dynamodb_size import item_size, read_units
from benchmarks.events import CountingSink, LambdaContext, function_environment, rest_event

GOAL_LATENCY_RATIO = 1.3
STATUSES = ("label_created", "picked_up", "in_transit", "out_for_delivery", "delivered")
# DynamoDB's limit of items per batch_write_item call.
BATCH_SIZE = 25
FIRST_EVENT = datetime(2024, 1, 1, tzinfo=timezone.utc)


class RecordingClient:
    """A DynamoDB client that keeps the response and the round-trip time of every query."""

    def __init__(self, client):
        self._client = client
        self.queries: List[dict] = []

    def query(self, **arguments):
        start = time.perf_counter()
        response = self._client.query(**arguments)
        self.queries.append({"seconds": time.perf_counter() - start, "response": response})
        return response

    def __getattr__(self, name):
        return getattr(self._client, name)


def shipment_updates(tracking_id: str, count: int, seed: int) -> List[dict]:
    """Return ``count`` valid updates of one shipment, one minute apart, in shuffled order."""
    updates = []
    for index in range(count):
        moment = FIRST_EVENT + timedelta(minutes=index)
        updates.append(
            {
                "tracking_id": tracking_id,
                "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "status": STATUSES[index % len(STATUSES)],
                "carrier": "UPS",
                "location": {"city": "Louisville", "region": "KY", "postal_code": "40209", "country": "US"},
                "description": f"Scan {index} at facility",
            }
        )
    random.Random(seed).shuffle(updates)
    return updates


def load_shipment(dynamodb, table_name: str, tracking_id: str, count: int) -> dict:
    """Store a shipment's events with batch_write_item; return the latest event time and the load time."""
    from tracking import store, validation

    received_at = "2024-12-31T00:00:00.000Z"
    normalized = []
    for update in shipment_updates(tracking_id, count, seed=count):
        _, (single,) = validation.validate_track_body(update)
        normalized.append(single)
    # The store's own item layout: key "<event time>#<digest>", the same attributes as put_update writes.
    items = [store._to_item(update, received_at, f"load-{index}") for index, update in enumerate(normalized)]
    start = time.perf_counter()
    for offset in range(0, len(items), BATCH_SIZE):
        requests = [{"PutRequest": {"Item": item}} for item in items[offset : offset + BATCH_SIZE]]
        pending = {table_name: requests}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    seconds = time.perf_counter() - start
    stored = count_events(dynamodb, table_name, tracking_id)
    if stored != count:
        raise RuntimeError(f"shipment {tracking_id}: stored {stored} events, expected {count}")
    latest = max(update["timestamp"] for update in normalized)
    return {"events": count, "latest": latest, "load_seconds": seconds}


def count_events(dynamodb, table_name: str, tracking_id: str) -> int:
    """Return how many events of a shipment the table holds, following pages (a page stops at 1 MB)."""
    arguments = {
        "TableName": table_name,
        "KeyConditionExpression": "#pk = :id",
        "ExpressionAttributeNames": {"#pk": "tracking_id"},
        "ExpressionAttributeValues": {":id": {"S": tracking_id}},
        "Select": "COUNT",
        "ConsistentRead": True,
    }
    total = 0
    while True:
        page = dynamodb.query(**arguments)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _start_emulator():
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def _measure(sizes: List[int], requests: int, warmup: int) -> dict:
    import os

    import boto3

    from benchmarks.processes import rotated, spread
    from shared import definitions

    server, endpoint = _start_emulator()
    try:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        session = boto3.session.Session(region_name="us-west-2")
        table_name = definitions.table_name("dev")
        dynamodb = session.client("dynamodb", endpoint_url=endpoint)
        dynamodb.create_table(**definitions.boto3_table_arguments(table_name))
        queue_url = session.client("sqs", endpoint_url=endpoint).create_queue(
            QueueName=definitions.queue_name("dev"), Attributes=definitions.boto3_queue_attributes()
        )["QueueUrl"]
        os.environ.update(function_environment(table_name, queue_url))

        shipments = {size: load_shipment(dynamodb, table_name, f"BENCH{size:08d}", size) for size in sizes}

        from tracking import app

        service = app.service()
        recorder = RecordingClient(service.store.dynamodb)
        service.store.dynamodb = recorder
        events = {size: rest_event("GET", "/status", query={"tracking_id": f"BENCH{size:08d}"}) for size in sizes}
        samples = {size: [] for size in sizes}
        for index in range(warmup + requests):
            for size in rotated(sizes, index):
                sample = _timed_request(app.handler, events[size], recorder, shipments[size]["latest"])
                if index >= warmup:
                    samples[size].append(sample)
    finally:
        server.stop()

    figures = {}
    for size in sizes:
        timed = samples[size]
        figures[str(size)] = {
            **shipments[size],
            "queries_per_request": statistics.median(s["queries"] for s in timed),
            "count": max(s["count"] for s in timed),
            "scanned_count": max(s["scanned_count"] for s in timed),
            "emulator_consumed_capacity": max(s["consumed_capacity"] for s in timed),
            "read_units": max(s["read_units"] for s in timed),
            "item_bytes": max(s["item_bytes"] for s in timed),
            "latency_ms": spread([s["latency_ms"] for s in timed]),
            "query_ms": spread([s["query_ms"] for s in timed]),
            "function_ms": spread([s["latency_ms"] - s["query_ms"] for s in timed]),
        }
    return {"table_items": sum(sizes), "requests": requests, "warmup": warmup, "figures": figures}


def _timed_request(handler, event: dict, recorder: RecordingClient, latest: str) -> dict:
    recorder.queries.clear()
    start = time.perf_counter()
    response = handler(event, LambdaContext())
    seconds = time.perf_counter() - start
    if response["statusCode"] != 200:
        raise RuntimeError(f"GET /status returned {response['statusCode']}: {response['body']}")
    body = json.loads(response["body"])
    if body["timestamp"] != latest:
        raise RuntimeError(f"GET /status returned the event of {body['timestamp']}, expected the latest, {latest}")
    responses = [query["response"] for query in recorder.queries]
    items = [item for answer in responses for item in answer["Items"]]
    return {
        "latency_ms": seconds * 1000,
        "query_ms": sum(query["seconds"] for query in recorder.queries) * 1000,
        "queries": len(responses),
        "count": sum(answer["Count"] for answer in responses),
        "scanned_count": sum(answer["ScannedCount"] for answer in responses),
        "consumed_capacity": sum(answer.get("ConsumedCapacity", {}).get("CapacityUnits", 0) for answer in responses),
        "read_units": sum(read_units([item_size(item) for item in answer["Items"]]) for answer in responses),
        "item_bytes": max((item_size(item) for item in items), default=0),
    }


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reads", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", required=True, help="comma-separated events per shipment, such as 10,1000")
    parser.add_argument("--requests", type=int, required=True, help="timed requests per shipment")
    parser.add_argument("--warmup", type=int, required=True, help="untimed requests per shipment first")
    parser.add_argument("--result", required=True, help="file to write the JSON result to")
    args = parser.parse_args(argv)
    sizes = [int(part) for part in args.sizes.split(",")]

    sink = CountingSink()
    real_stdout, sys.stdout = sys.stdout, sink
    try:
        result = _measure(sizes, args.requests, args.warmup)
    finally:
        sys.stdout = real_stdout
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")
    return 0


def measure(interpreter, size, workdir: Path) -> dict:
    """Run the worker on ``interpreter`` and return its figures with the goal."""
    from benchmarks.processes import run_worker

    sizes = ",".join(str(events) for events in size.read_sizes)
    arguments = ["--sizes", sizes, "--requests", str(size.read_requests), "--warmup", str(size.read_warmup)]
    result = run_worker(interpreter, "benchmarks.reads", arguments, workdir / "reads.json")
    result["interpreter"] = interpreter.display_name()
    result["python"] = interpreter.version
    result["is_function_runtime"] = interpreter.is_function_runtime
    figures = result["figures"]
    smallest, largest = figures[str(min(size.read_sizes))], figures[str(max(size.read_sizes))]
    latency_ratio = largest["latency_ms"]["median"] / smallest["latency_ms"]["median"]
    function_ratio = largest["function_ms"]["median"] / smallest["function_ms"]["median"]
    one_item = all(entry["count"] == 1 and entry["scanned_count"] == 1 for entry in figures.values())
    one_query = all(entry["queries_per_request"] == 1 for entry in figures.values())
    result["latency_ratio"] = latency_ratio
    result["function_ratio"] = function_ratio
    result["goal"] = {
        "text": "one item read for the latest status at every size, and the function's time at the largest size "
        "within 1.3 times that at the smallest",
        "met": one_item and one_query and function_ratio <= GOAL_LATENCY_RATIO,
        "detail": (
            f"{'one query reading one item' if one_item and one_query else 'more than one item read'} at every "
            f"size; the function's own time {largest['function_ms']['median']:.2f} ms at {largest['events']} events "
            f"against {smallest['function_ms']['median']:.2f} ms at {smallest['events']} ({function_ratio:.2f}x); "
            f"end-to-end against moto {largest['latency_ms']['median']:.1f} ms against "
            f"{smallest['latency_ms']['median']:.1f} ms ({latency_ratio:.2f}x)"
        ),
    }
    return result


if __name__ == "__main__":
    sys.exit(main())
