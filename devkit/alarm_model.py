"""Evaluate CloudWatch metric alarms offline, over synthetic metric samples.

``AlarmRule.from_inputs`` reads a ``MetricAlarm`` as the offline engine records it (camelCase
inputs), and ``simulate`` replays a ``Timeline`` of raw samples through it with one evaluation
per period. The model follows these public AWS documents:

- CloudWatch User Guide, "Using Amazon CloudWatch alarms": M out of N evaluation, the
  evaluation range, the four missing-data treatments and their example tables, the
  premature-alarm rule, and percentiles with low sample counts.
- CloudWatch User Guide, "Using metric math": arithmetic and comparison on time series,
  ``IF`` and ``FILL``.
- CloudWatch API Reference, PutMetricAlarm, ``TreatMissingData``: alarms on ``AWS/DynamoDB``
  metrics ignore missing data, whatever the alarm's setting.

An alarm setting, statistic, function or operator that the model does not implement raises
``AlarmModelError``, so the model never evaluates something it does not understand.
"""

import bisect
import math
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"

TREATMENTS = ("missing", "notBreaching", "breaching", "ignore")
# CloudWatch's treatment when an alarm sets none.
DEFAULT_TREATMENT = "missing"

COMPARISONS = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"^p(\d{1,3}(?:\.\d+)?)$")

DYNAMODB_NAMESPACE = "AWS/DynamoDB"

# Inputs that decide how an alarm is evaluated. The model reads every one of them.
_EVALUATED_INPUTS = frozenset(
    {
        "comparisonOperator",
        "threshold",
        "evaluationPeriods",
        "datapointsToAlarm",
        "treatMissingData",
        "period",
        "namespace",
        "metricName",
        "dimensions",
        "statistic",
        "extendedStatistic",
        "evaluateLowSampleCountPercentiles",
        "metricQueries",
    }
)
# Inputs that name, describe or route an alarm without changing its state.
_DESCRIPTIVE_INPUTS = frozenset(
    {"name", "alarmDescription", "alarmActions", "okActions", "insufficientDataActions", "actionsEnabled", "tags"}
)

# A metric as CloudWatch stores it: namespace, name and the exact set of dimensions.
MetricKey = Tuple[str, str, Tuple[Tuple[str, str], ...]]
# A time series: value by period start (seconds). A period without a value is missing.
Series = Dict[int, float]


class AlarmModelError(ValueError):
    """An alarm uses a setting, statistic or expression that this model does not implement."""


def metric_key(namespace: str, metric_name: str, dimensions: Mapping[str, str]) -> MetricKey:
    return (namespace, metric_name, tuple(sorted(dimensions.items())))


@dataclass(frozen=True)
class MetricSpec:
    """One metric an alarm reads, with the statistic that turns a period's samples into a datapoint."""

    namespace: str
    metric_name: str
    dimensions: Tuple[Tuple[str, str], ...]
    statistic: str

    @property
    def key(self) -> MetricKey:
        return (self.namespace, self.metric_name, self.dimensions)


