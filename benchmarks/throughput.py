"""Local API throughput: a day's volume of updates sent at once by concurrent signed clients.

The worker starts the local API (``devkit.local.start(port=0)``: the real function behind a
local stage and an AWS emulator, all on 127.0.0.1) and posts every update with one signed
client per thread. The local gateway runs one request at a time in the function, as one
Lambda execution environment would. The figure therefore tracks regressions in the local
stack and is no estimate of what API Gateway and Lambda sustain.

Run as a worker: ``python -m benchmarks.throughput --updates N --threads T --result FILE``.
"""

import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List, Optional

EVENTS_PER_SHIPMENT = 6
STATUSES = ("label_created", "picked_up", "in_transit", "in_transit", "out_for_delivery", "delivered")
FIRST_EVENT = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)


def day_of_updates(count: int, prefix: str = "DAY") -> List[dict]:
    """Return ``count`` distinct updates: shipments of six events each, as a day's traffic might bring them."""
    updates = []
    for index in range(count):
        shipment, step = divmod(index, EVENTS_PER_SHIPMENT)
        updates.append(
            {
                "tracking_id": f"{prefix}{shipment:010d}",
                "timestamp": (FIRST_EVENT + timedelta(minutes=index)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "status": STATUSES[step],
                "carrier": "UPS",
                "location": {"city": "Louisville", "region": "KY", "country": "US"},
            }
        )
    return updates


class _Clients:
    """One signed client per thread, because a requests session is not safe to share between threads."""

    def __init__(self, api):
        self.api = api
        self.local = threading.local()
        self.all: list = []
        self.lock = threading.Lock()

    def get(self):
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.api.client()
            self.local.client = client
            with self.lock:
                self.all.append(client)
        return client

    def close(self) -> None:
        for client in self.all:
            client.close()


def _send_all(api, updates: List[dict], threads: int) -> tuple:
    clients = _Clients(api)

    def send(update: dict) -> tuple:
        client = clients.get()
        start = time.perf_counter()
        status, _ = client.post_track(update)
        return status, time.perf_counter() - start

    try:
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(send, updates))
        elapsed = time.perf_counter() - start
    finally:
        clients.close()
    return results, elapsed


def _measure(count: int, threads: int) -> dict:
    from benchmarks.processes import percentile

    try:
        from devkit import local
    except ImportError as exc:
        return {"available": False, "reason": f"devkit.local cannot be imported: {exc}"}

    api = local.start(port=0)
    try:
        _send_all(api, day_of_updates(threads, prefix="WARM"), threads)
        results, elapsed = _send_all(api, day_of_updates(count), threads)
    finally:
        api.stop()

    statuses: dict = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    latencies_ms = [seconds * 1000 for _, seconds in results]
    return {
        "available": True,
        "updates": count,
        "threads": threads,
        "seconds": elapsed,
        "updates_per_second": count / elapsed,
        "latency_ms": {
            "p50": percentile(latencies_ms, 0.50),
            "p99": percentile(latencies_ms, 0.99),
            "max": max(latencies_ms),
        },
        "statuses": statuses,
    }


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, required=True, help="updates to send")
    parser.add_argument("--threads", type=int, required=True, help="concurrent client threads")
    parser.add_argument("--result", required=True, help="file to write the JSON result to")
    args = parser.parse_args(argv)
    result = _measure(args.updates, args.threads)
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")
    return 0


def measure(interpreter, size, workdir: Path) -> dict:
    """Run the worker and return its figures, raising ``RuntimeError`` unless every update got 201."""
    from benchmarks.processes import run_worker

    arguments = ["--updates", str(size.throughput_updates), "--threads", str(size.throughput_threads)]
    result = run_worker(interpreter, "benchmarks.throughput", arguments, workdir / "throughput.json")
    result["interpreter"] = interpreter.display_name()
    if result["available"]:
        created = result["statuses"].get("201", 0)
        if created != result["updates"]:
            raise RuntimeError(f"the local API stored {created} of {result['updates']} updates: {result['statuses']}")
    return result


if __name__ == "__main__":
    sys.exit(main())
