"""The benchmarks run end to end at the tiny size and write a page with every section.

No timing is checked: the tiny size takes too few samples for its figures to mean anything.
"""

import pytest

import benchmarks
from benchmarks import report
from benchmarks.processes import REPO_ROOT


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    page = tmp_path_factory.mktemp("benchmarks") / "benchmarks.md"
    result = benchmarks.run(size="tiny", output=page)
    return result, page.read_text(encoding="utf-8")


def test_tiny_run_has_no_failed_benchmark(tiny_run):
    result, _ = tiny_run
    errors = {key: result["sections"][key]["error"] for key in result["failures"]}
    assert errors == {}


@pytest.mark.parametrize("heading", [report.TITLE, *report.FIXED_HEADINGS, *(h for _, h in report.SECTIONS)])
def test_tiny_page_has_section(tiny_run, heading):
    _, page = tiny_run
    assert f"\n{heading}\n" in f"\n{page}", f"{heading!r} missing from the page"


def test_tiny_page_states_size_and_command(tiny_run):
    result, page = tiny_run
    assert "Written at size `tiny`" in page
    assert f"- Command: `{result['command']}`" in page
    assert result["command"].startswith("python -m benchmarks --size tiny")


def test_tiny_page_names_no_checkout_path(tiny_run):
    _, page = tiny_run
    assert str(REPO_ROOT) not in page


def test_tiny_run_judges_every_goal(tiny_run):
    result, _ = tiny_run
    goals = {key: section["goal"]["met"] for key, section in result["sections"].items() if "goal" in section}
    assert sorted(goals) == ["cold_start", "preview", "reads", "warm_path"]
    assert all(isinstance(met, bool) for met in goals.values())
