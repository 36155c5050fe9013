"""Monthly cost model of the tracking API in us-west-2, itemized per service, at a multiple of today's traffic.

``report(scale)`` returns the quantities and dollars of every billed item at ``scale`` times
1,800 updates a day, with the assumptions behind them. ``render_markdown([...])`` turns one
or more reports into tables. Prices come from prices-us-west-2.json beside this module; they
were written without reading the AWS pricing pages live, and the file says so until someone
checks them.

What the model reads from the repository rather than assuming: the function's memory,
timeout, architecture and log retention (defaults in shared/settings.py), the business
metrics (the function's contract module), the access log format (shared/api_definition.py),
the size of a stored item (the key layout of lambda/tracking/store.py) and the number of
alarm metrics, dashboards, customer managed keys and API methods the stacks declare
(``STACK_INVENTORY``, which a test compares with an offline run of the stacks).

Run ``python -m benchmarks.cost [--scale 1 --scale 100]`` to print the tables.
"""

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

from benchmarks.processes import LAMBDA_DIR, REPO_ROOT

PRICES_FILE = Path(__file__).with_name("prices-us-west-2.json")
BASE_UPDATES_PER_DAY = 1_800
DAYS_PER_MONTH = 30
GB = 1024**3

# DynamoDB adds 100 bytes of index overhead to every item for storage (not for request units).
DYNAMODB_ITEM_OVERHEAD_BYTES = 100

# Lambda's platform log lines for one invocation in the default text format, with X-Ray active.
LAMBDA_PLATFORM_LINES = (
    "START RequestId: 8f5c7a2e-1d3b-4c5e-9f7a-2b3c4d5e6f70 Version: $LATEST",
    "END RequestId: 8f5c7a2e-1d3b-4c5e-9f7a-2b3c4d5e6f70",
    "REPORT RequestId: 8f5c7a2e-1d3b-4c5e-9f7a-2b3c4d5e6f70\tDuration: 23.45 ms\tBilled Duration: 24 ms\t"
    "Memory Size: 256 MB\tMax Memory Used: 98 MB\t",
    "XRAY TraceId: 1-66704f11-56b0f1d611b392cb68ad2b83\tSegmentId: 5e6f708192a3b4c5\tSampled: true",
)
# Characters the handler prints per invocation: the Powertools metrics flush (one EMF line),
# measured by benchmarks.warm (253 for GET /status, 255 for POST /track).
EMF_BYTES_PER_INVOCATION = 255
# Representative values of the access log variables for a signed POST /track.
ACCESS_LOG_SAMPLE = {
    "$context.requestId": "89f9261a-2765-4d49-b72e-f76726991e44",
    "$context.extendedRequestId": "ZhFKtGnnDoEEMig=",
    "$context.requestTime": "17/Jun/2024:14:58:25 +0000",
    "$context.identity.userArn": "arn:aws:sts::123456789012:assumed-role/carrier-integration/carrier-a",
    "$context.identity.accountId": "123456789012",
    "$context.identity.sourceIp": "203.0.113.10",
    "$context.httpMethod": "POST",
    "$context.resourcePath": "/track",
    "$context.path": "/prod/track",
    "$context.protocol": "HTTP/1.1",
    "$context.status": "201",
    "$context.responseLength": "96",
    "$context.responseLatency": "45",
    "$context.integrationLatency": "38",
    "$context.integration.status": "201",
    "$context.error.responseType": "-",
    "$context.error.messageString": '"-"',
    "$context.xrayTraceId": "Root=1-66704f11-56b0f1d611b392cb68ad2b83",
}
# Detailed API Gateway metrics per method (metrics_enabled on */*), billed as custom metrics.
# NOTE: CacheHitCount and CacheMissCount are left out because the stage has no cache. If API
# Gateway publishes them anyway, the two methods add 4 more metrics.
API_DETAILED_METRICS = ("Count", "4XXError", "5XXError", "Latency", "IntegrationLatency")


@dataclass(frozen=True)
class StackInventory:
    """Billed resources the stacks declare, counted from an offline run of all four (see ``count_inventory``)."""

    alarm_metrics: int = 12
    dashboards: int = 1
    customer_managed_keys: int = 1
    api_methods: int = 2
    standard_parameters: int = 4


STACK_INVENTORY = StackInventory()


