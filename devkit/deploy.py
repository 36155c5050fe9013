"""The logic behind the invoke tasks: preflight checks, pulumi commands, summaries and the test suite.

``tasks.py`` stays thin: each task validates its options with ``validate_environment`` or
``validate_layer`` and calls one function of this module. Every pulumi command goes through
``Pulumi``, built on a ``Session`` from ``start_session``. That function first checks the CLI,
the state backend, the secrets passphrase and the AWS credentials, so a missing piece stops
the task before the first command runs.

The default state backend is the self-managed file backend in ``.pulumi-state/`` at the
repository root (ignored by git); ``PULUMI_BACKEND_URL`` replaces it. Self-managed backends
(``file://``, ``s3://``, ``azblob://``, ``gs://``) encrypt stack secrets with a passphrase,
which this module never invents: it must come from ``PULUMI_CONFIG_PASSPHRASE`` or
``PULUMI_CONFIG_PASSPHRASE_FILE``.
"""

import hashlib
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping, Optional, Sequence

import yaml
from invoke import Context, Exit, Result

from shared import naming, outputs
from shared.settings import BY_KEY, NAMESPACE

REPO_ROOT = Path(__file__).resolve().parent.parent
STACKS_DIR = REPO_ROOT / "stacks"
STATE_DIR = REPO_ROOT / ".pulumi-state"
POLICY_DIR = REPO_ROOT / "policy"
VENV39_DIR = REPO_ROOT / ".venv39"
PY39_REQUIREMENTS = ("requirements-py39.txt", "lambda/requirements.txt")
INSTALL_URL = "https://www.pulumi.com/docs/install/"
# bandit reports findings of medium and high severity in the code that ships or deploys.

# Backends whose stacks encrypt secrets with a passphrase by default (the Pulumi Cloud uses its own key).
SELF_MANAGED_SCHEMES = ("file", "s3", "azblob", "gs")

# Credentials for an AWS emulator. They are fake on purpose: a provider that ignored the
# emulator endpoint would fail to authenticate against AWS instead of changing a real account.
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Variables that would make the AWS SDK prefer other credentials over the emulator's.
CREDENTIAL_SOURCES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)
# Variables that each point the AWS SDK at credentials on their own.
_CREDENTIAL_VARIABLES = (
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)
# Settings in an AWS config file that give a profile credentials.
_PROFILE_CREDENTIAL_KEYS = (
    "aws_access_key_id",
    "credential_process",
    "credential_source",
    "role_arn",
    "sso_",
)

# The outputs the deploy summary shows for each layer. `invoke outputs` shows all of them.
KEY_OUTPUTS = {
    "foundation": (outputs.TABLE_NAME, outputs.DEAD_LETTER_QUEUE_URL),
    "compute": (outputs.FUNCTION_NAME, outputs.FUNCTION_LOG_GROUP_NAME),
    "edge": (outputs.INVOKE_URL, outputs.CLIENT_POLICY_ARN),
    "observability": (outputs.ALARM_TOPIC_ARN, outputs.DASHBOARD_NAME),
}


# Options shared by several tasks ------------------------------------------------------------


def validate_environment(environment: str) -> str:
    """Return ``environment`` if it is one of the stack names, or raise ``Exit`` naming them."""
    if environment not in naming.ENVIRONMENTS:
        raise Exit(
            f"invalid environment {environment!r}: allowed are {', '.join(naming.ENVIRONMENTS)}. "
            f"Fix: pass --env {naming.ENVIRONMENTS[0]}"
        )
    return environment


def validate_layer(layer: str) -> str:
    """Return ``layer`` if it is one of the four layers, or raise ``Exit`` naming them."""
    allowed = ", ".join(naming.LAYERS)
    if not layer:
        raise Exit(f"--layer is required: one of {allowed}. Fix: pass the layer to deploy, such as --layer compute")
    if layer not in naming.LAYERS:
        raise Exit(f"layer {layer!r} is invalid: allowed are {allowed}. Fix: pass one of them, such as --layer compute")
    return layer


def layer_directory(layer: str) -> Path:
    return STACKS_DIR / layer


def _yaml_as_text(node):
    """Return a composed YAML document with every scalar as the text written in the file.

    The settings check that text, as the stacks do: YAML 1.1 typing would turn 2_5 into 25 or
    0x3c into 60 and let a value through that the stacks reject.
    """
    if node is None:
        return None
    if isinstance(node, yaml.MappingNode):
        return {_yaml_as_text(key): _yaml_as_text(value) for key, value in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_yaml_as_text(item) for item in node.value]
    if node.tag == "tag:yaml.org,2002:null" or (node.style is None and node.value in ("", "~", "null", "Null", "NULL")):
        return None
    return node.value


