"""Bounded load through the local API: a day's volume from concurrent clients, then a burst.

The day is 1,800 single updates for 300 shipments, sent by 6 signed clients in parallel. It
contains identical redeliveries, spelled differently where the contract allows it (case and
spaces of the tracking id, another UTC offset, digits beyond milliseconds), and different
events of one shipment at the same instant. The burst is 180 more updates released at once
from 8 clients, as singles and batches of 5 to 25. It redelivers updates of the day and of
the burst itself, and it carries two batches with one invalid item each, which must be
rejected whole. Both phases together stop after WALL_CLOCK_LIMIT_SECONDS.

The oracle that decides which updates are the same is written here, independently of the
function's validation module: the tracking id loses its spaces and is upper-cased, and the
timestamp becomes UTC with milliseconds. Throughput is printed for information only (run
pytest with -s to see it) and is never asserted.
"""

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import List, Optional, Tuple

import pytest
import requests

import devkit.local

SEED = 20240601
SHIPMENTS = 300
DAY_ORIGINALS = 1500
DAY_REDELIVERIES = 200
DAY_SAME_INSTANT = 100
DAY_UPDATES = DAY_ORIGINALS + DAY_REDELIVERIES + DAY_SAME_INSTANT
DAY_CLIENTS = 6
BURST_ORIGINALS = 100
BURST_REDELIVERIES_OF_DAY = 40
BURST_REDELIVERIES_OF_BURST = 20
BURST_SAME_INSTANT = 20
BURST_UPDATES = BURST_ORIGINALS + BURST_REDELIVERIES_OF_DAY + BURST_REDELIVERIES_OF_BURST + BURST_SAME_INSTANT
BURST_CLIENTS = 8
BURST_CHUNK_SIZES = (1, 1, 1, 5, 10, 25)
REJECTED_BATCHES = 2
REJECTED_BATCH_SIZE = 10
# The one invalid item of each rejected batch has a timestamp without a UTC offset.
INVALID_TIMESTAMP = "2024-05-01T12:00:00"
# Distinct updates that must end up stored: originals and same-instant events of both phases.
EXPECTED_DISTINCT = DAY_ORIGINALS + DAY_SAME_INSTANT + BURST_ORIGINALS + BURST_SAME_INSTANT

# Hard cap on both phases together. Workers send nothing after it.
WALL_CLOCK_LIMIT_SECONDS = 120
REQUEST_TIMEOUT_SECONDS = 20
# Time a worker may take after the cap to finish the request in flight.
JOIN_GRACE_SECONDS = REQUEST_TIMEOUT_SECONDS + 5

STATUSES = (
    "label_created",
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "available_for_pickup",
    "delivery_attempted",
    "exception",
    "returned_to_sender",
    "cancelled",
    "unknown",
)
CARRIERS = ("UPS", "USPS", "FedEx", "La Poste", "DHL")
PLACES = (("Memphis", "US"), ("Louisville", "US"), ("Köln", "DE"), ("São Paulo", "BR"), ("東京", "JP"))
OFFSETS = (
    timedelta(0),
    timedelta(hours=1),
    timedelta(hours=5, minutes=30),
    timedelta(hours=-8),
    timedelta(hours=14),
    timedelta(hours=-12),
)
FIRST_EVENT = datetime(2024, 5, 1, tzinfo=timezone.utc)
# Seconds between two originals, so no two originals share an instant.
EVENT_SPACING_SECONDS = 37


@dataclass(frozen=True)
class Event:
    """One carrier event in canonical form: upper-case tracking id, UTC instant in microseconds."""

    tracking_id: str
    instant: datetime
    status: str
    carrier: str
    place: Optional[Tuple[str, str]] = None
    description: Optional[str] = None


@dataclass(frozen=True)
class PlannedRequest:
    """One POST /track body, whether it is a batch, and whether the contract requires it to be accepted."""

    body: dict
    is_batch: bool
    accepted: bool

    @property
    def updates(self) -> List[dict]:
        return self.body["updates"] if self.is_batch else [self.body]


@dataclass
class Outcome:
    request: PlannedRequest
    status: Optional[int] = None
    body: object = None
    error: str = ""


