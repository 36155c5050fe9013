"""The local tracking API: the real function behind a local API Gateway stage and an AWS emulator.

``start`` returns a running local API for tests and tools; ``run`` serves one until
interrupted, which is what ``invoke local`` and ``python -m devkit.local`` do. Everything
listens on 127.0.0.1 only. Requests must be signed with SigV4 (service ``execute-api``,
region us-west-2) with the credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of the
starting process, or ``local-access-key`` / ``local-secret-key`` when those are unset.
"""

import contextlib
import json
import logging
import re
import signal
import sys
import threading
from dataclasses import dataclass

from devkit import redrive
from devkit.local import sigv4
from devkit.local.client import TrackingClient
from devkit.local.emulator import Emulator, start_emulator
from devkit.local.function import FunctionRuntime
from devkit.local.gateway import LocalGateway
from shared import definitions, naming

logger = logging.getLogger(__name__)

DEFAULT_STAGE = "dev"
# API Gateway stage names: letters, digits, hyphens and underscores, at most 128 characters.
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class LocalApiError(RuntimeError):
    """The local API could not start; the message names the cause and the fix."""


@dataclass
class LocalApi:
    """A running local API: its base URL (with the stage), accepted credentials and emulator."""

    base_url: str
    stage: str
    environment: str
    credentials: sigv4.Credentials
    emulator: Emulator
    gateway: LocalGateway
    runtime: FunctionRuntime

    def client(self, **options) -> TrackingClient:
        """Return a client that signs with the credentials this local API accepts."""
        return TrackingClient(
            self.base_url, self.credentials.access_key_id, self.credentials.secret_access_key, **options
        )

    def stop(self) -> None:
        """Stop the gateway and the emulator and restore the process environment; idempotent."""
        self.gateway.stop()
        self.runtime.close()
        self.emulator.stop()

    def __enter__(self) -> "LocalApi":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def environment_for_stage(stage: str) -> str:
    """Return the environment whose resource names the emulator uses: the stage's name if it is one."""
    return stage if stage in naming.ENVIRONMENTS else naming.ENVIRONMENTS[0]


def start(port: int = 0, stage: str = DEFAULT_STAGE) -> LocalApi:
    """Start the emulator, load the function and serve the stage on 127.0.0.1:``port``.

    ``port`` 0 picks a free port. The accepted credentials are read from the environment
    before the function's own fake credentials replace them.
    """
    if not _STAGE_NAME.match(stage):
        raise LocalApiError(f"invalid stage name {stage!r}: use 1-128 letters, digits, '-' or '_'")
    credentials = sigv4.credentials_from_environment()
    environment = environment_for_stage(stage)
    emulator = start_emulator(environment)
    runtime = FunctionRuntime(emulator)
    try:
        runtime.load()
        gateway = _bind_gateway(runtime.invoke, stage, environment, emulator.account_id, credentials, port)
    except BaseException:
        runtime.close()
        emulator.stop()
        raise
    gateway.start()
    return LocalApi(gateway.base_url, stage, environment, credentials, emulator, gateway, runtime)


def run(port: int, stage: str = DEFAULT_STAGE, replay: bool = False) -> None:
    """Serve the local API until interrupted, optionally replaying the sample updates first."""
    _configure_logging()
    api = start(port, stage)
    stopped = threading.Event()
    _stop_on_sigterm(stopped)
    try:
        _write_state(api)
        print(f"Local API ready at {api.base_url}", flush=True)
        print(_signing_hint(api.credentials), flush=True)
        if replay:
            _print_replay(api)
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping the local API", flush=True)
        _remove_state(api)
        api.stop()


def _remove_state(api: LocalApi) -> None:
    """Remove the state file, unless another local API has written its own there since."""
    path = redrive.local_state_file()
    with contextlib.suppress(FileNotFoundError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("base_url") == api.base_url:
            path.unlink()


def _write_state(api: LocalApi) -> None:
    """Record the emulator's endpoint, account and names for `invoke redrive --local`."""
    access_key_id, secret_access_key, session_token = api.emulator.credentials
    redrive.write_local_state({
        "base_url": api.base_url,
        "endpoint": api.emulator.endpoint_url,
        "access_key_id": access_key_id,
        "secret_access_key": secret_access_key,
        "session_token": session_token,
        "table_name": api.emulator.table_name,
        "queue_url": api.emulator.queue_url,
        "api_config_parameter": api.emulator.parameter_names[definitions.API_CONFIG_PARAMETER.key],
    })


def _bind_gateway(
    handler, stage: str, environment: str, account_id: str, credentials: sigv4.Credentials, port: int
) -> LocalGateway:
    try:
        return LocalGateway(handler, stage, environment, account_id, credentials, port)
    except OSError as exc:
        raise LocalApiError(
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; choose another port, "
            "or 0 for a free one"
        ) from exc


def _signing_hint(credentials: sigv4.Credentials) -> str:
    source = (
        "the documented local defaults"
        if credentials.access_key_id == sigv4.DEFAULT_ACCESS_KEY_ID
        else "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
    )
    return (
        f"Sign requests with SigV4 (service {sigv4.SERVICE}, region {sigv4.REGION}) using access key "
        f"{credentials.access_key_id!r} from {source}. Press Ctrl+C to stop."
    )


def _print_replay(api: LocalApi) -> None:
    from devkit.local import replay

    with api.client() as client:
        reports = replay.replay_all(client)
    print(replay.format_reports(reports), flush=True)
    failed = sum(1 for report in reports if not report.passed)
    print(f"Replay: {len(reports) - failed} of {len(reports)} sample files passed", flush=True)
    # The replay's request logs have pushed the banner out of view, so it is repeated.
    print(f"Local API still serving at {api.base_url}. Press Ctrl+C to stop.", flush=True)


def _configure_logging() -> None:
    """Send the local API's own log lines (one per request, starts and stops) to stderr."""
    package_logger = logging.getLogger("devkit.local")
    if not package_logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)


def _stop_on_sigterm(stopped: threading.Event) -> None:
    # signal.signal raises ValueError outside the main thread; there Ctrl+C or the caller stops the API.
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
        # A shell starts background jobs with SIGINT ignored; Ctrl+C and kill -INT must still stop the API.
        signal.signal(signal.SIGINT, lambda signum, frame: stopped.set())
