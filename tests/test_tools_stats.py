"""Pure parts of the operations tools: percentiles, summary, error descriptions, endpoint resolution."""

import os

import pytest
import requests
import urllib3

from endpoint_tools import endpoint
from endpoint_tools.llm_api import describe_exception, status_kind
from endpoint_tools.stats import percentile, summarize


def test_percentile_interpolates_like_numpy_linear():
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 90) == pytest.approx(3.7)
    assert percentile([5.0], 99) == 5.0 and percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_summary_counts_errors_by_kind_and_orders_percentiles():
    results = [{"ok": True, "latency_s": x / 10, "ttft_s": x / 100, "output_tokens": 4, "error": None}
               for x in range(1, 11)]
    results += [{"ok": False, "latency_s": 1.0, "ttft_s": None, "output_tokens": None, "error": k}
                for k in ("timeout", "timeout", "rate_limited")]
    s = summarize(results, wall_s=2.0)
    assert s["requests"] == 13 and s["succeeded"] == 10 and s["success_rate"] == pytest.approx(10 / 13, abs=1e-4)
    assert s["errors"] == {"rate_limited": 1, "timeout": 2}
    lat = s["latency_ms"]
    assert lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"] == 1000.0
    # throughput counts successful requests only; failures are reported apart
    assert s["output_tokens"] == 40 and s["output_tokens_per_s"] == 20.0 and s["requests_per_s"] == 5.0
    assert s["failed"] == 3 and s["failed_per_s"] == 1.5


def test_status_kinds():
    assert [status_kind(s) for s in (429, 401, 403, 500, 503, 404)] == \
        ["rate_limited", "unauthorized", "unauthorized", "server_error", "server_error", "client_error"]


def test_dns_and_tls_failures_are_named():
    dns = requests.exceptions.ConnectionError(urllib3.exceptions.NameResolutionError(
        "llm.example.invalid", None, "[Errno -2] Name or service not known"))
    assert describe_exception(dns, "http://llm.example.invalid").kind == "dns"
    tls = requests.exceptions.SSLError("certificate verify failed")
    assert describe_exception(tls, "https://x").kind == "tls"
    assert describe_exception(requests.exceptions.ReadTimeout("t"), "http://x").kind == "timeout_headers"
    assert describe_exception(requests.exceptions.ReadTimeout("t"), "http://x", "ttft").kind == "timeout_ttft"
    assert describe_exception(requests.exceptions.ConnectTimeout("t"), "http://x").kind == "connect_timeout"


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
