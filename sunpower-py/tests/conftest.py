"""Shared fixtures: the repository's sample body and the `sunpower` command to compare with."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FORUM_BODY = REPO / "examples" / "bodies" / "forum-2017-body.txt"


@pytest.fixture(scope="session")
def forum_body() -> bytes:
    return FORUM_BODY.read_bytes()


@pytest.fixture(scope="session")
def sunpower_cli() -> Path:
    """The `sunpower` binary: $SUNPOWER_CLI (scripts/test-python sets it), else built by cargo."""
    given = os.environ.get("SUNPOWER_CLI")
    if given:
        return Path(given)
    if shutil.which("cargo") is None:
        pytest.skip("no SUNPOWER_CLI and no cargo to build the sunpower command")
    subprocess.run(["cargo", "build", "--quiet", "-p", "sunpower-cli"], cwd=REPO, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "sunpower"
