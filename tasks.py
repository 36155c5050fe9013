"""Invoke tasks: deploy, preview, destroy and inspect the four stacks, run the tests, serve the API locally.

Each task only validates its options and calls one function. The logic lives in devkit/, and
devkit/deploy.py holds everything that drives the pulumi CLI.

To add a task, put its logic in a devkit module and add a function here. Give it ``c: Context``,
a one-line docstring summary and ``help=`` for every option. Validate ``--env`` with
``deploy.validate_environment``, and raise ``Exit`` with the fix for every failure a user can
correct. A task that needs stack outputs reads them with
``deploy.Pulumi(c, deploy.start_session(env, aws=False)).read_outputs(layer)``.
"""

from invoke import Context, Exit, task

from devkit import deploy
from shared import naming, ownership

_ENV_HELP = f"stack (environment) to act on: {', '.join(naming.ENVIRONMENTS)} (default dev)"
_LAYER_HELP = f"layer to act on: {', '.join(naming.LAYERS)}"
_ENDPOINT_HELP = (
    "URL of a local AWS emulator, for example http://127.0.0.1:5000, saved as tracking:endpoint in every "
    "stack and used with fake credentials"
)
_YES_HELP = "run pulumi without its confirmation prompt (its preview still runs first)"


@task(help={"env": _ENV_HELP, "endpoint": _ENDPOINT_HELP, "yes": _YES_HELP})
def deploy_all(c: Context, env: str = "dev", endpoint: str = "", yes: bool = False) -> None:
    """Deploy foundation, compute, edge and observability in order, stopping at the first failure."""
    deploy.validate_environment(env)
    deploy.deploy(c, env, naming.LAYERS, endpoint=endpoint, yes=yes)


@task(name="deploy", help={"layer": _LAYER_HELP, "env": _ENV_HELP, "endpoint": _ENDPOINT_HELP, "yes": _YES_HELP})
def deploy_layer(c: Context, layer: str = "", env: str = "dev", endpoint: str = "", yes: bool = False) -> None:
    """Redeploy one layer after checking that its upstream stacks export what it reads."""
    deploy.validate_layer(layer)
    deploy.validate_environment(env)
    deploy.deploy(c, env, (layer,), endpoint=endpoint, yes=yes, check_upstream=True)


@task(
    help={
        "layer": f"{_LAYER_HELP} (default: all, in deploy order)",
        "env": _ENV_HELP,
        "offline": "run the programs under the Pulumi mock engine instead of the CLI: no backend, no AWS",
    }
)
def preview(c: Context, layer: str = "", env: str = "dev", offline: bool = False) -> None:
    """Show what a deploy would change: pulumi preview per layer, or the planned resources offline."""
    layers = (deploy.validate_layer(layer),) if layer else naming.LAYERS
    deploy.validate_environment(env)
    if offline:
        deploy.preview_offline(env, layers)
        return
    deploy.require_cli(hint=", or preview without it with --offline")
    deploy.preview(c, env, layers)


@task(
    auto_shortflags=False,
    help={
        "env": _ENV_HELP,
        "yes": _YES_HELP,
        "yes_destroy_prod": "allow destroying the prod stacks, which --env prod requires",
    },
)
def destroy_all(c: Context, env: str = "dev", yes: bool = False, yes_destroy_prod: bool = False) -> None:
    """Destroy every layer's stack in reverse deploy order (prod only with --yes-destroy-prod)."""
    deploy.validate_environment(env)
    deploy.destroy_all(c, env, yes=yes, allow_prod=yes_destroy_prod)


@task(help={"env": _ENV_HELP})
def outputs(c: Context, env: str = "dev") -> None:
    """Print every layer's stack outputs, with secrets masked."""
    deploy.validate_environment(env)
    deploy.show_outputs(c, env)


@task(
    help={
        "env": _ENV_HELP,
        "local": "redrive the queue of the running `invoke local` API instead of the deployed stack",
        "max_messages": "stop after this many messages (default 10000)",
        "by_name": "find the queue and table by their names in AWS instead of the stack outputs, "
        "for when the Pulumi CLI or its state backend is out of reach",
    }
)
def redrive(
    c: Context, env: str = "dev", local: bool = False, max_messages: int = 10_000, by_name: bool = False
) -> None:
    """Replay updates parked on the dead letter queue into the table; a second run changes nothing."""
    from devkit import redrive as parked

    deploy.validate_environment(env)
    if max_messages < 1:
        raise Exit(f"invalid --max-messages {max_messages}: allowed is 1 or more. Fix: pass --max-messages 10000")
    if local and by_name:
        raise Exit("--local and --by-name exclude each other. Fix: pass one of them")
    if local:
        target = parked.local_target()
    elif by_name:
        target = parked.named_target(env)
    else:
        session = deploy.start_session(env, aws=False)
        foundation = deploy.Pulumi(c, session).read_outputs("foundation")
        target = parked.aws_target(foundation.values, foundation.stack)
    parked.print_report(parked.redrive_queue(target, max_messages=max_messages), target.description)


@task(help={"size": "full (the published figures, a few minutes) or tiny (seconds, to check the code runs)"})
def bench(c: Context, size: str = "full") -> None:
    """Measure cold start, warm path, read cost, preview time, package size and throughput into docs/benchmarks.md."""
    if size not in ("full", "tiny"):
        raise Exit(f"invalid --size {size!r}: allowed are full and tiny. Fix: pass --size full")
    import benchmarks

    results = benchmarks.run(size=size, command=f"invoke bench --size {size}")
    if results.get("failures"):
        raise Exit(f"benchmarks failed: {', '.join(map(str, results['failures']))}; see docs/benchmarks.md", code=1)


