"""The on-call runbook covers every alarm the observability stack declares, with facts that match the code.

Each alarm has a section headed by its alarm key, the alarm name without the
``logistics-tracking-<env>-`` prefix. Each section states what the alarm means, what to look at
first and what to do. It states the alarm's M of N rule and names dashboard widgets that exist.
Its Logs Insights queries read only fields the logs contain: the access log's fields, or the
keys Powertools writes plus the keyword fields the function passes to its logger.
"""

import ast
import io
import json
import re
from pathlib import Path

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging import logger as powertools_logger

from shared import api_definition, contract, definitions, naming, settings
from tracking.redrive import RedriveReport

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = REPO_ROOT / "docs" / "runbook.md"
FUNCTION_SOURCES = REPO_ROOT / "lambda" / "tracking"
ENVIRONMENT = "dev"
PLACEHOLDER = "<env>"
ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD_TYPE = "aws:cloudwatch/dashboard:Dashboard"
LOGGER_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}

# Fields CloudWatch Logs Insights generates for every log event (Logs user guide, "Supported
# logs and discovered fields").
SYSTEM_FIELDS = {"@message", "@timestamp", "@ingestionTime", "@logStream", "@log"}
QUERY_WORDS = {"fields", "filter", "stats", "sort", "limit", "display", "parse", "dedup"}
QUERY_WORDS |= {"by", "as", "and", "or", "not", "in", "like", "asc", "desc"}

_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)
_ALARM_HEADING = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
_QUERY = re.compile(r"^```\n(.*?)^```", re.MULTILINE | re.DOTALL)
_LOG_GROUP_COMMENT = re.compile(r"^# log group (\S+)$")
_RULE = re.compile(r"in (\d+) of (\d+) periods of (\d+) minutes")
_WIDGET = re.compile(r'widget "([^"]+)"')
_SETTING = re.compile(r"\btracking:([A-Za-z0-9]+)")
_SETTING_DEFAULT = re.compile(r"`tracking:([A-Za-z0-9]+)`(?:,| \()\s*default (\d+)")
_FIELD = re.compile(r"(?<![\w@.])@?[A-Za-z_][\w.]*")


def _alarm_key(alarm_name: str) -> str:
    return alarm_name[len(naming.resource_name(ENVIRONMENT, "")) :]


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def runbook() -> str:
    return RUNBOOK.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sections(runbook) -> dict:
    """Return the runbook's sections keyed by heading, each with its text up to the next heading."""
    matches = list(_SECTION.finditer(runbook))
    found = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(runbook)
        assert match.group(1) not in found, f"runbook has two sections headed {match.group(1)!r}"
        found[match.group(1)] = runbook[match.end() : end]
    return found


@pytest.fixture(scope="module")
def alarm_sections(sections) -> dict:
    return {heading: text for heading, text in sections.items() if _ALARM_HEADING.match(heading)}


@pytest.fixture(scope="module")
def observability_run(run_layer):
    return run_layer("observability", ENVIRONMENT)


@pytest.fixture(scope="module")
def alarm_inputs(observability_run) -> dict:
    return {_alarm_key(alarm.inputs["name"]): alarm.inputs for alarm in observability_run.of_type(ALARM_TYPE)}


@pytest.fixture(scope="module")
def widget_titles(observability_run) -> set:
    body = json.loads(observability_run.one(DASHBOARD_TYPE).inputs["dashboardBody"])
    return {widget["properties"]["title"] for widget in body["widgets"]}


def _logger_calls():
    """Yield every ``logger.<level>(...)`` call in the function's source."""
    for path in sorted(FUNCTION_SOURCES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LOGGER_METHODS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "logger"
            ):
                yield node


class _LambdaContext:
    function_name = "probe"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-west-2:123456789012:function:probe"
    aws_request_id = "probe-request"


