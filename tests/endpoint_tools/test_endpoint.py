"""Endpoint resolution (endpoint): from the stack's outputs, and one clear error when they are not JSON."""

import os

import pytest

from endpoint_tools import endpoint


def test_endpoint_resolution(monkeypatch):
    assert endpoint.resolve("localhost:11434", None, None) == "http://localhost:11434"
    monkeypatch.setattr(endpoint.shutil, "which", lambda _: None)
    with pytest.raises(endpoint.EndpointError, match="Pulumi CLI is not on PATH"):
        endpoint.resolve(None, "gatewayExternalUrl", "dev")
    with pytest.raises(endpoint.EndpointError, match="give an endpoint URL"):
        endpoint.resolve(None, None, None)


def test_stack_output_that_is_not_json_is_one_clear_error(monkeypatch, tmp_path):
    fake = tmp_path / "pulumi"
    fake.write_text("#!/bin/sh\necho 'warning: something odd'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with pytest.raises(endpoint.EndpointError, match="not a JSON object"):
        endpoint.resolve(None, "modelApiUrl", None)
