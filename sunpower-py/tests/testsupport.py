"""Helpers more than one test module needs: the examples imported by path, and whether the
`sunpower` command was built with Parquet."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "python"


def load_example(name: str) -> ModuleType:
    """Import examples/python/<name>.py by path, once."""
    key = f"sunpower_example_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def parquet_support(cli: Path) -> bool:
    """Whether `cli` was built with the `parquet` feature (it says so when it was not)."""
    probe = subprocess.run(
        [str(cli), "decode", "--format", "parquet", "--output", os.devnull, "/nonexistent"],
        capture_output=True, text=True,
    )
    return "without Parquet support" not in probe.stderr