@pytest.fixture(scope="module")
def function_log_fields() -> set:
    """Return the keys the function's log lines can carry.

    The Powertools keys come from a real Logger, set up as the function's handler sets up its own:
    injected Lambda context, API Gateway REST correlation id and X-Ray trace id. The keyword
    fields come from the function's logger calls.
    """
    stream = io.StringIO()
    # A service name of its own, so that the probe does not reuse the function's logger.
    logger = Logger(service="runbook-probe", stream=stream)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    def handler(event, context):
        logger.info("probe")
        try:
            raise ValueError("probe")
        except ValueError:
            logger.exception("probe failed")

    with pytest.MonkeyPatch.context() as patch:
        # Powertools keeps one cold-start flag per process, and the context restores it for later tests.
        patch.setattr(powertools_logger, "is_cold_start", True)
        patch.setenv("_X_AMZN_TRACE_ID", "Root=1-00000000-000000000000000000000000;Parent=0;Sampled=1")
        handler({"requestContext": {"requestId": "probe-request"}}, _LambdaContext())
    keys = set()
    for line in stream.getvalue().splitlines():
        keys.update(json.loads(line))
    keywords = {keyword.arg for call in _logger_calls() for keyword in call.keywords if keyword.arg}
    return keys | keywords | SYSTEM_FIELDS


@pytest.fixture(scope="module")
def log_group_fields(function_log_fields) -> dict:
    access_fields = {key for key, _ in api_definition.ACCESS_LOG_FIELDS} | SYSTEM_FIELDS
    return {
        naming.function_log_group_name(PLACEHOLDER): function_log_fields,
        naming.api_access_log_group_name(PLACEHOLDER): access_fields,
    }


def _queries(text: str) -> list:
    return [match.group(1) for match in _QUERY.finditer(text)]


def _query_fields(query: str) -> set:
    """Return the field names a Logs Insights query reads, without functions, keywords and aliases."""
    lines = [line for line in query.splitlines() if not line.lstrip().startswith("#")]
    text = "\n".join(lines)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', " ", text)
    text = re.sub(r"/(?:[^/\\\n]|\\.)*/", " ", text)
    aliases = set(re.findall(r"\bas\s+(\w+)", text))
    fields = set()
    for match in _FIELD.finditer(text):
        word = match.group()
        if text[match.end() :].lstrip().startswith("(") or word.lower() in QUERY_WORDS:
            continue
        fields.add(word)
    return fields - aliases


# --- coverage ------------------------------------------------------------------------------


def test_runbook_covers_every_alarm(alarm_inputs, alarm_sections):
    assert alarm_inputs, "the observability stack declares no alarms"
    missing = sorted(set(alarm_inputs) - set(alarm_sections))
    stale = sorted(set(alarm_sections) - set(alarm_inputs))
    assert not missing, f"alarms without a runbook section: {missing}"
    assert not stale, f"runbook sections for alarms the stack does not declare: {stale}"


@pytest.mark.parametrize("part", ("**What it means.**", "**Look first.**", "**What to do.**"))
def test_runbook_alarm_sections_have_part(alarm_sections, part):
    for key, text in alarm_sections.items():
        assert part in text, f"runbook section {key} lacks {part}"