@dataclass
class PhaseReport:
    name: str
    outcomes: List[Outcome] = field(default_factory=list)
    unsent: int = 0
    seconds: float = 0.0

    @property
    def updates_sent(self) -> int:
        return sum(len(outcome.request.updates) for outcome in self.outcomes)


# The oracle: which updates the contract treats as the same.


def parse_utc(timestamp: str) -> datetime:
    """Parse the RFC 3339 forms this test sends (offset Z or +hh:mm, any fraction) into UTC."""
    text = timestamp.upper()
    if text.endswith("Z"):
        local, offset = text[:-1], timedelta(0)
    else:
        local, sign, hours, minutes = text[:-6], text[-6], int(text[-5:-3]), int(text[-2:])
        offset = timedelta(hours=hours, minutes=minutes) * (1 if sign == "+" else -1)
    date_part, time_part = local.split("T")
    year, month, day = (int(number) for number in date_part.split("-"))
    clock, _, fraction = time_part.partition(".")
    hour, minute, second = (int(number) for number in clock.split(":"))
    microsecond = int(fraction[:6].ljust(6, "0"))
    moment = datetime(year, month, day, hour, minute, second, microsecond, tzinfo=timezone(offset))
    return moment.astimezone(timezone.utc)


def utc_milliseconds(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def normalized_key(update: dict) -> tuple:
    """Return the key that identifies an update: every field, with the tracking id and timestamp normalized."""
    location = update.get("location") or {}
    return (
        update["tracking_id"].replace(" ", "").upper(),
        utc_milliseconds(parse_utc(update["timestamp"])),
        update["status"],
        update.get("carrier"),
        update.get("carrier_status"),
        tuple(sorted(location.items())),
        update.get("description"),
    )


def stored_key(item: dict) -> tuple:
    """Return the normalized key of a table item, in the same shape as ``normalized_key``."""
    location = {name: value["S"] for name, value in item.get("location", {}).get("M", {}).items()}
    return (
        item["tracking_id"]["S"],
        item["event_time"]["S"],
        item["status"]["S"],
        item.get("carrier", {}).get("S"),
        item.get("carrier_status", {}).get("S"),
        tuple(sorted(location.items())),
        item.get("description", {}).get("S"),
    )


# The traffic: events, and the many ways a carrier spells the same one.


def tracking_numbers(rng: random.Random, count: int) -> List[str]:
    """Return distinct tracking numbers in the formats carriers use (UPS, USPS, FedEx, UPU S10)."""
    digits = "0123456789"
    alphanumeric = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    makers = (
        lambda: "1Z" + "".join(rng.choice(alphanumeric) for _ in range(16)),
        lambda: "".join(rng.choice(digits) for _ in range(22)),
        lambda: "".join(rng.choice(digits) for _ in range(12)),
        lambda: "EW" + "".join(rng.choice(digits) for _ in range(9)) + "FR",
    )
    numbers: List[str] = []
    while len(numbers) < count:
        number = makers[len(numbers) % len(makers)]()
        if number not in numbers:
            numbers.append(number)
    return numbers


def spell(rng: random.Random, tracking_id: str) -> str:
    """Return one spelling of a tracking id that the contract treats as the same shipment."""
    style = rng.randrange(4)
    if style == 0:
        return tracking_id
    if style == 1:
        return tracking_id.lower()
    if style == 2:
        return " ".join(tracking_id[start : start + 4] for start in range(0, len(tracking_id), 4))
    return f" {tracking_id.lower()} "


def render_timestamp(rng: random.Random, instant: datetime) -> str:
    """Return the instant as RFC 3339 text in a random offset and precision, same UTC milliseconds."""
    offset = rng.choice(OFFSETS)
    local = instant.astimezone(timezone(offset))
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if rng.random() < 0.2:
        text = text.replace("T", "t")
    precisions = (3, 6, 9) if instant.microsecond >= 1000 else (0, 3, 6, 9)
    digits = rng.choice(precisions)
    micro = f"{instant.microsecond:06d}"
    if digits == 3:
        text += "." + micro[:3]
    elif digits == 6:
        text += "." + micro
    elif digits == 9:
        text += "." + micro + f"{rng.randrange(1000):03d}"
    if offset == timedelta(0):
        return text + rng.choice(("Z", "z", "+00:00"))
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return text + f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def render(rng: random.Random, event: Event) -> dict:
    update = {
        "tracking_id": spell(rng, event.tracking_id),
        "timestamp": render_timestamp(rng, event.instant),
        "status": event.status,
        "carrier": event.carrier,
    }
    if event.place is not None:
        update["location"] = {"city": event.place[0], "country": event.place[1]}
    if event.description is not None:
        update["description"] = event.description
    return update


def new_event(rng: random.Random, shipments: List[str], index: int) -> Event:
    instant = FIRST_EVENT + timedelta(seconds=index * EVENT_SPACING_SECONDS, microseconds=rng.randrange(1_000_000))
    place = rng.choice(PLACES) if rng.random() < 0.6 else None
    description = rng.choice((None, "Arrived at facility", "Départ du centre de tri", "已签收 📦"))
    return Event(rng.choice(shipments), instant, rng.choice(STATUSES), rng.choice(CARRIERS), place, description)


def same_instant_event(rng: random.Random, event: Event, number: int) -> Event:
    """Return a different event of the same shipment at the same instant."""
    status = rng.choice([status for status in STATUSES if status != event.status])
    return Event(event.tracking_id, event.instant, status, event.carrier, event.place, f"second scan {number}")


@dataclass
class Plan:
    day: List[PlannedRequest]
    burst: List[PlannedRequest]


def build_plan(seed: int = SEED) -> Plan:
    rng = random.Random(seed)
    shipments = tracking_numbers(rng, SHIPMENTS)
    index = 0

    day_events = []
    for _ in range(DAY_ORIGINALS):
        day_events.append(new_event(rng, shipments, index))
        index += 1
    day_variants = [same_instant_event(rng, rng.choice(day_events), number) for number in range(DAY_SAME_INSTANT)]
    day_updates = [render(rng, event) for event in day_events + day_variants]
    day_updates += [render(rng, rng.choice(day_events)) for _ in range(DAY_REDELIVERIES)]
    rng.shuffle(day_updates)
    day = [PlannedRequest(update, is_batch=False, accepted=True) for update in day_updates]

    burst_events = []
    for _ in range(BURST_ORIGINALS):
        burst_events.append(new_event(rng, shipments, index))
        index += 1
    burst_variants = [
        same_instant_event(rng, rng.choice(burst_events), DAY_SAME_INSTANT + number)
        for number in range(BURST_SAME_INSTANT)
    ]
    burst_updates = [render(rng, event) for event in burst_events + burst_variants]
    burst_updates += [render(rng, rng.choice(day_events + day_variants)) for _ in range(BURST_REDELIVERIES_OF_DAY)]
    burst_updates += [render(rng, rng.choice(burst_events)) for _ in range(BURST_REDELIVERIES_OF_BURST)]
    rng.shuffle(burst_updates)

    burst: List[PlannedRequest] = []
    while burst_updates:
        size = rng.choice(BURST_CHUNK_SIZES)
        chunk, burst_updates = burst_updates[:size], burst_updates[size:]
        if size == 1:
            burst.append(PlannedRequest(chunk[0], is_batch=False, accepted=True))
        else:
            burst.append(PlannedRequest({"updates": chunk}, is_batch=True, accepted=True))
    for _ in range(REJECTED_BATCHES):
        items = []
        for _ in range(REJECTED_BATCH_SIZE):
            items.append(render(rng, new_event(rng, shipments, index)))
            index += 1
        items[rng.randrange(REJECTED_BATCH_SIZE)]["timestamp"] = INVALID_TIMESTAMP
        burst.insert(rng.randrange(len(burst) + 1), PlannedRequest({"updates": items}, is_batch=True, accepted=False))
    return Plan(day, burst)


# Sending, bounded in count and time.


def send_all(api, name: str, work: List[List[PlannedRequest]], deadline: float) -> PhaseReport:
    """Send each worker's requests from its own signed client, all workers starting together."""
    report = PhaseReport(name)
    lock = threading.Lock()
    barrier = threading.Barrier(len(work))

    def worker(requests_of_worker: List[PlannedRequest]) -> None:
        outcomes = []
        unsent = 0
        with api.client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
            barrier.wait(timeout=REQUEST_TIMEOUT_SECONDS)
            for planned in requests_of_worker:
                if time.monotonic() >= deadline:
                    unsent += 1
                    continue
                outcome = Outcome(planned)
                try:
                    outcome.status, outcome.body = client.post_track(planned.body)
                except requests.RequestException as exc:
                    outcome.error = f"{type(exc).__name__}: {exc}"
                outcomes.append(outcome)
        with lock:
            report.outcomes.extend(outcomes)
            report.unsent += unsent

    threads = [
        threading.Thread(target=worker, args=(requests_of_worker,), name=f"{name}-client-{number}", daemon=True)
        for number, requests_of_worker in enumerate(work)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + JOIN_GRACE_SECONDS)
    report.seconds = time.monotonic() - started
    still_running = [thread.name for thread in threads if thread.is_alive()]
    assert still_running == [], f"{name}: clients still running after the wall clock limit: {still_running}"
    return report


def split_round_robin(items: list, parts: int) -> List[list]:
    return [items[start::parts] for start in range(parts)]


def scan_table(api) -> List[dict]:
    dynamodb = api.emulator.client("dynamodb")
    items: List[dict] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=api.emulator.table_name, ConsistentRead=True):
        items.extend(page["Items"])
    return items


