"""`invoke local`: options reach devkit.local.run, and its start-up errors become task errors.

The copy's devkit/local is replaced by a stub, so these tests start no server.
"""

import shutil

import pytest

STUB = """
class LocalApiError(RuntimeError):
    pass


def run(port, stage="dev", replay=False):
    if port == 4999:
        raise LocalApiError("cannot listen on 127.0.0.1:4999: address in use; choose another port")
    print(f"run(port={port!r}, stage={stage!r}, replay={replay!r})")
"""


@pytest.fixture
def stubbed(workspace):
    package = workspace.root / "devkit" / "local"
    shutil.rmtree(package)
    package.mkdir()
    (package / "__init__.py").write_text(STUB, encoding="utf-8")
    return workspace


def test_local_passes_options_to_run(stubbed):
    done = stubbed.invoke("local", "--port", "0", "--stage", "staging", "--replay")

    assert done.returncode == 0, done.stderr
    assert "run(port=0, stage='staging', replay=True)" in done.stdout


def test_local_defaults(stubbed):
    done = stubbed.invoke("local")

    assert "run(port=8000, stage='dev', replay=False)" in done.stdout


def test_local_start_error_is_a_task_error(stubbed):
    done = stubbed.invoke("local", "--port", "4999")

    assert done.returncode == 1
    assert "cannot listen on 127.0.0.1:4999" in done.stderr
    assert "Traceback" not in done.stderr


def test_local_rejects_invalid_port(stubbed):
    done = stubbed.invoke("local", "--port", "70000")

    assert done.returncode == 1
    assert "invalid --port 70000" in done.stderr