@dataclass(frozen=True)
class Assumptions:
    """Traffic and function figures behind the model, each shown on the page with its value."""

    updates_per_day: float
    # Carriers post single updates; batches of up to 25 would cut API, Lambda and log requests.
    updates_per_post: float = 1.0
    status_queries_per_update: float = 1.0
    # Share of status queries with history=true, which make a second query for a page of events.
    history_share: float = 0.1
    history_page_events: int = 10
    # Share of updates the table rejects and the function parks on the dead letter queue (one send,
    # then a receive and a delete on redrive).
    parked_share: float = 0.001
    # Months of events in the table: no TTL is set by default, so storage grows every month.
    months_of_data: int = 12
    # ESTIMATE: billed duration of a warm invocation on 256 MB, mostly the DynamoDB round trip.
    warm_duration_ms: float = 25.0
    # ESTIMATE: init phase of a cold start (billed since Lambda started charging for it).
    init_duration_ms: float = 1500.0
    # ESTIMATE: cold starts a day: about one per 10 minutes of sparse traffic, plus new sandboxes for bursts.
    base_cold_starts_per_day: float = 144.0
    cold_starts_per_request: float = 0.001
    # ESTIMATE: response bytes sent to the internet per request, headers included.
    response_bytes: int = 500
    # ESTIMATE: KMS calls DynamoDB makes for the table's AWS-managed key (about one per 5 minutes).
    dynamodb_kms_requests_per_month: float = 8_640.0
    alarm_notifications_per_month: float = 20.0
    # X-Ray's default sampling rule: the first request each second, then 5% of the rest.
    xray_reservoir_per_second: float = 1.0
    xray_fixed_rate: float = 0.05
    memory_mb: int = field(default_factory=lambda: _setting("memorySize"))
    timeout_s: int = field(default_factory=lambda: _setting("timeout"))
    architecture: str = field(default_factory=lambda: _setting("architecture"))
    log_retention_days: int = field(default_factory=lambda: _setting("logRetentionDays"))


def _setting(key: str):
    _ensure_paths()
    from shared import settings

    return settings.BY_KEY[key].default


def _ensure_paths() -> None:
    for path in (str(REPO_ROOT), str(LAMBDA_DIR)):
        if path not in sys.path:
            sys.path.insert(0, path)


