"""Fixtures of the browser suite: real `liaison` processes on 127.0.0.1 and Debian's Chromium."""
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def liaison_binary():
    given = os.environ.get("LIAISON_BINARY")
    if given:
        return given
    for candidate in (ROOT / ".build" / "debug" / "liaison", ROOT / ".build" / "release" / "liaison"):
        if candidate.exists():
            return str(candidate)
    pytest.fail("no liaison binary: run 'swift build' first or set LIAISON_BINARY")


class Process:
    """A long-running liaison command whose stdout lines are collected as they come."""

    def __init__(self, args, cwd):
        self.proc = subprocess.Popen(
            args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.lines = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, pattern, timeout=60):
        """The first match of `pattern` in a stdout line, waiting for it."""
        regex = re.compile(pattern)
        with self.changed:
            while True:
                for line in self.lines:
                    match = regex.search(line)
                    if match:
                        return match
                if self.proc.poll() is not None and not self.changed.wait(0.1):
                    raise AssertionError(f"process ended ({self.proc.returncode}): {self.proc.stderr.read()}")
                if not self.changed.wait(timeout):
                    raise AssertionError(f"no line matching {pattern!r} within {timeout}s: {self.lines}")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Liaison:
    """Runs the CLI in one temporary folder and stops every process it started."""

    def __init__(self, folder):
        self.folder = folder
        self.binary = liaison_binary()
        self.processes = []

    def __call__(self, *args, check=True):
        result = subprocess.run(
            [self.binary, *args], cwd=self.folder, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"liaison {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def start(self, *args):
        process = Process([self.binary, *args], self.folder)
        self.processes.append(process)
        return process

    def stop_all(self):
        for process in self.processes:
            process.stop()


@pytest.fixture
def liaison():
    folder = tempfile.mkdtemp(prefix="liaison-browser-")
    runner = Liaison(folder)
    yield runner
    runner.stop_all()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (Scripts/setup installs it: pip install playwright)")
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (Scripts/setup installs it: apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"], headless=True)
        yield launched
        launched.close()


@pytest.fixture
def screenshots():
    """Where to save screenshots: $LIAISON_SCREENSHOTS (e.g. docs), else nowhere."""
    folder = os.environ.get("LIAISON_SCREENSHOTS")
    return pathlib.Path(folder) if folder else None