@dataclass(frozen=True)
class AlarmRule:
    """The parts of a metric alarm that decide its state."""

    name: str
    comparison_operator: str
    threshold: float
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str
    # Metrics keyed by query id. A single-metric alarm has one, under the id "m1".
    metrics: Tuple[Tuple[str, MetricSpec], ...]
    # The metric math expression whose result the alarm compares, or None for a single-metric alarm.
    expression: Optional[str] = None
    # "evaluate" or "ignore" for a percentile statistic, None otherwise.
    low_sample_percentiles: Optional[str] = None

    @classmethod
    def from_inputs(cls, inputs: Mapping) -> "AlarmRule":
        """Build the rule from MetricAlarm inputs, or raise ``AlarmModelError`` naming what is not modelled."""
        name = inputs.get("name", "<unnamed alarm>")
        unknown = set(inputs) - _EVALUATED_INPUTS - _DESCRIPTIVE_INPUTS
        if unknown:
            raise AlarmModelError(f"alarm {name}: the model does not implement {sorted(unknown)}")

        comparison = inputs.get("comparisonOperator")
        if comparison not in COMPARISONS:
            raise AlarmModelError(f"alarm {name}: comparison operator {comparison!r} is not modelled")
        treatment = inputs.get("treatMissingData", DEFAULT_TREATMENT)
        if treatment not in TREATMENTS:
            raise AlarmModelError(f"alarm {name}: treatMissingData {treatment!r} is not one of {TREATMENTS}")

        evaluation_periods = int(inputs["evaluationPeriods"])
        datapoints_to_alarm = int(inputs.get("datapointsToAlarm", evaluation_periods))
        if not 1 <= datapoints_to_alarm <= evaluation_periods:
            raise AlarmModelError(
                f"alarm {name}: datapointsToAlarm {datapoints_to_alarm} must be 1 to evaluationPeriods "
                f"{evaluation_periods}"
            )

        if "metricQueries" in inputs:
            period, metrics, expression = _read_metric_queries(name, inputs)
            low_sample = None
        else:
            period, metric, low_sample = _read_single_metric(name, inputs)
            metrics, expression = (("m1", metric),), None

        return cls(
            name=name,
            comparison_operator=comparison,
            threshold=float(inputs["threshold"]),
            period=period,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=treatment,
            metrics=metrics,
            expression=expression,
            low_sample_percentiles=low_sample,
        )

    def breaches(self, value: float) -> bool:
        return COMPARISONS[self.comparison_operator](value, self.threshold)

    @property
    def namespaces(self) -> frozenset:
        return frozenset(metric.namespace for _, metric in self.metrics)


def _read_single_metric(name: str, inputs: Mapping) -> Tuple[int, MetricSpec, Optional[str]]:
    statistic = inputs.get("statistic")
    extended = inputs.get("extendedStatistic")
    if (statistic is None) == (extended is None):
        raise AlarmModelError(f"alarm {name}: set exactly one of statistic and extendedStatistic")
    if statistic is not None and statistic not in STATISTICS:
        raise AlarmModelError(f"alarm {name}: statistic {statistic!r} is not one of {STATISTICS}")
    if extended is not None:
        percentile_of(extended)
    low_sample = inputs.get("evaluateLowSampleCountPercentiles")
    if low_sample is not None and extended is None:
        raise AlarmModelError(f"alarm {name}: evaluateLowSampleCountPercentiles applies only to percentiles")
    if extended is not None:
        # CloudWatch evaluates low-sample percentiles unless the alarm sets "ignore".
        low_sample = low_sample or "evaluate"
        if low_sample not in ("evaluate", "ignore"):
            raise AlarmModelError(f"alarm {name}: evaluateLowSampleCountPercentiles {low_sample!r} is not modelled")
    metric = MetricSpec(
        inputs["namespace"],
        inputs["metricName"],
        tuple(sorted((inputs.get("dimensions") or {}).items())),
        statistic or extended,
    )
    return int(inputs["period"]), metric, low_sample


def _read_metric_queries(name: str, inputs: Mapping) -> Tuple[int, Tuple[Tuple[str, MetricSpec], ...], str]:
    for key in ("period", "namespace", "metricName", "dimensions", "statistic", "extendedStatistic"):
        if key in inputs:
            raise AlarmModelError(f"alarm {name}: {key} cannot be combined with metricQueries")
    metrics, expressions, periods = [], [], set()
    for query in inputs["metricQueries"]:
        query_id = query["id"]
        if "metric" in query:
            if query.get("returnData"):
                raise AlarmModelError(
                    f"alarm {name}: query {query_id} returns a metric, but the model needs an expression"
                )
            metric = query["metric"]
            statistic = metric["stat"]
            if statistic not in STATISTICS:
                percentile_of(statistic)
            periods.add(int(metric["period"]))
            dimensions = tuple(sorted((metric.get("dimensions") or {}).items()))
            metrics.append((query_id, MetricSpec(metric["namespace"], metric["metricName"], dimensions, statistic)))
        elif "expression" in query:
            if not query.get("returnData"):
                raise AlarmModelError(
                    f"alarm {name}: expression {query_id} returns no data, and nested expressions are not modelled"
                )
            expressions.append(query["expression"])
        else:
            raise AlarmModelError(f"alarm {name}: query {query_id} has neither metric nor expression")
    if len(expressions) != 1:
        raise AlarmModelError(f"alarm {name}: expected one returned expression, found {len(expressions)}")
    if len(periods) != 1:
        # CloudWatch requires every metric of an alarm's expression to use the same period.
        raise AlarmModelError(f"alarm {name}: metric queries use periods {sorted(periods)}, expected one")
    return periods.pop(), tuple(metrics), expressions[0]


