"""The benchmarks page (docs/benchmarks.md): the run, the goals, one section per benchmark, the limits."""

from typing import Callable, Dict, List

from benchmarks import cost

TITLE = "# Benchmarks"
SECTIONS = (
    ("cold_start", "## 1. Cold start"),
    ("warm_path", "## 2. Warm path"),
    ("reads", "## 3. Read cost at scale"),
    ("preview", "## 4. Offline preview"),
    ("package", "## 5. Deployment package"),
    ("throughput", "## 6. Local API throughput"),
    ("cost", "## 7. Monthly cost"),
)
FIXED_HEADINGS = ("## Run", "## Goals", "## Limits of these figures")


def _spread_ms(figure: dict, digits: int = 1) -> str:
    return f"{figure['median']:.{digits}f} ({figure['p25']:.{digits}f}-{figure['p75']:.{digits}f})"


def _percent(fraction) -> str:
    return "n/a" if fraction is None else f"{fraction * 100:.1f}%"


def _verdict(goal: dict, tiny: bool) -> str:
    if goal.get("met") is None:
        return "not judged"
    verdict = "met" if goal["met"] else "**not met**"
    return f"{verdict} (tiny run)" if tiny else verdict


def _runtime_note(section: dict) -> List[str]:
    if section.get("is_function_runtime", True):
        return []
    return [
        f"> Measured on Python {section.get('python', '')} ({section['interpreter']}), not the function's "
        "Python 3.9: .venv39 was missing. `invoke test` creates it.",
        "",
    ]


def _cold_start(section: dict, tiny: bool) -> List[str]:
    return (
        _runtime_note(section)
        + _cold_start_variants(section)
        + _cold_start_findings(section)
        + _cold_start_modules(section)
        + ["", "The utilities script, run as the baseline:", "", "```python", section["utilities_script"], "```"]
    )


def _cold_start_variants(section: dict) -> List[str]:
    wall, imports = section["figures"]["wall"], section["figures"]["importtime"]
    lines = [
        f"`import tracking.app` in fresh processes on Python {section['python']} ({section['interpreter']}), "
        f"{section['runs']} processes per variant, interleaved, against the Powertools utilities it uses imported "
        "alone and against a bare interpreter. Milliseconds, median (p25-p75):",
        "",
        "| variant | wall time | -X importtime total |",
        "|---|---|---|",
    ]
    labels = {
        "bare": "bare interpreter (`python -c pass`)",
        "utilities": "utilities alone",
        "handler": "`import tracking.app`",
        "handler_source": "`import tracking.app`, package compiled from source",
    }
    for name, label in labels.items():
        lines.append(f"| {label} | {_spread_ms(wall['ms'][name])} | {_spread_ms(imports['ms'][name])} |")
    return lines


def _cold_start_findings(section: dict) -> List[str]:
    wall, imports = section["figures"]["wall"], section["figures"]["importtime"]
    attribution = section["attribution"]
    return [
        "",
        f"- What the utilities cost: {imports['utilities_cost_ms']:.1f} ms of import time and "
        f"{wall['utilities_cost_ms']:.1f} ms of wall time over the bare interpreter.",
        f"- What the function's package adds, from its own modules' self times in -X importtime: "
        f"{attribution['attributed_ms']:.1f} ms ({_percent(attribution['attributed_fraction'])} of the utilities) "
        f"with bytecode cached, {attribution['attributed_source_ms']:.1f} ms "
        f"({_percent(attribution['attributed_source_fraction'])}) compiled from source.",
        f"- The same from the totals, handler less utilities: {imports['added_ms']:.1f} ms of import time "
        f"(paired per round: median {imports['added_paired_ms']['median']:.1f}, p25-p75 "
        f"{imports['added_paired_ms']['p25']:.1f} to {imports['added_paired_ms']['p75']:.1f}) and "
        f"{wall['added_ms']:.1f} ms of wall time (paired median {wall['added_paired_ms']['median']:.1f}, p25-p75 "
        f"{wall['added_paired_ms']['p25']:.1f} to {wall['added_paired_ms']['p75']:.1f}). A difference of a few "
        "percent is within the noise of whole processes, which is why the goal is judged on the self times.",
        f"- Compiling the package from source, as Lambda does because the archive ships no bytecode and "
        f"/var/task is read-only: {imports['compile_from_source_ms']:.1f} ms more import time, "
        f"{wall['compile_from_source_ms']:.1f} ms more wall time (medians, handler against handler).",
    ]