def stack_config(layer: str, environment: str) -> dict:
    """Return the ``config:`` mapping of ``stacks/<layer>/Pulumi.<environment>.yaml`` (empty if absent)."""
    path = layer_directory(layer) / f"Pulumi.{environment}.yaml"
    if not path.is_file():
        return {}
    try:
        document = _yaml_as_text(yaml.compose(path.read_text(encoding="utf-8"))) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise Exit(
            f"stacks/{layer}/{path.name} is not valid YAML: {exc}. Fix: correct the file, "
            "or recreate it with `pulumi config set`"
        ) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config or {}, dict):
        raise Exit(
            f"stacks/{layer}/{path.name}: `config` must be a mapping of key: value. "
            "Fix: correct the file, or recreate it with `pulumi config set`"
        )
    if not isinstance(document, dict):
        raise Exit(f"stacks/{layer}/{path.name} must be a mapping with a `config:` section. Fix: correct the file")
    return config or {}


def stack_setting(layer: str, environment: str, key: str) -> Optional[str]:
    """Return one plain ``tracking:`` setting of a stack as text, or ``None`` when unset or secret."""
    value = stack_config(layer, environment).get(f"{NAMESPACE}:{key}")
    if value is None or isinstance(value, dict):
        return None
    return str(value).strip()


def organization(layer: str, environment: str) -> str:
    """Return the Pulumi organization that the layer's stack references use."""
    return stack_setting(layer, environment, "organization") or naming.DEFAULT_ORGANIZATION


# Preflight: CLI, backend, passphrase, credentials -----------------------------------------------


@dataclass(frozen=True)
class Backend:
    """A Pulumi state backend, as given to the CLI through ``PULUMI_BACKEND_URL``."""

    url: str
    in_repository: bool

    @property
    def self_managed(self) -> bool:
        return self.url.split("://", 1)[0].lower() in SELF_MANAGED_SCHEMES


@dataclass(frozen=True)
class Session:
    """Settings shared by every pulumi command of one task: the stack name, backend and environment variables."""

    environment: str
    backend: Backend
    variables: dict
    # Set when the stacks' AWS provider points at an emulator instead of AWS.
    endpoint: Optional[str] = None
    # Whether pulumi prompts for confirmation before it changes anything (the task was run without --yes).
    confirm: bool = False

    @property
    def secrets_provider(self) -> Optional[str]:
        return "passphrase" if self.backend.self_managed else None


def require_cli(hint: str = "") -> str:
    """Return the path of the pulumi CLI, or raise ``Exit`` with the install instructions."""
    path = shutil.which("pulumi")
    if path is None:
        raise Exit(f"the pulumi CLI was not found on PATH. Fix: install it ({INSTALL_URL}) and open a new shell{hint}")
    return path


def resolve_backend(environ: Mapping[str, str]) -> Backend:
    """Return the backend from ``PULUMI_BACKEND_URL``, or the file backend in the repository (created here)."""
    url = environ.get("PULUMI_BACKEND_URL", "").strip()
    if url:
        return Backend(url, in_repository=False)
    if environ.get("CI", "").lower() not in ("", "0", "false"):
        raise Exit(
            "PULUMI_BACKEND_URL is not set, and the default backend keeps the state inside this checkout, "
            "which a CI runner discards with every job. Fix: set PULUMI_BACKEND_URL to a shared backend, "
            "for example s3://<bucket>/<prefix>"
        )
    STATE_DIR.mkdir(exist_ok=True)
    return Backend("file://" + STATE_DIR.as_posix(), in_repository=True)


def check_passphrase(environ: Mapping[str, str], backend: Backend) -> None:
    """Raise ``Exit`` unless a self-managed backend's passphrase is available to the CLI."""
    if "PULUMI_CONFIG_PASSPHRASE" in environ:
        if not environ["PULUMI_CONFIG_PASSPHRASE"]:
            print("warning: PULUMI_CONFIG_PASSPHRASE is empty, so the stacks' secrets are not protected")
        return
    passphrase_file = environ.get("PULUMI_CONFIG_PASSPHRASE_FILE", "")
    if passphrase_file:
        if not Path(passphrase_file).is_file():
            raise Exit(
                f"PULUMI_CONFIG_PASSPHRASE_FILE names {passphrase_file}, which is not a file. "
                "Fix: point it at the file that contains the stacks' passphrase"
            )
        return
    raise Exit(
        f"no secrets passphrase is set: the self-managed backend {backend.url} encrypts each stack's secrets "
        "with a passphrase, and neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set.\n"
        "Fix: choose a passphrase, keep it in your password manager, and export it in the shell that deploys:\n"
        "    export PULUMI_CONFIG_PASSPHRASE='<your passphrase>'\n"
        "or write it to a file that only you can read and export PULUMI_CONFIG_PASSPHRASE_FILE=<that file>. "
        "Every later command on these stacks needs the same passphrase, and a lost one cannot be recovered."
    )