# --- statistics ----------------------------------------------------------------------------------


def percentile_of(statistic: str) -> float:
    """Return the percentile of an extended statistic such as ``p99``, or raise for one not modelled."""
    match = _PERCENTILE.match(statistic)
    if not match or not 0 < float(match.group(1)) <= 100:
        raise AlarmModelError(
            f"statistic {statistic!r} is not modelled: only Sum, Average, Minimum, Maximum, "
            "SampleCount and percentiles p0.1 to p100"
        )
    return float(match.group(1))


def low_sample_limit(percentile: float) -> float:
    """Return the sample count below which CloudWatch calls a percentile's sample count low.

    The user guide gives 10/(1 - p) for p from 0.5 up to 1 (exclusive) and 10/p below 0.5,
    so p99 needs 1,000 samples.
    """
    fraction = percentile / 100
    if fraction >= 1:
        return 0.0
    return 10 / (1 - fraction) if fraction >= 0.5 else 10 / fraction


def aggregate(values: Sequence[float], statistic: str) -> float:
    """Return the datapoint CloudWatch computes from one period's samples."""
    if not values:
        raise ValueError("a period without samples has no datapoint")
    if statistic == "Sum":
        return float(sum(values))
    if statistic == "Average":
        return float(sum(values)) / len(values)
    if statistic == "Minimum":
        return float(min(values))
    if statistic == "Maximum":
        return float(max(values))
    if statistic == "SampleCount":
        return float(len(values))
    # NOTE: nearest rank, because CloudWatch does not document how it computes percentiles of raw
    # values. With five samples a period, as here, any method gives the maximum or close to it.
    ordered = sorted(values)
    rank = math.ceil(percentile_of(statistic) / 100 * len(ordered))
    return float(ordered[max(rank, 1) - 1])


# --- samples -------------------------------------------------------------------------------------


class Timeline:
    """Raw metric samples as AWS services publish them: one value per request, event or interval."""

    def __init__(self) -> None:
        self._times: Dict[MetricKey, List[float]] = {}
        self._values: Dict[MetricKey, List[float]] = {}

    def add(self, namespace: str, metric_name: str, dimensions: Mapping[str, str], time: float, value: float) -> None:
        key = metric_key(namespace, metric_name, dimensions)
        times = self._times.setdefault(key, [])
        values = self._values.setdefault(key, [])
        index = bisect.bisect_right(times, time)
        times.insert(index, time)
        values.insert(index, value)

    def values_between(self, key: MetricKey, start: float, end: float) -> List[float]:
        """Return the samples of one metric with ``start <= time < end``."""
        times = self._times.get(key, [])
        low = bisect.bisect_left(times, start)
        high = bisect.bisect_left(times, end)
        return self._values.get(key, [])[low:high]


# --- metric math ---------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>>=|<=|==|!=|[-+*/()<>,])|(?P<other>\S))"
)
_FUNCTIONS = ("IF", "FILL")
_COMPARISON_OPERATORS = (">", ">=", "<", "<=", "==", "!=")

Value = Union[float, Series]


