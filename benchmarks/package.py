"""Deployment package: the archive the compute stack uploads, built from the stack's own file list.

``stacks/compute/compute_function.py`` gives Pulumi an AssetArchive of the files that
``package_files`` selects, and Pulumi zips it. This builds the same files into a deflated
zip in a temporary directory. Pulumi's own zip can differ by a few bytes (timestamps and
compression settings), so the size is an estimate of the upload. The file list is exact.
"""

import importlib.util
import sys
import tempfile
import zipfile
from pathlib import Path

from benchmarks.processes import REPO_ROOT

COMPUTE_MODULE = REPO_ROOT / "stacks" / "compute" / "compute_function.py"
# Lambda's limits for a function uploaded as a zip: 50 MB zipped, 250 MB unzipped with its layers.
ZIPPED_LIMIT_BYTES = 50 * 1024 * 1024
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024


def _compute_function():
    """Load the compute stack's module by path, under a name that no program import uses."""
    name = "benchmarks_compute_function"
    if name in sys.modules:
        return sys.modules[name]
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    spec = importlib.util.spec_from_file_location(name, COMPUTE_MODULE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def build_archive(target: Path) -> dict:
    """Zip the function package into ``target`` and return its size and contents."""
    compute = _compute_function()
    files = compute.package_files()
    uncompressed = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in files.items():
            archive.write(path, arcname=name)
            uncompressed += path.stat().st_size
    suffixes: dict = {}
    for name in files:
        suffix = Path(name).suffix or "(none)"
        suffixes[suffix] = suffixes.get(suffix, 0) + 1
    return {
        "files": len(files),
        "by_suffix": dict(sorted(suffixes.items())),
        "zip_bytes": target.stat().st_size,
        "uncompressed_bytes": uncompressed,
        "handler": compute.HANDLER,
    }


def measure() -> dict:
    """Build the archive in a temporary directory and return its figures and the Powertools layer in use."""
    from shared import naming
    from shared import settings as stack_settings

    with tempfile.TemporaryDirectory(prefix="tracking-bench-package-") as directory:
        figures = build_archive(Path(directory) / "function.zip")
    defaults = stack_settings.read_settings("compute", "dev", {})
    layer_arn = naming.powertools_layer_arn(
        defaults["runtime"], defaults["architecture"], stack_settings.POWERTOOLS_LAYER_VERSION
    )
    return {
        **figures,
        "runtime": defaults["runtime"],
        "architecture": defaults["architecture"],
        "powertools_layer_arn": layer_arn,
        "zipped_limit_bytes": ZIPPED_LIMIT_BYTES,
        "unzipped_limit_bytes": UNZIPPED_LIMIT_BYTES,
    }