def find_aws_credentials(environ: Mapping[str, str]) -> Optional[str]:
    """Return where the AWS SDK would find credentials, or ``None``.

    Reads only environment variables and the shared credentials and config files. Instance
    metadata is never queried, so credentials that only an EC2 instance profile provides are
    not detected.
    """
    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
        return "AWS_ACCESS_KEY_ID"
    for name in _CREDENTIAL_VARIABLES:
        if environ.get(name):
            return name
    home = environ.get("HOME") or str(Path.home())
    credentials_file = Path(environ.get("AWS_SHARED_CREDENTIALS_FILE") or f"{home}/.aws/credentials")
    if credentials_file.is_file():
        return str(credentials_file)
    config_file = Path(environ.get("AWS_CONFIG_FILE") or f"{home}/.aws/config")
    if config_file.is_file():
        text = config_file.read_text(encoding="utf-8", errors="replace")
        if any(key in text for key in _PROFILE_CREDENTIAL_KEYS):
            return str(config_file)
    return None


def check_endpoint(endpoint: str) -> str:
    """Return ``endpoint`` if the ``tracking:endpoint`` setting accepts it, or raise ``Exit``."""
    setting = BY_KEY["endpoint"]
    if not setting.check(endpoint):
        raise Exit(
            f"invalid --endpoint {endpoint!r}: allowed is {setting.allowed}. "
            "Fix: pass the emulator's URL, for example --endpoint http://127.0.0.1:5000"
        )
    return endpoint


def emulator_variables(variables: Mapping[str, str]) -> dict:
    """Return ``variables`` with the fake emulator credentials in place of every real credential source."""
    result = {name: value for name, value in variables.items() if name not in CREDENTIAL_SOURCES}
    result.update(EMULATOR_CREDENTIALS)
    result["AWS_EC2_METADATA_DISABLED"] = "true"
    return result


def start_session(
    environment: str,
    layers: Sequence[str] = naming.LAYERS,
    *,
    aws: bool = True,
    endpoint: str = "",
    confirm: bool = False,
    offer_endpoint: bool = False,
    environ: Optional[Mapping[str, str]] = None,
) -> Session:
    """Check everything the pulumi commands need and return the session they run in.

    ``aws`` is true when the commands call AWS (``up``, ``preview``, ``destroy``), because
    reading outputs needs only the state. With ``endpoint`` the stacks deploy to that emulator with
    fake credentials; without it, layers whose ``Pulumi.<env>.yaml`` already sets
    ``tracking:endpoint`` count as emulator deploys too. ``confirm`` means pulumi will prompt,
    which needs a terminal. ``offer_endpoint`` adds ``--endpoint`` to the fix for missing
    credentials, for the tasks that have that option.
    """
    environ = dict(os.environ if environ is None else environ)
    require_cli()
    backend = resolve_backend(environ)
    if backend.self_managed:
        check_passphrase(environ, backend)

    variables = dict(environ)
    variables["PULUMI_BACKEND_URL"] = backend.url
    # The update check contacts the Pulumi service on every command and adds nothing here.
    variables["PULUMI_SKIP_UPDATE_CHECK"] = "true"

    if endpoint:
        variables = emulator_variables(variables)
    elif aws:
        configured = {layer: stack_setting(layer, environment, "endpoint") for layer in layers}
        emulated = [layer for layer, url in configured.items() if url]
        if emulated and len(emulated) == len(layers):
            print(
                f"note: every stack sets {NAMESPACE}:endpoint in Pulumi.{environment}.yaml, "
                "so pulumi gets fake credentials"
            )
            variables = emulator_variables(variables)
        else:
            if emulated:
                print(
                    f"warning: {', '.join(emulated)} set {NAMESPACE}:endpoint in Pulumi.{environment}.yaml, "
                    "but the other layers deploy to AWS"
                )
            if find_aws_credentials(environ) is None:
                raise Exit(_missing_credentials_message(offer_endpoint))

    if confirm and not sys.stdin.isatty():
        raise Exit(
            "pulumi asks for confirmation before it changes anything, but standard input is not a terminal. "
            "Fix: pass --yes to run without the prompt (pulumi still runs its preview first)"
        )
    return Session(environment, backend, variables, endpoint or None, confirm)


