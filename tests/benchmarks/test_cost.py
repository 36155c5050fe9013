"""The monthly cost model: its price table, its arithmetic and its count of the stacks' billed resources."""

import json

import pytest

from benchmarks import cost
from devkit import offline
from shared import settings


@pytest.fixture(scope="module")
def prices():
    return cost.load_prices()


@pytest.fixture(scope="module")
def reports():
    return {scale: cost.report(scale) for scale in (1.0, 100.0)}


def test_inventory_matches_offline_stacks():
    assert cost.count_inventory(offline.run_chain("dev")) == cost.STACK_INVENTORY


def test_price_table_names_source_of_every_price(prices):
    sources = prices["sources"]
    unknown = {key: price["source"] for key, price in prices["prices"].items() if price["source"] not in sources}
    assert unknown == {}


def test_price_table_marked_unverified_with_date(prices):
    assert prices["region"] == "us-west-2"
    assert prices["status"].startswith("UNVERIFIED")
    assert len(prices["written_on"]) == len("2026-01-01")


def test_price_table_is_plain_json():
    text = cost.PRICES_FILE.read_text(encoding="utf-8")
    assert json.loads(text)["currency"] == "USD"


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_total_is_sum_of_items(reports, scale):
    entry = reports[scale]
    assert entry["total_usd"] == pytest.approx(sum(item["monthly_usd"] for item in entry["items"]))
    assert entry["total_usd"] == pytest.approx(sum(entry["by_service"].values()))


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_free_allowances_never_raise_cost(reports, scale):
    for item in reports[scale]["items"]:
        assert 0 <= item["after_free_usd"] <= item["monthly_usd"], item


def test_requests_scale_with_traffic(reports):
    assert reports[1.0]["requests_per_month"] == 1_800 * 30 * 2
    assert reports[100.0]["requests_per_month"] == pytest.approx(100 * reports[1.0]["requests_per_month"])


def test_fixed_items_do_not_scale(reports):
    fixed = {"dashboards", "alarm metrics", "customer managed key (alarm topic)"}
    for low, high in zip(reports[1.0]["items"], reports[100.0]["items"]):
        if low["item"] in fixed:
            assert low["monthly_usd"] == high["monthly_usd"], low["item"]


def test_report_uses_setting_defaults(reports):
    assumptions = reports[1.0]["assumptions"]
    assert assumptions["memory_mb"] == settings.BY_KEY["memorySize"].default == 256
    assert assumptions["timeout_s"] == settings.BY_KEY["timeout"].default == 25
    assert assumptions["architecture"] == "x86_64"


def test_stored_item_takes_one_write_unit(reports):
    assert reports[1.0]["assumptions"]["item_bytes"] <= 1024


def test_markdown_lists_every_service(reports):
    page = cost.render_markdown(list(reports.values()))
    for service in reports[1.0]["by_service"]:
        assert f"| {service} |" in page, service
    assert "UNVERIFIED" in page


def test_invalid_scale_rejected():
    with pytest.raises(ValueError, match="invalid scale"):
        cost.report(0)
