"""Headless Chromium (Debian's ``chromium`` package, installed by ./scripts/test) for the HTML tests.

Each call starts a fresh browser with its own profile, opens a local file and exits. With
``--enable-logging=stderr`` Chromium writes every console message of the page, whatever its
level, as a ``CONSOLE`` line: uncaught exceptions, ``console.*`` calls and Content-Security-Policy
violations (any fetch the page tries). Host lookups are mapped to nothing, so a page that tried
the network could not reach it either.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

_CONSOLE = re.compile(r":CONSOLE[^\]]*\]\s*(.*)")


@dataclass
class Run:
    stdout: str
    console: list[str]  # the page's console messages, in order


def executable() -> str:
    """Chromium's path; in CI a missing browser fails the test, elsewhere it skips it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Debian's chromium is not installed (./scripts/test installs it with apt-get)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def run(page: Path, profile: Path, *arguments: str) -> Run:
    command = [
        executable(),
        "--headless=new",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-sync",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *arguments,
        page.resolve().as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to start its sandbox as root (containers, CI)
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-2000:]}"
    console = [match.group(1) for line in done.stderr.splitlines() if (match := _CONSOLE.search(line))]
    return Run(done.stdout, console)


def screenshot(page: Path, png: Path, profile: Path, width: int = 1400, height: int = 2000) -> Run:
    return run(page, profile, f"--screenshot={png}", f"--window-size={width},{height}")


def dump_dom(page: Path, profile: Path) -> Run:
    return run(page, profile, "--dump-dom")
