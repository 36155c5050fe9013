"""Replay the sample tracking updates through an API and compare the results with the expectations.

Each file under ``tests/data/samples/updates/`` contains ``updates`` (valid updates in the
carrier's order, repeats kept), ``rejected`` (updates the API must answer with 400, each
with the reason ``"<field>: <rule>"``) and ``expected`` (per tracking id: the latest
status, or a list of acceptable statuses when several events share the latest instant,
its UTC timestamp and the number of distinct valid updates).
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, List, Optional

from devkit.local.client import TrackingClient
from shared.contract import REPO_ROOT

SAMPLES_DIR = REPO_ROOT / "tests" / "data" / "samples" / "updates"

# Largest page GET /status returns; the replay follows next_token until the history ends.
HISTORY_PAGE_LIMIT = 100
# Bound on pages per tracking id, so a next_token that never ends cannot loop forever.
MAX_HISTORY_PAGES = 1000


@dataclass
class Check:
    """One request of a replay and whether its response matched the expectation."""

    kind: str  # "update", "rejected" or "status"
    subject: str  # tracking id, with the update's timestamp for POSTs
    expected: str
    actual: str
    passed: bool


@dataclass
class FileReport:
    source: str
    checks: List[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> List[Check]:
        return [check for check in self.checks if not check.passed]

    def count(self, kind: str) -> int:
        return sum(1 for check in self.checks if check.kind == kind)

    def summary(self) -> str:
        verdict = "ok" if self.passed else f"FAILED ({len(self.failures)} of {len(self.checks)} checks)"
        return (
            f"{self.source}: {self.count('update')} updates to accept, {self.count('rejected')} to reject, "
            f"{self.count('status')} status checks: {verdict}"
        )


def sample_files(directory: Path = SAMPLES_DIR) -> List[Path]:
    return sorted(directory.glob("*.json"))


def replay_all(client: TrackingClient, directory: Path = SAMPLES_DIR) -> List[FileReport]:
    return [replay_file(client, path) for path in sample_files(directory)]


def replay_file(client: TrackingClient, path: Path) -> FileReport:
    """POST every update and rejected update of one sample file, then check each expected status."""
    sample = json.loads(path.read_text(encoding="utf-8"))
    report = FileReport(path.name)
    _post_updates(client, sample.get("updates", []), report)
    _post_rejected(client, sample.get("rejected", []), report)
    for tracking_id, expected in sample.get("expected", {}).items():
        report.checks.extend(_check_status(client, tracking_id, expected))
    return report


def format_reports(reports: Iterable[FileReport]) -> str:
    """Return one summary line per file, with each failed check indented below it."""
    lines = []
    for report in reports:
        lines.append(report.summary())
        for check in report.failures:
            lines.append(f"    {check.kind} {check.subject}: expected {check.expected}, got {check.actual}")
    return "\n".join(lines)


def _post_updates(client: TrackingClient, updates: List[dict], report: FileReport) -> None:
    # A repeat is identical to an earlier update field for field, and the API returns 200 "duplicate".
    seen = set()
    for update in updates:
        key = json.dumps(update, sort_keys=True)
        expected_status = 200 if key in seen else 201
        seen.add(key)
        status, body = client.post_track(update)
        report.checks.append(
            Check(
                kind="update",
                subject=f"{update.get('tracking_id')} at {update.get('timestamp')}",
                expected=str(expected_status),
                actual=_describe(status, body),
                passed=status == expected_status,
            )
        )


def _post_rejected(client: TrackingClient, rejected: List[dict], report: FileReport) -> None:
    for entry in rejected:
        update, reason = entry["update"], entry["reason"]
        field_name = reason.split(":", 1)[0].strip()
        status, body = client.post_track(update)
        text = json.dumps(body, ensure_ascii=False)
        report.checks.append(
            Check(
                kind="rejected",
                subject=f"{update.get('tracking_id')} at {update.get('timestamp')} ({reason})",
                expected=f"400 naming {field_name!r}",
                actual=_describe(status, body),
                passed=status == 400 and field_name in text,
            )
        )


def _check_status(client: TrackingClient, tracking_id: str, expected: dict) -> List[Check]:
    status, latest, events = _fetch_history(client, tracking_id)
    if status != 200:
        return [Check("status", tracking_id, "200 with the latest event", _describe(status, latest), False)]
    allowed = expected["status"] if isinstance(expected["status"], list) else [expected["status"]]
    return [
        Check(
            "status",
            f"{tracking_id} status",
            " or ".join(allowed),
            str(latest.get("status")),
            latest.get("status") in allowed,
        ),
        Check(
            "status",
            f"{tracking_id} timestamp",
            expected["timestamp"],
            str(latest.get("timestamp")),
            latest.get("timestamp") == expected["timestamp"],
        ),
        Check(
            "status",
            f"{tracking_id} events",
            str(expected["events"]),
            str(len(events)) if events is not None else "no complete history",
            events is not None and len(events) == expected["events"],
        ),
    ]


def _fetch_history(client: TrackingClient, tracking_id: str):
    """Return the first page's status and body and every event across pages (None if paging failed)."""
    status, first = client.get_status(tracking_id, history=True, limit=HISTORY_PAGE_LIMIT)
    if status != 200 or not isinstance(first, dict):
        return status, first, None
    events = list(first.get("events", []))
    next_token: Optional[str] = first.get("next_token")
    for _ in range(MAX_HISTORY_PAGES):
        if not next_token:
            return status, first, events
        page_status, page = client.get_status(
            tracking_id, history=True, limit=HISTORY_PAGE_LIMIT, next_token=next_token
        )
        if page_status != 200 or not isinstance(page, dict):
            return status, first, None
        events.extend(page.get("events", []))
        next_token = page.get("next_token")
    return status, first, None


def _describe(status: int, body: Any) -> str:
    text = json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body
    if len(text) > 300:
        text = text[:300] + "..."
    return f"{status} {text}"
