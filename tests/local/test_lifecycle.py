"""Starting and stopping the local API: process state restored, errors clear, the command line works."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

import devkit.local
from devkit.local import sigv4
from devkit.local.client import TrackingClient
from shared.contract import REPO_ROOT

READY = re.compile(r"Local API ready at (http://127\.0\.0\.1:\d+/\w+)")


def tracking_modules() -> dict:
    return {
        name: module
        for name, module in sys.modules.items()
        if name == "tracking" or name.startswith("tracking.")
    }


def test_process_state_left_untouched():
    environment_before = dict(os.environ)
    modules_before = tracking_modules()
    path_before = list(sys.path)

    with devkit.local.start() as api:
        with api.client() as client:
            status, _ = client.get_status("LIFECYCLE-1")
        assert status == 404
        assert dict(os.environ) == environment_before
        assert tracking_modules() == modules_before
        assert sys.path == path_before

    assert dict(os.environ) == environment_before
    assert tracking_modules() == modules_before


def test_two_local_apis_keep_separate_data():
    update = {"tracking_id": "LIFECYCLE-2", "timestamp": "2024-01-01T00:00:00Z", "status": "delivered"}
    with devkit.local.start() as first, devkit.local.start() as second, first.client() as first_client:
        created, _ = first_client.post_track(update)
        in_first, _ = first_client.get_status("LIFECYCLE-2")
        with second.client() as second_client:
            in_second, _ = second_client.get_status("LIFECYCLE-2")

    assert created == 201
    assert in_first == 200
    assert in_second == 404


def test_accepts_credentials_of_starting_process(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSTARTER")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "starter-secret")

    with devkit.local.start(stage="staging") as api:
        assert api.credentials == sigv4.Credentials("AKIDSTARTER", "starter-secret")
        assert api.base_url.endswith("/staging")
        with TrackingClient(api.base_url, "AKIDSTARTER", "starter-secret") as client:
            accepted, _ = client.get_status("LIFECYCLE-3")
        with TrackingClient(api.base_url, "AKIDSTARTER", "other-secret") as client:
            rejected, _ = client.get_status("LIFECYCLE-3")

    assert accepted == 404
    assert rejected == 403


def test_port_in_use_is_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        environment_before = dict(os.environ)

        with pytest.raises(devkit.local.LocalApiError, match=f"cannot listen on 127.0.0.1:{port}"):
            devkit.local.start(port=port)

    assert dict(os.environ) == environment_before


def test_invalid_stage_rejected():
    with pytest.raises(devkit.local.LocalApiError, match="invalid stage name"):
        devkit.local.start(stage="dev/v1")


class LineReader:
    """Collect a process's output lines on a thread, so waiting for a line can time out."""

    def __init__(self, stream):
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self.lines.put(line)

    def wait_for(self, pattern: re.Pattern, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            self.seen.append(line)
            match = pattern.search(line)
            if match:
                return match
        raise AssertionError(
            f"no line matched {pattern.pattern!r} within {timeout} s; output: {''.join(self.seen)}"
        )

    def rest(self) -> str:
        while True:
            try:
                self.seen.append(self.lines.get(timeout=1))
            except queue.Empty:
                return "".join(self.seen)


def start_command_line(tmp_path, *arguments) -> tuple:
    """Start ``python -m devkit.local`` on a free port; return the process, its output and stderr file."""
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w") as stderr_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "devkit.local", "--port", "0", *arguments],
            cwd=REPO_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
        )
    return process, LineReader(process.stdout), stderr_path


def stop_process(process: subprocess.Popen, signal_number: int) -> None:
    """Send a signal and wait for the exit; kill the process if it is still running after that."""
    try:
        process.send_signal(signal_number)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_command_line_replays_and_stops(tmp_path):
    process, output, stderr_path = start_command_line(tmp_path, "--replay")
    try:
        ready = output.wait_for(READY, timeout=60)
        summary = output.wait_for(re.compile(r"Replay: (\d+) of (\d+) sample files passed"), timeout=120)
        with TrackingClient(
            ready.group(1), os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
        ) as c:
            status, body = c.get_status("738488882438")
    finally:
        stop_process(process, signal.SIGINT)
    stderr = stderr_path.read_text()
    stdout = output.rest()

    assert summary.group(1) == summary.group(2), stdout
    assert status == 200, body
    assert body["status"] == "delivered"
    assert process.returncode == 0, stderr
    assert "request method=POST path=/dev/track status=201" in stderr
    assert "Stopping the local API" in stdout


def test_command_line_stops_on_sigterm(tmp_path):
    process, output, stderr_path = start_command_line(tmp_path, "--stage", "prod")
    try:
        ready = output.wait_for(READY, timeout=60)
    finally:
        stop_process(process, signal.SIGTERM)

    assert ready.group(1).endswith("/prod")
    assert process.returncode == 0, stderr_path.read_text()
    assert "Stopping the local API" in output.rest()