def _missing_credentials_message(offer_endpoint: bool) -> str:
    message = (
        "no AWS credentials found: AWS_ACCESS_KEY_ID with AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
        "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_CONTAINER_CREDENTIALS_* are unset, and neither "
        "~/.aws/credentials nor a profile with credentials in ~/.aws/config exists.\n"
        "Fix: run `aws configure` (or `aws sso login --profile <name>`, then export AWS_PROFILE=<name>)"
    )
    if offer_endpoint:
        message += ", or pass --endpoint http://127.0.0.1:<port> to deploy to a local AWS emulator"
    return message


# Running pulumi ---------------------------------------------------------------------------------


@dataclass
class LayerResult:
    """One row of a task summary."""

    layer: str
    result: str = "not run"
    seconds: Optional[float] = None
    outputs: dict = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class StackOutputs:
    """The outputs of one stack, or why they could not be read."""

    stack: str
    values: Optional[dict]
    error: str = ""

    @property
    def found(self) -> bool:
        return self.values is not None


class Pulumi:
    """Runs pulumi commands in a layer's project directory with the session's environment."""

    def __init__(self, c: Context, session: Session):
        self.c = c
        self.session = session

    @property
    def environment(self) -> str:
        return self.session.environment

    def run(self, layer: str, args: Sequence[str], capture: bool = False) -> Result:
        """Run ``pulumi <args>`` in ``stacks/<layer>`` and return the result, also when it failed.

        With ``capture`` the output is kept in the result instead of shown.
        """
        command = shlex.join(["pulumi", *args])
        print(f"    $ {command}", flush=True)
        # NOTE: the interactive path (a pty, so pulumi can show its own prompt) is not covered by
        # the task tests, which run without a terminal.
        interactive = self.session.confirm and not capture
        with self.c.cd(str(layer_directory(layer))):
            return self.c.run(
                command,
                env=self.session.variables,
                replace_env=True,
                warn=True,
                hide="both" if capture else None,
                pty=interactive,
                in_stream=None if interactive else False,
            )

    def select_args(self) -> list:
        args = ["stack", "select", "--create"]
        if self.session.secrets_provider:
            args += ["--secrets-provider", self.session.secrets_provider]
        return args + ["--stack", self.environment]

    def up_args(self) -> list:
        # No --skip-preview: the preview runs the program before anything changes, so an invalid
        # setting or a missing upstream output fails with every resource untouched.
        confirmation = [] if self.session.confirm else ["--yes"]
        return ["up", *confirmation, "--stack", self.environment]

    def destroy_args(self) -> list:
        confirmation = [] if self.session.confirm else ["--yes"]
        return ["destroy", *confirmation, "--stack", self.environment]

    def preview_args(self, layer: str) -> list:
        args = ["preview", "--stack", self.environment]
        if POLICY_DIR.is_dir():
            args += ["--policy-pack", os.path.relpath(POLICY_DIR, layer_directory(layer))]
        return args

    def endpoint_args(self) -> list:
        setting = f"{NAMESPACE}:endpoint"
        return ["config", "set", setting, str(self.session.endpoint), "--stack", self.environment]

    def read_outputs(self, layer: str, stack: Optional[str] = None) -> StackOutputs:
        """Return a stack's outputs with secrets masked. ``stack`` defaults to the layer's own stack."""
        stack = stack or self.environment
        result = self.run(layer, ["stack", "output", "--json", "--stack", stack], capture=True)
        if result.failed:
            return StackOutputs(stack, None, _last_line(result.stderr) or f"exit code {result.exited}")
        try:
            values = json.loads(result.stdout or "{}")
        except json.JSONDecodeError as exc:
            return StackOutputs(stack, None, f"pulumi printed invalid JSON ({exc})")
        return StackOutputs(stack, values if isinstance(values, dict) else {})

    def stack_exists(self, layer: str) -> bool:
        """Return whether the layer's project has a stack for the session's environment."""
        args = ["stack", "ls", "--json"]
        result = self.run(layer, args, capture=True)
        if result.failed:
            raise Exit(
                f"{layer}: `{shlex.join(['pulumi', *args])}` in stacks/{layer} failed: {_last_line(result.stderr)}. "
                "Fix: check PULUMI_BACKEND_URL and the passphrase"
            )
        try:
            stacks = json.loads(result.stdout or "[]")
        except json.JSONDecodeError as exc:
            raise Exit(
                f"{layer}: `pulumi {shlex.join(args)}` printed invalid JSON ({exc}). "
                "Fix: check the pulumi CLI version (pulumi version)"
            ) from None
        if not isinstance(stacks, list):
            raise Exit(
                f"{layer}: `pulumi {shlex.join(args)}` printed {type(stacks).__name__}, not a list of stacks. "
                "Fix: check the pulumi CLI version (pulumi version)"
            )
        # A self-managed backend lists short names, and some backends list organization/project/stack.
        return any(
            isinstance(entry, dict) and str(entry.get("name", "")).split("/")[-1] == self.environment
            for entry in stacks
        )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _failed(layer: str, args: Sequence[str], result: Result, fix: str) -> Exit:
    command = shlex.join(["pulumi", *args])
    return Exit(f"{layer} failed: `{command}` in stacks/{layer} exited with code {result.exited}.\nFix: {fix}")