def test_runbook_alarm_sections_state_rule(alarm_sections, alarm_inputs):
    for key, inputs in alarm_inputs.items():
        queries = inputs.get("metricQueries") or [{"metric": inputs}]
        period = next(query["metric"]["period"] for query in queries if "metric" in query)
        expected = (int(inputs["datapointsToAlarm"]), int(inputs["evaluationPeriods"]), int(period) // 60)
        stated = {tuple(map(int, match)) for match in _RULE.findall(_flat(alarm_sections[key]))}
        assert stated, f"runbook section {key} does not state the alarm's rule"
        assert stated == {expected}, f"runbook section {key} states {sorted(stated)}, the alarm is {expected}"


def test_runbook_alarm_sections_name_widgets(alarm_sections):
    for key, text in alarm_sections.items():
        assert _WIDGET.findall(_flat(text)), f"runbook section {key} names no dashboard widget"


def test_runbook_widgets_exist(runbook, widget_titles):
    for title in _WIDGET.findall(_flat(runbook)):
        assert title in widget_titles, f"runbook names widget {title!r}, which the dashboard does not have"


def test_runbook_alarm_sections_have_query(alarm_sections):
    for key, text in alarm_sections.items():
        assert _queries(text), f"runbook section {key} has no Logs Insights query"


# --- queries -------------------------------------------------------------------------------


def test_runbook_queries_name_log_group(runbook, log_group_fields):
    queries = _queries(runbook)
    assert queries, "the runbook has no queries"
    for query in queries:
        match = _LOG_GROUP_COMMENT.match(query.splitlines()[0])
        assert match, f"query does not start with '# log group <name>': {query!r}"
        assert match.group(1) in log_group_fields, f"query reads unknown log group {match.group(1)}"


def test_runbook_queries_read_logged_fields(sections, log_group_fields):
    for heading, text in sections.items():
        for query in _queries(text):
            group = _LOG_GROUP_COMMENT.match(query.splitlines()[0]).group(1)
            unknown = sorted(_query_fields(query) - log_group_fields[group])
            assert not unknown, f"runbook section {heading}: query on {group} reads fields it lacks: {unknown}"


def test_runbook_queries_match_logged_messages(runbook):
    messages = {call.args[0].value for call in _logger_calls() if call.args and isinstance(call.args[0], ast.Constant)}
    assert messages, "found no log messages in the function code"
    for query in _queries(runbook):
        for message in re.findall(r'\bmessage = "([^"]+)"', query):
            assert message in messages, f"query filters on message {message!r}, which the function never logs"


def test_runbook_query_field_parser_finds_fields():
    query = '# log group x\nfields @timestamp, status\n| filter error like /a|b/ and level = "ERROR"\n'
    query += "| stats count(*) as events by bin(5m), message"
    assert _query_fields(query) == {"@timestamp", "status", "error", "level", "message"}


# --- facts ---------------------------------------------------------------------------------


def test_runbook_settings_exist(runbook):
    keys = set(_SETTING.findall(runbook))
    assert keys, "the runbook names no setting"
    unknown = sorted(keys - set(settings.BY_KEY))
    assert not unknown, f"runbook names settings that do not exist: {unknown}"


def test_runbook_setting_defaults_match(runbook):
    stated = _SETTING_DEFAULT.findall(_flat(runbook))
    assert stated, "the runbook states no setting default"
    for key, default in stated:
        assert str(settings.BY_KEY[key].default) == default, f"runbook says tracking:{key} defaults to {default}"


def test_runbook_lists_every_track_status(sections):
    route = api_definition.find_route("POST", contract.function_contract.TRACK_PATH)
    table = sections["What carriers see"]
    for status in route.responses:
        assert f"| `{status}` |" in table, f"runbook does not say what {status} from POST /track means to a carrier"


def test_runbook_redrive_lists_report_counts(sections):
    text = sections["Redrive parked updates"]
    for count in RedriveReport().as_dict():
        assert f"- `{count}`:" in text, f"runbook does not explain the redrive count {count}"
    assert "invoke redrive --env <env>" in text


def test_runbook_retention_matches_queue(sections):
    days = definitions.QUEUE_MESSAGE_RETENTION_SECONDS // 86400
    seconds = f"{definitions.QUEUE_MESSAGE_RETENTION_SECONDS:,}"
    assert f"{days} days" in sections["Redrive parked updates"]
    assert f"{days} days are {seconds} seconds" in _flat(sections["dead-letter-queue-not-empty"])


def test_runbook_resource_names_exist(runbook, alarm_inputs):
    known = {
        naming.resource_name(PLACEHOLDER, "alarms"),
        naming.resource_name(PLACEHOLDER, "overview"),
        naming.resource_name(PLACEHOLDER, "api"),
        naming.function_name(PLACEHOLDER),
        definitions.table_name(PLACEHOLDER),
        definitions.queue_name(PLACEHOLDER),
        *(naming.resource_name(PLACEHOLDER, key) for key in alarm_inputs),
    }
    for environment in naming.ENVIRONMENTS:
        known |= {name.replace(PLACEHOLDER, environment) for name in known if PLACEHOLDER in name}
    names = set(re.findall(r"logistics-tracking-(?:<env>|[a-z]+)-[a-z0-9]+(?:-[a-z0-9]+)*", runbook))
    assert names, "the runbook names no resource"
    unknown = sorted(names - known)
    assert not unknown, f"runbook names resources the stacks do not create: {unknown}"
    parameters = set(re.findall(r"/logistics-tracking/<env>/[a-z0-9-]+", runbook))
    known_parameters = {naming.parameter_name(PLACEHOLDER, spec.key) for spec in definitions.PARAMETERS}
    assert parameters <= known_parameters, f"runbook names parameters that do not exist: {sorted(parameters)}"
