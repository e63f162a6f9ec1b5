"""Shared fixtures of the Python package tests (run by CTest as python/package; see
tests/CMakeLists.txt for the environment: VKSTREAM_LIBRARY, PYTHONPATH, VKS_CAPI_LOGITS, VKS_CLI).

By hand, from the repository root after building:
    PYTHONPATH=python VKSTREAM_LIBRARY=build/lib/libvkstream.so VKS_VALIDATE=1 python3 -m pytest tests/python
"""
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = os.environ.get("VKS_TEST_MODEL",
                       os.path.expanduser("~/.cache/vkstream/models/SmolLM2-135M-Instruct.Q4_1.gguf"))


def pytest_configure(config):
    # Every test here runs SmolLM2; without it the whole run is a skip (exit 77 for CTest), never a pass.
    if not os.path.exists(MODEL):
        pytest.exit(f"SKIPPED: model not found: {MODEL} (tools/fetch_model.sh smollm2)", returncode=77)


def _tool(env, default):
    path = os.environ.get(env, os.path.join(ROOT, default))
    if not os.path.exists(path):
        pytest.fail(f"{path} not found: build the project (or set {env})")
    return path


@pytest.fixture(scope="session")
def model_path():
    return MODEL


@pytest.fixture(scope="session")
def model():
    import vkstream
    with vkstream.Model(MODEL) as m:
        yield m


@pytest.fixture(scope="session")
def capi_logits_exe():
    return _tool("VKS_CAPI_LOGITS", "build/tests/vks_capi_logits")


@pytest.fixture(scope="session")
def cli_exe():
    return _tool("VKS_CLI", "build/apps/vkstream")