# Deploy, preview, destroy, outputs --------------------------------------------------------------


def deploy(
    c: Context,
    environment: str,
    layers: Sequence[str],
    endpoint: str = "",
    yes: bool = False,
    check_upstream: bool = False,
) -> list:
    """Deploy ``layers`` in the order given with ``pulumi up``, stop at the first failure, print a summary.

    With ``check_upstream`` the first layer's upstream stacks must exist and export every output
    it reads (``outputs.REQUIRED_UPSTREAM``) before anything changes.
    """
    if endpoint:
        check_endpoint(endpoint)
    session = start_session(environment, layers, endpoint=endpoint, confirm=not yes, offer_endpoint=True)
    pulumi = Pulumi(c, session)
    if check_upstream:
        require_upstream(pulumi, layers[0])

    results = [LayerResult(layer) for layer in layers]
    for index, result in enumerate(results, start=1):
        layer = result.layer
        print(f"[{index}/{len(layers)}] {layer}: {shlex.join(['pulumi', *pulumi.up_args()])}", flush=True)
        started = time.monotonic()
        steps = [pulumi.select_args()]
        if session.endpoint:
            steps.append(pulumi.endpoint_args())
        steps.append(pulumi.up_args())
        for args in steps:
            outcome = pulumi.run(layer, args)
            if outcome.failed:
                result.result, result.seconds = "failed", time.monotonic() - started
                print(format_summary(results))
                raise _failed(layer, args, outcome, _deploy_fix(environment, layers, layer))
        result.result, result.seconds = "ok", time.monotonic() - started
        read = pulumi.read_outputs(layer)
        result.outputs = read.values or {}
        result.note = "" if read.found else f"outputs unavailable: {read.error}"

    print(format_summary(results))
    if session.endpoint:
        print(
            f"note: {NAMESPACE}:endpoint = {session.endpoint} is now saved in stacks/*/Pulumi.{environment}.yaml. "
            f"Before deploying {environment} to AWS, remove it in each stack folder with "
            f"`pulumi config rm {NAMESPACE}:endpoint --stack {environment}`"
        )
    return results


def _deploy_fix(environment: str, layers: Sequence[str], failed: str) -> str:
    if len(layers) == 1:
        return f"correct the error shown above, then rerun `invoke deploy --layer {failed} --env {environment}`"
    remaining = layers[layers.index(failed) + 1 :]
    later = f", then the same for {', '.join(remaining)}" if remaining else ""
    return (
        f"correct the error shown above, then rerun `invoke deploy-all --env {environment}` (layers already "
        f"deployed report no changes), or redeploy from {failed} on: "
        f"`invoke deploy --layer {failed} --env {environment}`{later}"
    )


def require_upstream(pulumi: Pulumi, layer: str) -> None:
    """Raise ``Exit`` unless every upstream stack of ``layer`` exists and exports what ``layer`` reads.

    The stacks are read by the fully qualified names the layer's StackReferences use.
    """
    environment = pulumi.environment
    org = organization(layer, environment)
    problems = []
    for upstream, needed in outputs.REQUIRED_UPSTREAM[layer].items():
        stack = naming.stack_reference_name(org, upstream, environment)
        fix = f"Fix: invoke deploy --layer {upstream} --env {environment}"
        read = pulumi.read_outputs(upstream, stack)
        if not read.found:
            problems.append(f"upstream stack {stack} was not found or cannot be read ({read.error}). {fix}")
            continue
        missing = [name for name in needed if name not in read.values]
        if missing:
            problems.append(
                f"upstream stack {stack} is missing output(s) {', '.join(missing)} that {layer} reads. {fix}"
            )
    if problems:
        raise Exit(f"cannot deploy {layer} to {environment}:\n  " + "\n  ".join(problems))