def load_prices(path: Path = PRICES_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def access_log_bytes() -> int:
    """Return the size of one access log line in the stage's format, filled with ``ACCESS_LOG_SAMPLE``."""
    _ensure_paths()
    from shared import api_definition

    line = api_definition.access_log_format()
    for variable in sorted(ACCESS_LOG_SAMPLE, key=len, reverse=True):
        line = line.replace(variable, ACCESS_LOG_SAMPLE[variable])
    return len(line.encode("utf-8")) + 1


def lambda_log_bytes() -> int:
    """Return the bytes the function's log group receives per invocation: platform lines and the EMF line."""
    return sum(len(line) + 1 for line in LAMBDA_PLATFORM_LINES) + EMF_BYTES_PER_INVOCATION


def sample_sizes() -> dict:
    """Return the request body and the stored item size of a typical update, in bytes."""
    _ensure_paths()
    from benchmarks.dynamodb_size import item_size
    from benchmarks.events import SAMPLE_UPDATE
    from tracking import store, validation

    _, (normalized,) = validation.validate_track_body(SAMPLE_UPDATE)
    item = store._to_item(normalized, normalized["timestamp"], "89f9261a-2765-4d49-b72e-f76726991e44")
    return {"payload_bytes": len(json.dumps(SAMPLE_UPDATE).encode("utf-8")), "item_bytes": item_size(item)}


def custom_metric_count() -> int:
    """Return the custom metrics billed: the business metrics, ColdStart and API Gateway's detailed metrics."""
    _ensure_paths()
    from shared.contract import function_contract

    cold_start = 1  # Powertools' ColdStart metric, with its own dimension set
    api_metrics = len(API_DETAILED_METRICS) * STACK_INVENTORY.api_methods
    return len(function_contract.BUSINESS_METRICS) + cold_start + api_metrics


@dataclass
class _Line:
    service: str
    item: str
    quantity: float
    unit: str
    price_key: Optional[str]
    free: float = 0.0
    note: str = ""


def _traced_per_month(requests_per_month: float, assumptions: Assumptions) -> float:
    """Estimate traces recorded under the default sampling rule, for traffic spread evenly over the month."""
    seconds = DAYS_PER_MONTH * 86_400
    rate = requests_per_month / seconds
    traced_rate = min(rate, assumptions.xray_reservoir_per_second)
    traced_rate += assumptions.xray_fixed_rate * max(rate - assumptions.xray_reservoir_per_second, 0.0)
    return traced_rate * seconds


def _lines(a: Assumptions, sizes: dict, free: dict) -> List[_Line]:
    from benchmarks.dynamodb_size import read_units, write_units

    updates = a.updates_per_day * DAYS_PER_MONTH
    posts = updates / a.updates_per_post
    queries = updates * a.status_queries_per_update
    requests = posts + queries
    cold_starts = (a.base_cold_starts_per_day + a.cold_starts_per_request * requests / DAYS_PER_MONTH) * DAYS_PER_MONTH
    memory_gb = a.memory_mb / 1024
    gb_seconds = memory_gb * (requests * a.warm_duration_ms + cold_starts * a.init_duration_ms) / 1000
    item = sizes["item_bytes"]
    read_units_per_query = read_units([item]) + a.history_share * read_units([item] * a.history_page_events)
    stored_gb = updates * a.months_of_data * (item + DYNAMODB_ITEM_OVERHEAD_BYTES) / GB
    parked = updates * a.parked_share
    log_gb = requests * (access_log_bytes() + lambda_log_bytes()) / GB
    stored_log_gb = log_gb * a.log_retention_days / DAYS_PER_MONTH
    architecture_key = f"lambda_gb_seconds_{a.architecture}"
    inventory = STACK_INVENTORY
    return [
        _Line(
            "API Gateway",
            "REST API requests",
            requests,
            "requests",
            "api_gateway_rest_requests",
            note="the 1 million free requests a month last only 12 months for new accounts",
        ),
        _Line(
            "Data transfer",
            "API responses to the internet",
            requests * a.response_bytes / GB,
            "GB",
            "data_transfer_out",
            free["data_transfer_out_gb"],
        ),
        _Line("Lambda", "requests", requests, "requests", "lambda_requests", free["lambda_requests"]),
        _Line(
            "Lambda",
            f"duration ({a.architecture}, {a.memory_mb} MB)",
            gb_seconds,
            "GB-seconds",
            architecture_key,
            free["lambda_gb_seconds"],
            note=f"{cold_starts:,.0f} cold starts of {a.init_duration_ms:.0f} ms, warm calls of "
            f"{a.warm_duration_ms:.0f} ms",
        ),
        _Line(
            "DynamoDB",
            "write request units",
            posts * a.updates_per_post * write_units(item),
            "WRU",
            "dynamodb_write_request_units",
            note=f"{write_units(item)} WRU per {item}-byte item",
        ),
        _Line(
            "DynamoDB",
            "read request units",
            queries * read_units_per_query,
            "RRU",
            "dynamodb_read_request_units",
            note="strongly consistent: 1 RRU per 4 KB read",
        ),
        _Line(
            "DynamoDB",
            f"storage after {a.months_of_data} months",
            stored_gb,
            "GB-months",
            "dynamodb_storage",
            free["dynamodb_storage"],
        ),
        _Line("DynamoDB", "point-in-time recovery", stored_gb, "GB-months", "dynamodb_point_in_time_recovery"),
        _Line("SQS", "parked updates and their redrive", parked * 3, "requests", "sqs_requests", free["sqs_requests"]),
        _Line(
            "Systems Manager",
            "standard parameters",
            inventory.standard_parameters,
            "parameter-months",
            "ssm_standard_parameters",
        ),
        _Line(
            "Systems Manager",
            "GetParameter (standard throughput)",
            cold_starts,
            "API interactions",
            "ssm_standard_throughput_interactions",
        ),
        _Line(
            "CloudWatch",
            "log ingestion (access logs, function logs)",
            log_gb,
            "GB",
            "cloudwatch_logs_ingestion",
            free["cloudwatch_logs_gb"],
            note=f"{access_log_bytes()} + {lambda_log_bytes()} bytes per request",
        ),
        _Line(
            "CloudWatch",
            f"log storage ({a.log_retention_days} days)",
            stored_log_gb,
            "GB-months",
            "cloudwatch_logs_storage",
            note="uncompressed bytes, an upper bound",
        ),
        _Line(
            "CloudWatch",
            "custom metrics",
            custom_metric_count(),
            "metric-months",
            "cloudwatch_custom_metrics",
            free["cloudwatch_custom_metrics"],
            note="business metrics, ColdStart and API Gateway's detailed metrics, each billed all month",
        ),
        _Line(
            "CloudWatch",
            "alarm metrics",
            inventory.alarm_metrics,
            "alarm metric-months",
            "cloudwatch_alarm_metrics",
            free["cloudwatch_alarm_metrics"],
        ),
        _Line(
            "CloudWatch",
            "dashboards",
            inventory.dashboards,
            "dashboard-months",
            "cloudwatch_dashboards",
            free["cloudwatch_dashboards"],
        ),
        _Line(
            "X-Ray",
            "traces recorded",
            _traced_per_month(requests, a),
            "traces",
            "xray_traces_recorded",
            free["xray_traces_recorded"],
            note="default sampling rule, traffic spread evenly",
        ),
        _Line(
            "KMS",
            "customer managed key (alarm topic)",
            inventory.customer_managed_keys,
            "key-months",
            "kms_customer_managed_keys",
        ),
        _Line(
            "KMS",
            "requests (AWS-managed keys)",
            a.dynamodb_kms_requests_per_month + 2 * cold_starts,
            "requests",
            "kms_requests",
            free["kms_requests"],
            note="DynamoDB's table key, and per cold start the environment and the SecureString",
        ),
        _Line(
            "SNS",
            "alarm e-mail notifications",
            a.alarm_notifications_per_month,
            "notifications",
            "sns_email_notifications",
            free["sns_email_notifications"],
        ),
    ]


def report(scale: float = 1.0, assumptions: Optional[Assumptions] = None, prices: Optional[dict] = None) -> dict:
    """Return the monthly cost at ``scale`` times 1,800 updates a day, itemized per service.

    Each item has its quantity, unit price, list price and the price after the always-free
    allowances (which are account-wide, so the second figure holds only if nothing else in
    the account uses them).
    """
    if scale <= 0:
        raise ValueError(f"invalid scale {scale!r}: use a positive multiple of {BASE_UPDATES_PER_DAY} updates a day")
    assumptions = assumptions or Assumptions(updates_per_day=BASE_UPDATES_PER_DAY * scale)
    prices = prices or load_prices()
    sizes = sample_sizes()
    items = []
    for line in _lines(assumptions, sizes, prices["always_free"]):
        price = prices["prices"][line.price_key]
        unit_price = price["usd"] / price["per"]
        items.append(
            {
                "service": line.service,
                "item": line.item,
                "quantity": line.quantity,
                "unit": line.unit,
                "unit_price_usd": price["usd"],
                "price_per": price["per"],
                "monthly_usd": line.quantity * unit_price,
                "after_free_usd": max(line.quantity - line.free, 0.0) * unit_price,
                "note": line.note,
            }
        )
    by_service: dict = {}
    for entry in items:
        by_service[entry["service"]] = by_service.get(entry["service"], 0.0) + entry["monthly_usd"]
    requests = (
        assumptions.updates_per_day
        * DAYS_PER_MONTH
        * (1 / assumptions.updates_per_post + assumptions.status_queries_per_update)
    )
    timeout_gb_seconds = requests * assumptions.timeout_s * assumptions.memory_mb / 1024
    return {
        "scale": scale,
        "updates_per_day": assumptions.updates_per_day,
        "requests_per_month": requests,
        "assumptions": {
            **asdict(assumptions),
            **sizes,
            "access_log_bytes": access_log_bytes(),
            "lambda_log_bytes": lambda_log_bytes(),
            "days_per_month": DAYS_PER_MONTH,
        },
        "items": items,
        "by_service": by_service,
        "total_usd": sum(entry["monthly_usd"] for entry in items),
        "total_after_free_usd": sum(entry["after_free_usd"] for entry in items),
        "alternatives": {
            "arm64_duration_usd": _arm64_duration(items, assumptions, prices),
            "every_call_at_timeout_duration_usd": timeout_gb_seconds
            * prices["prices"][f"lambda_gb_seconds_{assumptions.architecture}"]["usd"],
        },
        "prices": {key: prices[key] for key in ("region", "currency", "written_on", "status", "sources")},
    }


def _arm64_duration(items: list, assumptions: Assumptions, prices: dict) -> float:
    duration = next(entry for entry in items if entry["service"] == "Lambda" and entry["unit"] == "GB-seconds")
    return duration["quantity"] * prices["prices"]["lambda_gb_seconds_arm64"]["usd"]


def count_inventory(runs: dict) -> StackInventory:
    """Count the billed resources in ``devkit.offline.run_chain`` results, to compare with ``STACK_INVENTORY``."""
    resources = [resource for run in runs.values() for resource in run.resources]
    alarm_metrics = 0
    for resource in resources:
        if resource.type == "aws:cloudwatch/metricAlarm:MetricAlarm":
            queries = resource.inputs.get("metricQueries") or []
            alarm_metrics += sum(1 for query in queries if "metric" in query) if queries else 1
    parameters = [r for r in resources if r.type == "aws:ssm/parameter:Parameter"]
    return StackInventory(
        alarm_metrics=alarm_metrics,
        dashboards=sum(1 for r in resources if r.type == "aws:cloudwatch/dashboard:Dashboard"),
        customer_managed_keys=sum(1 for r in resources if r.type == "aws:kms/key:Key"),
        api_methods=sum(1 for r in resources if r.type == "aws:apigateway/method:Method"),
        standard_parameters=sum(1 for r in parameters if r.inputs.get("tier", "Standard") == "Standard"),
    )


def _money(value: float) -> str:
    if value == 0:
        return "0.00"
    return f"{value:,.2f}" if value >= 0.01 else "<0.01"


def _quantity(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.3g}" if value >= 0.001 else f"{value:.1e}"


def render_markdown(reports: Sequence[dict]) -> str:
    """Render reports at several scales as one itemized table, then the totals and the assumptions."""
    header = ["Service", "Item"]
    for entry in reports:
        header += [f"quantity at {entry['scale']:g}x", f"USD at {entry['scale']:g}x"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, item in enumerate(reports[0]["items"]):
        row = [item["service"], item["item"]]
        for entry in reports:
            scaled = entry["items"][index]
            row += [f"{_quantity(scaled['quantity'])} {scaled['unit']}", _money(scaled["monthly_usd"])]
        lines.append("| " + " | ".join(row) + " |")
    total = ["**Total, list prices**", ""]
    after_free = ["Total after always-free allowances", ""]
    for entry in reports:
        total += ["", f"**{_money(entry['total_usd'])}**"]
        after_free += ["", _money(entry["total_after_free_usd"])]
    lines += ["| " + " | ".join(total) + " |", "| " + " | ".join(after_free) + " |", ""]

    lines.append("Per service, list prices (USD a month):")
    lines.append("")
    for service in reports[0]["by_service"]:
        values = ", ".join(f"{_money(entry['by_service'][service])} at {entry['scale']:g}x" for entry in reports)
        lines.append(f"- {service}: {values}")
    lines.append("")
    for entry in reports:
        alternatives = entry["alternatives"]
        lines.append(
            f"- At {entry['scale']:g}x ({entry['updates_per_day']:,.0f} updates a day, "
            f"{entry['requests_per_month']:,.0f} requests a month): Lambda duration on arm64 would cost "
            f"{_money(alternatives['arm64_duration_usd'])} USD; if every call ran to the "
            f"{entry['assumptions']['timeout_s']} s timeout, "
            f"{_money(alternatives['every_call_at_timeout_duration_usd'])} USD."
        )
    lines += ["", "Notes on the items:", ""]
    for item in reports[0]["items"]:
        if item["note"]:
            lines.append(f"- {item['service']}, {item['item']}: {item['note']}.")
    lines += ["", "Assumptions (the same at every scale except the traffic):", ""]
    for key, value in reports[0]["assumptions"].items():
        if key == "updates_per_day":
            value = ", ".join(f"{entry['updates_per_day']:,.0f}" for entry in reports)
        lines.append(f"- `{key}`: {value}")
    prices = reports[0]["prices"]
    lines += [
        "",
        f"Prices: {prices['region']}, {prices['currency']}, written on {prices['written_on']}. {prices['status']}",
        "",
    ]
    lines += [f"- {service}: {url}" for service, url in prices["sources"].items()]
    return "\n".join(lines) + "\n"


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cost", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale",
        type=float,
        action="append",
        help=f"multiple of {BASE_UPDATES_PER_DAY} updates a day; repeat for several (default 1 and 100)",
    )
    args = parser.parse_args(argv)
    scales = args.scale or [1.0, 100.0]
    print(render_markdown([report(scale) for scale in scales]), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