def _cold_start_modules(section: dict) -> List[str]:
    lines = [
        "",
        "Self time of each module of the package (median, ms; the body of each module, without the modules it "
        "imports):",
        "",
        "| module | bytecode cached | compiled from source |",
        "|---|---|---|",
    ]
    from_source = {entry["module"]: entry["self_ms"] for entry in section["our_modules_from_source"]}
    for entry in section["our_modules"]:
        lines.append(f"| `{entry['module']}` | {entry['self_ms']:.2f} | {from_source.get(entry['module'], 0):.2f} |")

    others = section["handler_only_modules"]
    lines += [""]
    if others:
        listed = ", ".join(f"`{entry['module']}` {entry['self_ms']:.2f} ms" for entry in others[:10])
        lines.append(f"Modules outside the package that only the handler imports: {listed}.")
    else:
        lines.append("Every module outside the package that the handler imports is imported by the utilities too.")

    lines += ["", "boto3 clients created at import:", ""]
    for name in ("utilities", "handler"):
        created = section["clients_at_import"][name]
        if created:
            listed = ", ".join(f"`{client['service']}` from `{client['caller']}`" for client in created)
            lines.append(f"- {name}: {len(created)}: {listed}")
        else:
            lines.append(f"- {name}: none")
    return lines


def _warm_path(section: dict, tiny: bool) -> List[str]:
    figures = section["figures"]
    versions = section["versions"]
    lines = _runtime_note(section) + [
        f"In-process time per request on Python {versions['python']} (Powertools {versions['powertools']}, boto3 "
        f"{versions['boto3']}), DynamoDB stubbed with botocore's Stubber, tracing disabled, the metrics flush "
        f"printed to a counting sink. {section['rounds']} interleaved rounds of {section['calls_per_round']} calls "
        f"per variant after {section['warmup']} warm-up calls. Microseconds:",
        "",
        "| variant | median (p25-p75) | mean | stdout per call |",
        "|---|---|---|---|",
    ]
    labels = {
        "": "real handler (`tracking.app.handler`)",
        "_resolver": "router only (`app.app.resolve`, no Logger/Tracer/Metrics decorators)",
        "_service": "service only (`TrackingService`)",
        "_minimal": "minimal handler (plain boto3 and json)",
    }
    for route, title in (("track", "POST /track"), ("status", "GET /status")):
        for layer, label in labels.items():
            figure = figures[route + layer]
            lines.append(
                f"| {title}: {label} | {_spread_ms(figure['us'], 0)} | {figure['mean_us']:.0f} | "
                f"{figure['stdout_characters_per_call']:.0f} characters |"
            )
    lines += [""]
    for route, title in (("track", "POST /track"), ("status", "GET /status")):
        parts = section["breakdown_us"][route]
        lines.append(
            f"- {title}: {section['ratios'][route]:.2f}x the minimal handler (median of the per-round ratios). "
            f"Over the minimal handler's {parts['minimal_handler']:.0f} us, the service adds "
            f"{parts['service_over_minimal']:.0f} us (validation, content digest, item and response), the "
            f"Powertools router {parts['router_over_service']:.0f} us, and the Logger, Tracer and Metrics "
            f"decorators {parts['decorators_over_router']:.0f} us. The goal leaves "
            f"{parts['minimal_handler'] * (section['goal_ratio'] - 1):.0f} us over the minimal handler; the "
            f"Powertools layers alone take {parts['router_over_service'] + parts['decorators_over_router']:.0f} us."
        )
    lines += [
        "- In AWS each request also waits for a DynamoDB round trip of several milliseconds, which the stub "
        "removes, so these ratios are the worst case of the function's own overhead.",
        "- The router-only and service-only variants skip the metrics decorator: their metric values are dropped "
        "after each round, untimed, and never flushed.",
    ]
    return lines