def preview(c: Context, environment: str, layers: Sequence[str]) -> list:
    """Run ``pulumi preview`` for each layer (creating empty stacks where missing) and print a summary.

    Every layer is previewed even when an earlier one fails. A layer whose upstream stacks are
    not deployed fails at its StackReference.
    """
    session = start_session(environment, layers)
    pulumi = Pulumi(c, session)
    results = [LayerResult(layer) for layer in layers]
    for index, result in enumerate(results, start=1):
        layer = result.layer
        args = pulumi.preview_args(layer)
        print(f"[{index}/{len(layers)}] {layer}: {shlex.join(['pulumi', *args])}", flush=True)
        started = time.monotonic()
        ok = pulumi.run(layer, pulumi.select_args()).ok and pulumi.run(layer, args).ok
        result.result, result.seconds = ("ok" if ok else "failed"), time.monotonic() - started

    print(format_summary(results, show_outputs=False))
    failed = [result.layer for result in results if result.result == "failed"]
    if failed:
        raise Exit(
            f"preview failed for {', '.join(failed)}. Fix: correct the errors shown above. A layer whose upstream "
            f"stacks are not deployed yet needs them first, for example `invoke deploy --layer foundation "
            f"--env {environment}`"
        )
    return results


def destroy_all(c: Context, environment: str, yes: bool = False, allow_prod: bool = False) -> list:
    """Destroy every layer's stack in reverse deploy order, skipping stacks that do not exist."""
    if environment == "prod" and not allow_prod:
        raise Exit(
            "destroy-all does not destroy prod without --yes-destroy-prod. Fix: if you mean to delete every "
            "prod resource, run `invoke destroy-all --env prod --yes-destroy-prod`"
        )
    layers = tuple(reversed(naming.LAYERS))
    session = start_session(environment, layers, confirm=not yes)
    pulumi = Pulumi(c, session)
    results = [LayerResult(layer) for layer in layers]
    for index, result in enumerate(results, start=1):
        layer = result.layer
        args = pulumi.destroy_args()
        print(f"[{index}/{len(layers)}] {layer}: {shlex.join(['pulumi', *args])}", flush=True)
        if not pulumi.stack_exists(layer):
            result.result, result.note = "skipped", f"no stack {environment}"
            continue
        started = time.monotonic()
        outcome = pulumi.run(layer, args)
        result.seconds = time.monotonic() - started
        if outcome.failed:
            result.result = "failed"
            print(format_summary(results, show_outputs=False))
            remaining = ", ".join(layers[index:])
            still = f"; {remaining} are still deployed" if remaining else ""
            fix = f"correct the error shown above, then rerun `invoke destroy-all --env {environment}`{still}"
            raise _failed(layer, args, outcome, fix)
        result.result = "ok"
    print(format_summary(results, show_outputs=False))
    return results


def show_outputs(c: Context, environment: str) -> dict:
    """Print every output of each layer's stack with secrets masked, reporting a missing stack without failing."""
    session = start_session(environment, aws=False)
    pulumi = Pulumi(c, session)
    found = {}
    for layer in naming.LAYERS:
        read = pulumi.read_outputs(layer)
        print(f"{layer} (stack {environment} of {naming.project_name(layer)}):")
        if not read.found:
            print(f"    not deployed: {read.error}")
            continue
        found[layer] = read.values
        if not read.values:
            print("    no outputs")
        width = max((len(name) for name in read.values), default=0)
        for name, value in read.values.items():
            print(f"    {name:<{width}}  {render_value(value)}")
    return found


# Summaries ----------------------------------------------------------------------------------------