def _tokenize(expression: str) -> List[Tuple[str, str]]:
    tokens = []
    for match in _TOKEN.finditer(expression):
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "other":
            raise AlarmModelError(f"expression {expression!r}: {text!r} is not a modelled operator")
        tokens.append((kind, text))
    return tokens


class _Parser:
    """Recursive-descent parser for the subset of metric math the stack uses."""

    def __init__(self, expression: str):
        self.expression = expression
        self.tokens = _tokenize(expression)
        self.position = 0

    def parse(self):
        node = self._comparison()
        if self.position != len(self.tokens):
            raise AlarmModelError(f"expression {self.expression!r}: unexpected {self.tokens[self.position][1]!r}")
        return node

    def _peek(self) -> Optional[str]:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _take(self, expected: Optional[str] = None) -> Tuple[str, str]:
        if self.position >= len(self.tokens):
            raise AlarmModelError(f"expression {self.expression!r} ends early")
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise AlarmModelError(f"expression {self.expression!r}: expected {expected!r}, found {token[1]!r}")
        self.position += 1
        return token

    def _comparison(self):
        left = self._additive()
        if self._peek() in _COMPARISON_OPERATORS:
            operator = self._take()[1]
            return ("binary", operator, left, self._additive())
        return left

    def _additive(self):
        node = self._term()
        while self._peek() in ("+", "-"):
            operator = self._take()[1]
            node = ("binary", operator, node, self._term())
        return node

    def _term(self):
        node = self._unary()
        while self._peek() in ("*", "/"):
            operator = self._take()[1]
            node = ("binary", operator, node, self._unary())
        return node

    def _unary(self):
        if self._peek() == "-":
            self._take()
            return ("negate", self._unary())
        return self._primary()

    def _primary(self):
        kind, text = self._take()
        if kind == "number":
            return ("number", float(text))
        if text == "(":
            node = self._comparison()
            self._take(")")
            return node
        if kind == "word" and self._peek() == "(":
            if text not in _FUNCTIONS:
                raise AlarmModelError(
                    f"expression {self.expression!r}: function {text} is not modelled "
                    f"(modelled: {', '.join(_FUNCTIONS)})"
                )
            self._take("(")
            arguments = [self._comparison()]
            while self._peek() == ",":
                self._take()
                arguments.append(self._comparison())
            self._take(")")
            return ("call", text, arguments)
        if kind == "word" and text[0].islower():
            return ("id", text)
        raise AlarmModelError(f"expression {self.expression!r}: {text!r} is not modelled")


def _apply(operator: str, left: float, right: float) -> Optional[float]:
    """Return one arithmetic or comparison result, or None for a division by zero."""
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if operator == "/":
        return None if right == 0 else left / right
    comparisons = {
        ">": left > right,
        ">=": left >= right,
        "<": left < right,
        "<=": left <= right,
        "==": left == right,
        "!=": left != right,
    }
    return 1.0 if comparisons[operator] else 0.0


def _binary(operator: str, left: Value, right: Value) -> Value:
    if not isinstance(left, dict) and not isinstance(right, dict):
        result = _apply(operator, left, right)
        if result is None:
            raise AlarmModelError(f"scalar division by zero: {left} / {right}")
        return result
    if isinstance(left, dict) and isinstance(right, dict):
        # Both documented rules: a value missing from one series counts as 0, and a datapoint
        # that would divide by zero is dropped.
        timestamps = sorted(set(left) | set(right))
        pairs = [(t, left.get(t, 0.0), right.get(t, 0.0)) for t in timestamps]
    elif isinstance(left, dict):
        pairs = [(t, value, right) for t, value in sorted(left.items())]
    else:
        pairs = [(t, left, value) for t, value in sorted(right.items())]
    series = {}
    for timestamp, a, b in pairs:
        result = _apply(operator, a, b)
        if result is not None:
            series[timestamp] = result
    return series


