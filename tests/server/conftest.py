"""Fixtures for the `vkstream serve` tests: a server on a free loopback port with SmolLM2.

Run by CTest (tests/CMakeLists.txt, label `server`) with VKSTREAM_BIN set to the built binary.
Without the cached model the whole file exits 77 (CTest: skipped, never passed). A Vulkan
validation message in the server's output fails the test that owned the server.
"""
import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest

MODEL = os.environ.get("VKS_TEST_MODEL",
                       os.path.expanduser("~/.cache/vkstream/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
BIN = os.environ.get("VKSTREAM_BIN")
VALIDATION = re.compile(r"\[vulkan (error|warning)\]")


def pytest_configure(config):
    if not BIN or not os.access(BIN, os.X_OK):
        raise pytest.UsageError("VKSTREAM_BIN must name the built vkstream binary")
    if not os.path.isfile(MODEL):
        pytest.exit(f"SKIPPED: {MODEL} not found (tools/fetch_model.sh smollm2)", returncode=77)


class Server:
    """One `vkstream serve` process. Its stderr goes to a log file read after it stops."""

    def __init__(self, tmp_path, *args, window=252, parallel=1, model=MODEL):
        self.log_path = tmp_path / f"serve-{time.monotonic_ns()}.log"
        self.args = [BIN, "serve", "-m", model, "--port", "0", "--sink", "4", "--window", str(window),
                     "--parallel", str(parallel), *args]
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self.log)
        self.port = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = self.log_path.read_text()
            m = re.search(r"on http://[^:]+:(\d+)/", text)
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"vkstream serve exited {self.proc.returncode}:\n{text}")
            time.sleep(0.05)
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("vkstream serve did not start in 60 s:\n" + self.log_path.read_text())
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        """SIGTERM, wait; returns the exit code. Fails on validation messages."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("vkstream serve did not stop within 30 s of SIGTERM")
        self.log.close()
        text = self.log_path.read_text()
        bad = [line for line in text.splitlines() if VALIDATION.search(line)]
        if bad:
            print("\n".join(bad))  # also for CTest's FAIL_REGULAR_EXPRESSION
            raise AssertionError("Vulkan validation messages in the server's output:\n" + "\n".join(bad[:10]))
        return self.proc.returncode

    def output(self):
        return self.log_path.read_text()

    def get(self, path, headers=None):
        req = urllib.request.Request(self.url + path, headers=headers or {})
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read().decode()


@pytest.fixture
def make_server(tmp_path):
    """Starts servers on demand; each is stopped (and checked) at the end of the test."""
    servers = []

    def start(*args, **kw):
        s = Server(tmp_path, *args, **kw)
        servers.append(s)
        return s

    yield start
    for s in servers:
        code = s.stop()
        assert code == 0, f"vkstream serve exited {code}:\n{s.output()[-3000:]}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server shared by a module's tests: 4 slots."""
    s = Server(tmp_path_factory.mktemp("serve"), parallel=4)
    yield s
    code = s.stop()
    assert code == 0, f"vkstream serve exited {code}:\n{s.output()[-3000:]}"


@pytest.fixture
def client(server):
    from openai import OpenAI
    return OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=120)