def render_value(value: object) -> str:
    """Return an output value as one line, as pulumi printed it (secrets already replaced by ``[secret]``)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def format_summary(results: Sequence[LayerResult], show_outputs: bool = True) -> str:
    """Return the table of layer, result, duration in seconds and key outputs (or only notes)."""
    header = ("layer", "result", "seconds", "key outputs" if show_outputs else "notes")
    rows = []
    for result in results:
        seconds = "" if result.seconds is None else f"{result.seconds:.1f}"
        details = []
        if show_outputs:
            names = [name for name in KEY_OUTPUTS.get(result.layer, ()) if name in result.outputs]
            details = [f"{name} = {render_value(result.outputs[name])}" for name in names]
        if result.note:
            details.append(result.note)
        details = details or [""]
        rows.append((result.layer, result.result, seconds, details[0]))
        rows.extend(("", "", "", detail) for detail in details[1:])

    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(3)]
    lines = ["", "summary:"]
    for layer, outcome, seconds, detail in [header, *rows]:
        line = f"  {layer:<{widths[0]}}  {outcome:<{widths[1]}}  {seconds:>{widths[2]}}  {detail}"
        lines.append(line.rstrip())
    return "\n".join(lines)


# Offline preview ----------------------------------------------------------------------------------


def offline_settings(layer: str, environment: str) -> tuple:
    """Return ``(config, skipped)``: a stack's plain ``tracking:`` settings as raw strings, and its secure keys.

    Secure values cannot be decrypted offline, so those settings stay unset.
    """
    config, skipped = {}, []
    prefix = f"{NAMESPACE}:"
    for key, value in stack_config(layer, environment).items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if value is None:
            continue
        if isinstance(value, dict) and "secure" in value:
            skipped.append(name)
        elif isinstance(value, bool):
            config[name] = "true" if value else "false"
        elif isinstance(value, (list, dict)):
            config[name] = json.dumps(value)
        else:
            config[name] = str(value)
    return config, skipped


def preview_offline(environment: str, layers: Sequence[str]) -> dict:
    """Run the stack programs under the mock engine and print each requested layer's planned resources.

    Layers before the last requested one run too, so StackReferences read real exports.
    No CLI, backend or AWS is involved.
    """
    from devkit import offline  # imported here: it loads the Pulumi SDK, which takes seconds

    last = max(naming.LAYERS.index(layer) for layer in layers)
    upstream: dict = {}
    runs, failures = {}, {}
    for layer in naming.LAYERS[: last + 1]:
        shown = layer in layers
        if shown:
            position = f"[{list(layers).index(layer) + 1}/{len(layers)}]"
            print(f"{position} {layer}: offline run of stacks/{layer}/__main__.py (mock engine)", flush=True)
        program = layer_directory(layer) / "__main__.py"
        config, skipped = offline_settings(layer, environment)
        blocked = [name for name in outputs.REQUIRED_UPSTREAM[layer] if name in failures]
        try:
            if blocked:
                raise RuntimeError(f"not run, because upstream {', '.join(blocked)} did not complete")
            if not program.is_file():
                raise FileNotFoundError(f"stacks/{layer}/__main__.py does not exist")
            with _quiet_asyncio():
                run = offline.run_program(layer, environment, config=config, upstream=upstream)
        except Exception as exc:  # A program can raise any exception, so report it and go on with the next layer.
            failures[layer] = str(exc) if blocked else f"{type(exc).__name__}: {exc}"
            if shown:
                print(f"    failed: {failures[layer]}")
            continue
        runs[layer] = run
        upstream[naming.stack_reference_name(organization(layer, environment), layer, environment)] = run.outputs
        if shown:
            _print_planned(run, skipped)

    failed = [layer for layer in layers if layer in failures]
    if failed:
        raise Exit(
            f"offline preview failed for {', '.join(failed)}: "
            + "; ".join(f"{layer}: {failures[layer]}" for layer in failed)
            + ". Fix: for an invalid setting, do what its message says; otherwise correct the program "
            "or the upstream program it reads from"
        )
    return {layer: runs[layer] for layer in layers}


@contextmanager
def _quiet_asyncio() -> Iterator[None]:
    """Silence asyncio's reports of unretrieved task errors while a program runs.

    A failing program leaves the mock engine's pending tasks with the same error, and asyncio
    would print it once per task. The caller reports the failure once instead.
    """
    logger = logging.getLogger("asyncio")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _print_planned(run, skipped: Sequence[str]) -> None:
    width = max((len(resource.type) for resource in run.resources), default=0)
    for resource in run.resources:
        print(f"    {resource.type:<{width}}  {resource.name}")
    print(f"    {run.layer}: {len(run.resources)} resources, outputs: {', '.join(sorted(run.outputs)) or 'none'}")
    if skipped:
        print(f"    note: secret settings left unset offline: {', '.join(skipped)}")


# The offline test suite ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One command of ``invoke test``, run from the repository root."""

    name: str
    argv: tuple
    # Runs after the command succeeds, for example to record which requirements a venv holds.
    after: Optional[Callable[[], None]] = None

    @property
    def command(self) -> str:
        return shlex.join(self.argv)