def _if(condition: Value, when_true: Value, when_false: Optional[Value]) -> Series:
    """Apply metric math IF with the documented rules for missing datapoints."""
    if not isinstance(condition, dict):
        chosen = when_true if condition != 0 else when_false
        if chosen is None:
            return {}
        if not isinstance(chosen, dict):
            raise AlarmModelError("IF with a scalar condition must choose between time series")
        return dict(chosen)
    series = {}
    for timestamp, value in sorted(condition.items()):
        if value != 0:
            # A true condition with no datapoint in the chosen series gives 0.
            series[timestamp] = when_true.get(timestamp, 0.0) if isinstance(when_true, dict) else when_true
        elif when_false is None:
            continue
        elif isinstance(when_false, dict):
            if timestamp in when_false:
                series[timestamp] = when_false[timestamp]
        else:
            series[timestamp] = when_false
    return series


@dataclass(frozen=True)
class _Context:
    series: Mapping[str, Series]
    timestamps: Tuple[int, ...]
    fill_empty_series: bool


def _evaluate(node, context: _Context) -> Value:
    kind = node[0]
    if kind == "number":
        return node[1]
    if kind == "id":
        if node[1] not in context.series:
            raise AlarmModelError(f"expression reads query {node[1]!r}, which the alarm does not define")
        return dict(context.series[node[1]])
    if kind == "negate":
        return _binary("*", -1.0, _evaluate(node[1], context))
    if kind == "binary":
        return _binary(node[1], _evaluate(node[2], context), _evaluate(node[3], context))
    name, arguments = node[1], [_evaluate(argument, context) for argument in node[2]]
    if name == "FILL":
        if len(arguments) != 2 or not isinstance(arguments[0], dict) or isinstance(arguments[1], dict):
            raise AlarmModelError("FILL is modelled only as FILL(time series, number)")
        series, filler = arguments
        # NOTE: the user guide does not say what FILL returns for a series with no datapoint in the
        # queried range. One public report of an alarm fixed with FILL after days without data
        # suggests that it fills every period. fill_empty_series=False models the other reading.
        if not series and not context.fill_empty_series:
            return {}
        return {timestamp: series.get(timestamp, filler) for timestamp in context.timestamps}
    if len(arguments) not in (2, 3):
        raise AlarmModelError("IF takes a condition, a value if true and an optional value if false")
    return _if(arguments[0], arguments[1], arguments[2] if len(arguments) == 3 else None)


def evaluate_expression(
    expression: str, series: Mapping[str, Series], timestamps: Sequence[int], fill_empty_series: bool = True
) -> Series:
    """Evaluate a metric math expression over the given series and return the resulting time series.

    ``timestamps`` are the period starts of the queried range, which FILL fills. Raises
    ``AlarmModelError`` for any function, operator or syntax outside the modelled subset.
    """
    result = _evaluate(_Parser(expression).parse(), _Context(series, tuple(timestamps), fill_empty_series))
    if not isinstance(result, dict):
        raise AlarmModelError(f"expression {expression!r} returns a number, but an alarm needs a time series")
    return result


# --- evaluation ----------------------------------------------------------------------------------


def alarm_state(
    breaches: Sequence[Optional[bool]],
    evaluation_periods: int,
    datapoints_to_alarm: int,
    treat_missing_data: str,
    current_state: str,
) -> str:
    """Return the state CloudWatch sets from one evaluation range of datapoints, oldest first.

    Each entry is True (breaching), False (not breaching) or None (missing). With at least
    ``evaluation_periods`` real datapoints, the most recent ones decide and the treatment is not
    used. With fewer, the treatment fills the shortfall, and every real datapoint still counts.
    """
    real = [(age, breach) for age, breach in zip(range(len(breaches), 0, -1), breaches) if breach is not None]
    if len(real) >= evaluation_periods:
        recent = real[-evaluation_periods:]
        return ALARM if sum(breach for _, breach in recent) >= datapoints_to_alarm else OK
    breaching = sum(breach for _, breach in real)
    shortfall = evaluation_periods - len(real)
    if treat_missing_data == "notBreaching":
        return ALARM if breaching >= datapoints_to_alarm else OK
    if treat_missing_data == "breaching":
        return ALARM if breaching + shortfall >= datapoints_to_alarm else OK
    # "missing" and "ignore" use only the real datapoints.
    if breaching >= datapoints_to_alarm:
        return ALARM
    if any(not breach for _, breach in real):
        return OK
    if real and real[0][0] >= datapoints_to_alarm:
        # The premature-alarm rule: every real datapoint breaches and the oldest is at least
        # datapoints_to_alarm periods old. The user guide's tables set ALARM here for "missing"
        # and keep the state for "ignore".
        return ALARM if treat_missing_data == "missing" else current_state
    return INSUFFICIENT_DATA if treat_missing_data == "missing" else current_state