@task(
    iterable=["scale"], help={"scale": "traffic as a multiple of 1,800 updates a day; repeatable (default 1 and 100)"}
)
def cost(c: Context, scale=None) -> None:
    """Print the itemized monthly cost in us-west-2 from the price table kept in benchmarks/."""
    from benchmarks import cost as model

    try:
        scales = [float(value) for value in scale] or [1.0, 100.0]
    except ValueError:
        raise Exit(f"invalid --scale {scale!r}: allowed are positive numbers. Fix: pass --scale 1") from None
    if any(value <= 0 for value in scales):
        raise Exit(f"invalid --scale {scale!r}: allowed are positive numbers. Fix: pass --scale 1")
    print(model.render_markdown([model.report(value) for value in scales]))


@task
def dashboard_picture(c: Context) -> None:
    """Redraw docs/dashboard.svg from the observability stack's dashboard definition."""
    from devkit import dashboard_picture as picture

    print(f"wrote {picture.write()}")


@task(help={"check": "only compare; exit 1 if the README's generated tables are out of date"})
def docs(c: Context, check: bool = False) -> None:
    """Regenerate the README's settings and ownership tables from shared/settings.py and shared/ownership.py."""
    from devkit import docs as readme

    if check:
        if readme.render(readme.README.read_text(encoding="utf-8")) != readme.README.read_text(encoding="utf-8"):
            raise Exit(
                "README.md's generated tables differ from shared/settings.py and shared/ownership.py. Fix: edit "
                "those files (not the tables), then run `invoke docs`"
            )
        print("README.md is up to date")
        return
    print("updated README.md" if readme.update_readme() else "README.md is up to date")


@task(
    help={
        "fast": "run only pytest on the default Python: no static checks, no Python 3.9 run",
        "static": "run ruff, bandit and vermin first (--no-static skips them)",
        "py39": "run the function tests on Python 3.9 in .venv39 (--no-py39 skips them)",
        "workers": "pytest-xdist workers for the default-Python run: auto (one per CPU), a number, or 0 for none",
    }
)
def test(c: Context, fast: bool = False, static: bool = True, py39: bool = True, workers: str = "auto") -> None:
    """Run the offline suite: ruff, bandit, vermin, pytest, then the function tests on Python 3.9."""
    if workers != "auto" and not workers.isdigit():
        raise Exit(f"invalid --workers {workers!r}: allowed are auto or a whole number. Fix: pass --workers auto")
    deploy.run_suite(c, deploy.plan_suite(fast=fast, static=static, py39=py39, workers=workers))


@task(
    help={
        "port": "TCP port on 127.0.0.1 to serve the API on (0 picks a free one)",
        "stage": "API stage in the URL path, as in /dev/track (default dev)",
        "replay": "send the sample carrier updates through the API once it is ready and print which passed",
    }
)
def local(c: Context, port: int = 8000, stage: str = "dev", replay: bool = False) -> None:
    """Serve the tracking API on 127.0.0.1 with the real function code and an embedded AWS emulator."""
    if not 0 <= port <= 65535:
        raise Exit(f"invalid --port {port}: allowed is 0-65535. Fix: pass --port 8000")
    # Imported here because the emulator loads moto, which takes seconds that other tasks should not pay.
    from devkit import local as local_api

    try:
        local_api.run(port, stage=stage, replay=replay)
    except local_api.LocalApiError as exc:
        raise Exit(str(exc)) from exc


@task(help={"check": "compare only, and exit 1 if .github/CODEOWNERS differs from shared/ownership.py"})
def codeowners(c: Context, check: bool = False) -> None:
    """Write .github/CODEOWNERS from the team ownership in shared/ownership.py."""
    current = ownership.sync_codeowners(check=check)
    if check and not current:
        raise Exit(".github/CODEOWNERS is out of date with shared/ownership.py. Fix: run `invoke codeowners`")
    print(".github/CODEOWNERS is up to date" if current else "wrote .github/CODEOWNERS")


@task(help={"check": "compare only, and exit 1 if docs/openapi.json differs from shared/api_definition.py"})
def openapi(c: Context, check: bool = False) -> None:
    """Write docs/openapi.json, the OpenAPI 3.0.3 description generated from shared/api_definition.py."""
    from devkit import openapi as document

    if check:
        if not document.is_current():
            raise Exit("docs/openapi.json is out of date with shared/api_definition.py. Fix: run `invoke openapi`")
        print("docs/openapi.json is up to date")
        return
    print("wrote docs/openapi.json" if document.write() else "docs/openapi.json is up to date")


@task(
    help={
        "env": _ENV_HELP,
        "url": "invoke URL of the stage to check, such as https://<id>.execute-api.us-west-2.amazonaws.com/dev "
        "(default: the edge stack's invokeUrl output)",
    }
)
def smoke(c: Context, env: str = "dev", url: str = "") -> None:
    """Send signed smoke requests to a deployed API and exit 1 naming the first check that failed."""
    from devkit import smoke as checks

    deploy.validate_environment(env)
    if url:
        url = checks.check_url(url)
    else:
        edge = deploy.Pulumi(c, deploy.start_session(env, aws=False)).read_outputs("edge")
        url = checks.invoke_url(edge, env)
    checks.run_smoke(url, checks.aws_credentials(url))