def _reads(section: dict, tiny: bool) -> List[str]:
    lines = _runtime_note(section) + [
        f"GET /status (latest event only) through the real handler against moto server on 127.0.0.1, "
        f"{section['requests']} timed requests per shipment after {section['warmup']} warm-up, all shipments in "
        f"one table of {section['table_items']:,} items. Responses come from the store's wrapped client.",
        "",
        "| events | queries | Count | ScannedCount | ConsumedCapacity (moto) | read units (DynamoDB rule) | item bytes "
        "| latency ms | query round trip ms | function's own ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, figure in section["figures"].items():
        lines.append(
            f"| {int(key):,} | {figure['queries_per_request']:g} | {figure['count']} | {figure['scanned_count']} | "
            f"{figure['emulator_consumed_capacity']:g} | {figure['read_units']:g} | {figure['item_bytes']} | "
            f"{_spread_ms(figure['latency_ms'])} | {_spread_ms(figure['query_ms'])} | "
            f"{_spread_ms(figure['function_ms'], 2)} |"
        )
    lines += [
        "",
        f"- Latency at the largest size against the smallest: {section['latency_ratio']:.2f}x end to end, "
        f"{section['function_ratio']:.2f}x for the function's own time (latency less the query round trip).",
        "- moto reports a fixed ConsumedCapacity of 1.0 for every query; the read units column applies "
        "DynamoDB's rule (strongly consistent, 1 unit per 4 KB of items read) to the items the query returned.",
        "- moto sorts every item of the table for each query, so the round trip grows with the table, not with "
        "the shipment; DynamoDB reads only the items a query returns. The end-to-end latency here measures moto.",
        "- Load time with batch_write_item: "
        + ", ".join(
            f"{int(key):,} events in {figure['load_seconds']:.1f} s" for key, figure in section["figures"].items()
        )
        + ".",
    ]
    return lines


def _preview(section: dict, tiny: bool) -> List[str]:
    lines = [
        f"Each program under the Pulumi mock engine in a fresh process ({section['interpreter']}), "
        f"{section['runs']} processes each, interleaved. Seconds:",
        "",
        "| run | resources | wall time, median (p25-p75) | `devkit.offline` import | program run |",
        "|---|---|---|---|---|",
    ]
    for name, figure in section["figures"].items():
        label = "all four (`run_chain`)" if name == "chain" else f"`{name}` alone (`run_program`)"
        lines.append(
            f"| {label} | {figure['resources']} | {_spread_ms(figure['wall_s'], 2)} | {figure['import_s']:.2f} | "
            f"{figure['run_s']:.2f} |"
        )
    lines += [
        "",
        f"- The slowest single layer is `{section['slowest_layer']}`; the chain takes "
        f"{section['ratio']:.2f}x its wall time.",
    ]
    return lines


def _package(section: dict, tiny: bool) -> List[str]:
    suffixes = ", ".join(f"{count} `{suffix}`" for suffix, count in section["by_suffix"].items())
    return [
        "The archive the compute stack uploads, built from `package_files` in stacks/compute/compute_function.py "
        "and zipped (deflate) in a temporary directory:",
        "",
        f"- {section['files']} files ({suffixes}), {section['zip_bytes']:,} bytes zipped, "
        f"{section['uncompressed_bytes']:,} bytes unzipped; handler `{section['handler']}`.",
        f"- Lambda accepts {section['zipped_limit_bytes'] // (1024 * 1024)} MB zipped and "
        f"{section['unzipped_limit_bytes'] // (1024 * 1024)} MB unzipped with layers.",
        f"- No dependency bundle: Powertools comes from the AWS-managed layer `{section['powertools_layer_arn']}` "
        f"({section['runtime']}, {section['architecture']}) and boto3 from the Lambda runtime.",
        "- Pulumi zips the same files itself, so its archive can differ from this one by a few bytes.",
    ]


def _throughput(section: dict, tiny: bool) -> List[str]:
    if not section.get("available"):
        return [f"Not measured: {section.get('reason', 'the local API is not available')}."]
    latency = section["latency_ms"]
    statuses = ", ".join(f"{count} x {status}" for status, count in sorted(section["statuses"].items()))
    return [
        f"{section['updates']:,} signed POST /track requests, one update each, from {section['threads']} client "
        f"threads against `devkit.local.start(port=0)` ({section['interpreter']}):",
        "",
        f"- {section['updates_per_second']:.0f} updates/s ({section['seconds']:.1f} s for all); latency p50 "
        f"{latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms, max {latency['max']:.1f} ms; responses: {statuses}.",
        "- The local gateway runs the function one request at a time, as one Lambda execution environment "
        "would, behind moto server. The figure tracks regressions of the local stack; it says nothing about "
        "what API Gateway and Lambda sustain.",
    ]


def _cost(section: dict, tiny: bool) -> List[str]:
    return [
        "From `benchmarks.cost.report(scale)` at today's traffic (1,800 updates a day) and at 100 times that. "
        "Prices are in benchmarks/prices-us-west-2.json.",
        "",
        cost.render_markdown(section["reports"]).rstrip("\n"),
    ]


RENDERERS: Dict[str, Callable[[dict, bool], List[str]]] = {
    "cold_start": _cold_start,
    "warm_path": _warm_path,
    "reads": _reads,
    "preview": _preview,
    "package": _package,
    "throughput": _throughput,
    "cost": _cost,
}

LIMITS = (
    "Every figure comes from one machine in one run; other processes may have been running (see the load "
    "average above). Ratios against a baseline measured in the same run carry over to other machines better "
    "than absolute times, which hold for this machine only.",
    "Lambda runs the function on a fraction of a vCPU at 256 MB, so cold and warm times there are longer than "
    "here. The goals compare our code with a baseline under the same conditions, and a slower CPU slows both.",
    "The warm path stubs DynamoDB and the read benchmark uses moto server, so neither includes AWS network latency.",
    "The cost model's prices were written without reading the AWS pricing pages live and must be checked; the "
    "durations, cold starts and sampling behind it are estimates, marked as such in benchmarks/cost.py.",
)


def render(run: dict) -> str:
    """Return the whole page for the results of ``benchmarks.runner.run``."""
    tiny = run["size"] == "tiny"
    lines = _header(run, tiny) + _goals(run, tiny)
    for key, heading in SECTIONS:
        section = run["sections"][key]
        lines += [heading, ""]
        if "error" in section:
            lines += ["This benchmark failed:", "", "```text", section["error"], "```"]
        else:
            lines += RENDERERS[key](section, tiny)
        lines.append("")

    lines += ["## Limits of these figures", ""]
    lines += [f"- {limit}" for limit in LIMITS]
    return "\n".join(lines) + "\n"


def _header(run: dict, tiny: bool) -> List[str]:
    machine = run["machine"]
    lines = [
        TITLE,
        "",
        "Generated by `invoke bench` (`python -m benchmarks`); do not edit by hand. Each figure is measured on the "
        "machine below as a ratio against a baseline measured in the same run.",
        "",
    ]
    if tiny:
        lines += [
            "> Written at size `tiny`: a handful of samples per figure, enough to run every benchmark but too few "
            "for the figures to mean anything. Run `python -m benchmarks` for real figures.",
            "",
        ]
    lines += [
        "## Run",
        "",
        f"- Command: `{run['command']}` (size `{run['size']}`, {run['seconds']:.0f} s)",
        f"- Date: {machine['date']}",
        f"- Commit: {machine['commit']}",
        f"- CPU: {machine['cpu_model']}, {machine['logical_cpus']} logical CPUs, {machine['memory_gb']:.0f} GB "
        f"memory, {machine['os']}",
        f"- Python: the function on {machine['function_python']}, the tooling on {machine['tooling_python']}",
        f"- Load average (1 minute) at start and end: {machine['load_start']} and {machine['load_end']}",
        "",
    ]
    return lines


def _goals(run: dict, tiny: bool) -> List[str]:
    lines = [
        "## Goals",
        "",
        "| benchmark | goal | measured | verdict |",
        "|---|---|---|---|",
    ]
    for key, heading in SECTIONS:
        section = run["sections"][key]
        goal = section.get("goal")
        name = heading.split(". ", 1)[1]
        if "error" in section:
            lines.append(f"| {name} | - | failed: see below | **failed** |")
        elif goal:
            lines.append(f"| {name} | {goal['text']} | {goal['detail']} | {_verdict(goal, tiny)} |")
    lines.append("")
    return lines