@dataclass(frozen=True)
class ModelOptions:
    """Choices the AWS documentation leaves open, set per run."""

    # Periods CloudWatch retrieves for one evaluation. None uses evaluation_periods + 2.
    # NOTE: the user guide gives the range only for one example (3 evaluation periods of 5 minutes,
    # range 5) and states that it depends on the period and the resolution. Run tests with several.
    evaluation_range: Optional[int] = None
    # Whether FILL fills a series that has no datapoint at all in the range (see evaluate_expression).
    fill_empty_series: bool = True
    # The API reference states that an alarm on an AWS/DynamoDB metric "remains in its current state" when
    # that metric has missing data. False applies this to the alarm's own datapoints, as the
    # "ignore" treatment. True also keeps the state while none of the AWS/DynamoDB metrics the
    # alarm reads has a datapoint in the newest period, even when FILL has filled the alarm's own.
    dynamodb_gaps_hold_state: bool = False

    def range_for(self, rule: AlarmRule) -> int:
        size = self.evaluation_range if self.evaluation_range is not None else rule.evaluation_periods + 2
        if size < rule.evaluation_periods:
            raise ValueError(f"evaluation range {size} is shorter than {rule.evaluation_periods} evaluation periods")
        return size


@dataclass(frozen=True)
class Datapoint:
    start: int
    value: Optional[float]
    # Samples behind a single-metric datapoint, or None for an expression's datapoint.
    sample_count: Optional[int] = None


@dataclass(frozen=True)
class Evaluation:
    time: int
    state: str
    datapoints: Tuple[Datapoint, ...]


@dataclass
class History:
    """Every evaluation of one alarm over a timeline, in time order."""

    rule: AlarmRule
    initial_state: str
    evaluations: List[Evaluation] = field(default_factory=list)

    @property
    def transitions(self) -> List[Tuple[int, str, str]]:
        """Return ``(time, previous state, new state)`` for every state change."""
        changes, previous = [], self.initial_state
        for evaluation in self.evaluations:
            if evaluation.state != previous:
                changes.append((evaluation.time, previous, evaluation.state))
                previous = evaluation.state
        return changes

    def times_entering(self, state: str) -> List[int]:
        """Return when the alarm entered ``state``: ALARM sends the alarm actions, OK the OK actions."""
        return [time for time, _, new in self.transitions if new == state]

    @property
    def final_state(self) -> str:
        return self.evaluations[-1].state if self.evaluations else self.initial_state

    def state_at(self, time: int) -> str:
        """Return the state set by the last evaluation at or before ``time``."""
        state = self.initial_state
        for evaluation in self.evaluations:
            if evaluation.time > time:
                break
            state = evaluation.state
        return state

    def breaching_periods(self) -> List[int]:
        """Return the start of every period whose datapoint breached the threshold in some evaluation."""
        starts = {
            point.start
            for evaluation in self.evaluations
            for point in evaluation.datapoints
            if point.value is not None and self.rule.breaches(point.value)
        }
        return sorted(starts)

    def describe(self, start: int, end: int) -> str:
        """Return the evaluations between two times as text for assertion messages."""
        lines = []
        for evaluation in self.evaluations:
            if start <= evaluation.time <= end:
                values = " ".join("-" if p.value is None else f"{p.value:g}" for p in evaluation.datapoints)
                lines.append(f"{clock(evaluation.time)} {evaluation.state:<17} [{values}]")
        return "\n".join(lines)