def drain_queue(api, max_messages: int) -> List[dict]:
    """Return the updates parked on the dead letter queue, reading at most ``max_messages``."""
    sqs = api.emulator.client("sqs")
    parked: List[dict] = []
    for _ in range(max_messages // 10 + 2):
        messages = sqs.receive_message(
            QueueUrl=api.emulator.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            break
        parked.extend(json.loads(message["Body"])["update"] for message in messages)
    return parked


@dataclass
class LoadRun:
    plan: Plan
    day: PhaseReport
    burst: PhaseReport
    items: List[dict]
    parked: List[dict]

    @property
    def outcomes(self) -> List[Outcome]:
        return self.day.outcomes + self.burst.outcomes


@pytest.fixture(scope="module")
def load_run():
    plan = build_plan()
    api = devkit.local.start(port=0)
    try:
        deadline = time.monotonic() + WALL_CLOCK_LIMIT_SECONDS
        day = send_all(api, "day", split_round_robin(plan.day, DAY_CLIENTS), deadline)
        burst = send_all(api, "burst", split_round_robin(plan.burst, BURST_CLIENTS), deadline)
        items = scan_table(api)
        parked = drain_queue(api, DAY_UPDATES + BURST_UPDATES)
    finally:
        api.stop()
    for report in (day, burst):
        rate = report.updates_sent / report.seconds if report.seconds else 0.0
        print(
            f"\n{report.name}: {len(report.outcomes)} requests with {report.updates_sent} updates "
            f"sent in {report.seconds:.1f} s, {rate:.0f} updates/s"
        )
    return LoadRun(plan, day, burst, items, parked)


def accepted_items(run: LoadRun):
    """Yield (sent update, result entry) for each update accepted by the API.

    A single update is accepted when its request returned 201, 200 or 202, and a batch item when
    its batch returned 200.
    """
    for outcome in run.outcomes:
        if not isinstance(outcome.body, dict):
            continue
        if outcome.request.is_batch and outcome.status == 200:
            yield from zip(outcome.request.updates, outcome.body.get("results", []))
        elif not outcome.request.is_batch and outcome.status in (200, 201, 202):
            yield outcome.request.body, outcome.body


def test_oracle_normalizes_known_examples():
    update = {"tracking_id": " 1z 999 aa1 ", "timestamp": "2024-06-01t01:30:00.123456789-07:00", "status": "unknown"}

    key = normalized_key(update)

    assert key[0] == "1Z999AA1"
    assert key[1] == "2024-06-01T08:30:00.123Z"
    assert normalized_key({**update, "timestamp": "2024-06-01T22:30:00.123+14:00"})[1] == "2024-06-01T08:30:00.123Z"
    assert normalized_key({**update, "timestamp": "2024-05-31T20:30:00z"})[1] == "2024-05-31T20:30:00.000Z"
    assert normalized_key({**update, "timestamp": "2024-06-01T00:00:00-12:00"})[1] == "2024-06-01T12:00:00.000Z"


def test_plan_mix_as_designed():
    plan = build_plan()
    accepted_updates = [update for request in plan.day + plan.burst if request.accepted for update in request.updates]
    batches = [request for request in plan.burst if request.is_batch and request.accepted]

    assert len(plan.day) == DAY_UPDATES
    assert sum(len(request.updates) for request in plan.burst if request.accepted) == BURST_UPDATES
    assert len({normalized_key(update) for update in accepted_updates}) == EXPECTED_DISTINCT
    assert batches, "the burst contains no batch"
    assert max(len(request.updates) for request in batches) <= 25
    assert len({json.dumps(update, sort_keys=True) for update in accepted_updates}) > EXPECTED_DISTINCT, (
        "no redelivery is spelled differently from its original"
    )


def test_load_sent_every_request_in_time(load_run):
    assert load_run.day.unsent == 0
    assert load_run.burst.unsent == 0
    assert len(load_run.day.outcomes) == len(load_run.plan.day)
    assert len(load_run.burst.outcomes) == len(load_run.plan.burst)


def test_load_no_transport_errors(load_run):
    errors = [outcome.error for outcome in load_run.outcomes if outcome.error]

    assert errors[:5] == []


def test_load_no_server_errors(load_run):
    server_errors = [(outcome.status, outcome.body) for outcome in load_run.outcomes if (outcome.status or 0) >= 500]

    assert server_errors[:5] == []


def test_load_statuses_as_documented(load_run):
    unexpected = []
    for outcome in load_run.outcomes:
        request = outcome.request
        if not request.accepted:
            allowed = {400}
        elif request.is_batch:
            allowed = {200}
        else:
            allowed = {200, 201, 202}
        if outcome.status not in allowed:
            unexpected.append((outcome.status, outcome.body))

    assert unexpected[:5] == []


def test_load_rejected_batches_name_invalid_item(load_run):
    rejected = [outcome for outcome in load_run.outcomes if not outcome.request.accepted]

    assert len(rejected) == REJECTED_BATCHES
    for outcome in rejected:
        index = next(
            number for number, update in enumerate(outcome.request.updates) if update["timestamp"] == INVALID_TIMESTAMP
        )
        text = json.dumps(outcome.body)
        assert f"updates/{index}/timestamp" in text or f"updates[{index}].timestamp" in text, text


def test_load_single_status_matches_result(load_run):
    status_of_result = {"created": 201, "duplicate": 200, "queued": 202}
    mismatched = [
        (outcome.status, outcome.body)
        for outcome in load_run.outcomes
        if outcome.request.accepted and not outcome.request.is_batch and isinstance(outcome.body, dict)
        if status_of_result.get(outcome.body.get("result")) != outcome.status
    ]

    assert mismatched[:5] == []


def test_load_responses_carry_normalized_values(load_run):
    wrong = []
    for update, result in accepted_items(load_run):
        key = normalized_key(update)
        if (result.get("tracking_id"), result.get("timestamp")) != key[:2]:
            wrong.append((update["tracking_id"], update["timestamp"], result))

    assert wrong[:5] == []


def test_load_each_update_acknowledged_once(load_run):
    first_acknowledgements = Counter()
    keys = set()
    for update, result in accepted_items(load_run):
        key = normalized_key(update)
        keys.add(key)
        if result.get("result") in ("created", "queued"):
            first_acknowledgements[key] += 1

    assert len(keys) == EXPECTED_DISTINCT
    assert [key for key in keys if first_acknowledgements[key] != 1][:5] == []


def test_load_stored_items_equal_accepted_updates(load_run):
    expected = {normalized_key(update) for update, _ in accepted_items(load_run)}
    stored = Counter(stored_key(item) for item in load_run.items)
    parked = Counter(normalized_key(update) for update in load_run.parked)
    stored_or_parked = stored + parked

    assert len(load_run.items) + len(load_run.parked) == len(expected)
    assert [key for key, count in stored_or_parked.items() if count > 1][:5] == []
    assert sorted(expected - set(stored_or_parked))[:5] == [], "accepted updates missing from the table and the queue"
    assert sorted(set(stored_or_parked) - expected)[:5] == [], "stored updates that no accepted request sent"