def static_steps(python: str) -> list:
    """Return the lint, security and Python 3.9 compatibility checks, one step each.

    The commands live in .ci/static-checks, so the suite, CI and the policy tests share them.
    """
    script = str(REPO_ROOT / ".ci" / "static-checks")
    return [Step(name, ("bash", script, name)) for name in ("ruff", "bandit", "vermin")]


def pytest_step(python: str, workers: str) -> Step:
    return Step("pytest", (python, "-m", "pytest", "-q", "-n", workers))


def python_version(interpreter: Path) -> Optional[str]:
    """Return ``major.minor`` of an interpreter, or ``None`` if it does not run."""
    if not interpreter.exists():
        return None
    probe = [str(interpreter), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    try:
        # The argv is fixed apart from an interpreter path found on this machine, and nothing comes from input.
        done = subprocess.run(probe, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def find_python39() -> str:
    """Return a Python 3.9 interpreter from ``pyenv prefix 3.9`` or ``python3.9`` on PATH, or raise ``Exit``."""
    candidates = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            done = subprocess.run(  # noqa: S603 - fixed argv, pyenv found on PATH
                [pyenv, "prefix", "3.9"], capture_output=True, text=True, timeout=60, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            done = None
        if done is not None and done.returncode == 0 and done.stdout.strip():
            candidates.append(Path(done.stdout.strip().splitlines()[0]) / "bin" / "python3.9")
    on_path = shutil.which("python3.9")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if python_version(candidate) == "3.9":
            return str(candidate)
    raise Exit(
        "no Python 3.9 interpreter found: `pyenv prefix 3.9` gave none and no python3.9 on PATH runs. "
        "Fix: `pyenv install 3.9` (the function must keep working on the python3.9 Lambda runtime), "
        "or skip the 3.9 run with --no-py39"
    )


def requirements_digest() -> str:
    """Return a digest of the files that define the 3.9 venv, to tell when it needs a new install."""
    digest = hashlib.sha256()
    for name in PY39_REQUIREMENTS:
        digest.update((REPO_ROOT / name).read_bytes())
    return digest.hexdigest()


def python39_steps(workers: str = "auto") -> list:
    """Return the steps that create or refresh ``.venv39`` and run the function tests on Python 3.9."""
    interpreter = find_python39()
    venv_python = VENV39_DIR / "bin" / "python"
    stamp = VENV39_DIR / ".requirements.sha256"
    relative_python = str(venv_python.relative_to(REPO_ROOT))
    steps = []
    if python_version(venv_python) != "3.9":
        steps.append(Step("venv39", (interpreter, "-m", "venv", "--clear", str(VENV39_DIR.relative_to(REPO_ROOT)))))
    digest = requirements_digest()
    if steps or not stamp.is_file() or stamp.read_text(encoding="utf-8").strip() != digest:
        install = (relative_python, "-m", "pip", "install", "-q", "-r", PY39_REQUIREMENTS[0])
        steps.append(Step("pip39", install, after=lambda: stamp.write_text(digest + "\n", encoding="utf-8")))
    steps.append(
        Step("pytest39", (relative_python, "-m", "pytest", "-q", "-n", workers, "-m", "function", "tests/function"))
    )
    return steps


def plan_suite(fast: bool = False, static: bool = True, py39: bool = True, workers: str = "auto") -> list:
    """Return the steps of the offline suite. ``fast`` drops the static checks and the 3.9 run."""
    python = sys.executable
    steps = static_steps(python) if static and not fast else []
    steps.append(pytest_step(python, workers))
    if py39 and not fast:
        steps += python39_steps(workers)
    return steps


def run_suite(c: Context, steps: Sequence[Step]) -> None:
    """Run the steps in order from the repository root and stop at the first failure."""
    with c.cd(str(REPO_ROOT)):
        for index, step in enumerate(steps, start=1):
            print(f"[{index}/{len(steps)}] {step.name}: {step.command}", flush=True)
            result = c.run(step.command, warn=True, in_stream=False)
            if result.failed:
                raise Exit(
                    f"{step.name} failed with exit code {result.exited}: `{step.command}`. "
                    "Fix: correct what it reported above and rerun `invoke test`"
                )
            if step.after is not None and not c.config.run.dry:
                step.after()
    print(f"dry run: {len(steps)} steps shown, none run" if c.config.run.dry else f"all {len(steps)} steps passed")