def clock(seconds: int) -> str:
    """Return a time of the timeline as ``[day+]HH:MM`` from its start at 00:00."""
    days, rest = divmod(int(seconds), 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return f"{days}+{text}" if days else text


def datapoints(rule: AlarmRule, timeline: Timeline, end: int, options: ModelOptions) -> Tuple[Datapoint, ...]:
    """Return the alarm's datapoints for the complete periods of the evaluation range ending at ``end``."""
    size = options.range_for(rule)
    starts = [end - (size - index) * rule.period for index in range(size)]
    per_metric: Dict[str, Series] = {}
    counts: Dict[int, int] = {}
    for query_id, metric in rule.metrics:
        series = {}
        for start in starts:
            values = timeline.values_between(metric.key, start, start + rule.period)
            if values:
                series[start] = aggregate(values, metric.statistic)
                counts[start] = len(values)
        per_metric[query_id] = series
    if rule.expression is None:
        (only,) = per_metric.values()
        return tuple(Datapoint(start, only.get(start), counts.get(start, 0)) for start in starts)
    result = evaluate_expression(rule.expression, per_metric, starts, options.fill_empty_series)
    return tuple(Datapoint(start, result.get(start)) for start in starts)


def _holds_state(rule: AlarmRule, timeline: Timeline, points: Sequence[Datapoint], options: ModelOptions) -> bool:
    """Return whether a documented rule keeps the alarm's state instead of evaluating the datapoints."""
    if rule.low_sample_percentiles == "ignore":
        # NOTE: the user guide does not state which datapoints count while "the sample size is low".
        # This model keeps the state while any real datapoint in the range has a low sample count.
        limit = low_sample_limit(percentile_of(rule.metrics[0][1].statistic))
        if any(point.value is not None and point.sample_count < limit for point in points):
            return True
    dynamodb = [metric for _, metric in rule.metrics if metric.namespace == DYNAMODB_NAMESPACE]
    if options.dynamodb_gaps_hold_state and dynamodb and points:
        newest = points[-1].start
        return not any(timeline.values_between(metric.key, newest, newest + rule.period) for metric in dynamodb)
    return False


def evaluate(
    rule: AlarmRule, timeline: Timeline, end: int, current_state: str, options: ModelOptions = ModelOptions()
) -> Evaluation:
    """Evaluate the alarm once, over the complete periods that end at ``end``."""
    points = datapoints(rule, timeline, end, options)
    if _holds_state(rule, timeline, points, options):
        return Evaluation(end, current_state, points)
    treatment = rule.treat_missing_data
    if DYNAMODB_NAMESPACE in rule.namespaces:
        treatment = "ignore"
    breaches = [None if point.value is None else rule.breaches(point.value) for point in points]
    state = alarm_state(breaches, rule.evaluation_periods, rule.datapoints_to_alarm, treatment, current_state)
    return Evaluation(end, state, points)


def simulate(
    rule: AlarmRule,
    timeline: Timeline,
    start: int,
    end: int,
    options: ModelOptions = ModelOptions(),
    initial_state: str = INSUFFICIENT_DATA,
) -> History:
    """Evaluate the alarm at the end of every period from ``start`` to ``end`` and return the history.

    A new alarm starts in INSUFFICIENT_DATA. Each evaluation reads only complete periods, and the
    model assumes every sample has arrived by the end of its period.
    """
    history = History(rule, initial_state)
    state = initial_state
    first = (start // rule.period + 1) * rule.period
    for time in range(first, end + 1, rule.period):
        evaluation = evaluate(rule, timeline, time, state, options)
        history.evaluations.append(evaluation)
        state = evaluation.state
    return history
