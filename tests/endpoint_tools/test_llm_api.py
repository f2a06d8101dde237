"""The LLM API client (llm_api) against a local server of the tests' own that misbehaves the way real gateways and model
servers do: each behaviour maps to a named failure kind, deadlines fire on time; and the errors it names."""

import concurrent.futures
import time

import pytest
import requests
import urllib3

from endpoint_tools.llm_api import (ApiError, Deadlines, LlmClient, api_key_problem, detect_api, describe_exception,
                                    status_kind)
from endpoint_tools.loopback_server import MODEL, LoopbackServer


def stream_kind(mode: str, deadlines: Deadlines = Deadlines(5.0), **server) -> str:
    with LoopbackServer(mode, **server) as srv:
        with pytest.raises(ApiError) as caught:
            LlmClient(srv.url, "openai", deadlines=deadlines).chat_stream(MODEL, "hi", 8)
    return caught.value.kind


@pytest.mark.parametrize("mode,kind", [
    ("ratelimit", "rate_limited"), ("error", "server_error"), ("close", "closed"), ("html", "unterminated"),
    ("badsse", "bad_stream"), ("empty", "empty_stream"), ("unterminated", "unterminated"),
])
def test_every_stream_failure_has_a_named_kind(mode, kind):
    assert stream_kind(mode) == kind


def _timed_kind(mode: str, deadlines: Deadlines, **server) -> tuple[str, float]:
    started = time.perf_counter()
    kind = stream_kind(mode, deadlines, **server)
    return kind, time.perf_counter() - started


def test_three_deadlines_are_told_apart_and_honoured():
    cases = {  # each server would finish after 3 s or more; each deadline fires within about a second
        "hang": (Deadlines(0.4), {"hang_s": 4.0}, "timeout_headers"),
        # headers come at once, the first token after 4 s: the 1 s first-token deadline fires
        "slowfirst": (Deadlines(8.0, ttft_s=1.0), {"hang_s": 4.0}, "timeout_ttft"),
        # a server trickling a token every 0.3 s for 3 s fails a 1 s total deadline (a per-read timeout would pass)
        "trickle": (Deadlines(1.0), {"trickle_s": 0.3, "trickle_n": 10}, "timeout_total"),
        # the same body neither chunked nor of a stated length (read with read1, LlmClient._pieces)
        "unframed": (Deadlines(1.0), {"trickle_s": 0.3, "trickle_n": 10}, "timeout_total"),
    }
    # the three at once (each against its own server): the wait is the longest deadline's, not their sum
    with concurrent.futures.ThreadPoolExecutor(len(cases)) as pool:
        runs = {mode: pool.submit(_timed_kind, mode, deadlines, **server)
                for mode, (deadlines, server, _) in cases.items()}
    for mode, (_, _, expected) in cases.items():
        kind, seconds = runs[mode].result()
        assert kind == expected, mode
        assert seconds < 2.8, f"{mode}: the deadline fires on time, not when the server finishes ({seconds:.1f} s)"
    with LoopbackServer("trickle", trickle_s=0.05, trickle_n=6) as srv:
        done = LlmClient(srv.url, "openai", deadlines=Deadlines(5.0, ttft_s=1.0)).chat_stream(MODEL, "hi", 8)
    assert done.chunks == 6 and 0.03 < done.inter_token_s < 0.5 and done.ttft_s < done.latency_s


@pytest.mark.parametrize("mode,kind,fragment", [
    ("html", "non_json", "not JSON (text/html)"), ("badshape", "bad_shape", "expected {\"data\""),
    ("error", "server_error", "answered 500: CUDA out of memory"),
])
def test_non_streamed_failures_carry_the_kind_and_the_servers_words(mode, kind, fragment):
    with LoopbackServer(mode) as srv:
        with pytest.raises(ApiError) as caught:
            LlmClient(srv.url, "openai").list_models()
    assert caught.value.kind == kind and fragment in str(caught.value)


def test_api_detection_reports_every_probe():
    with LoopbackServer("loading") as srv:
        with pytest.raises(ApiError) as caught:
            detect_api(srv.url)
    message = str(caught.value)
    assert caught.value.kind == "server_error" and "503: Loading model" in message and "404" in message


def test_api_error_carries_status():
    with LoopbackServer("error") as server:
        with pytest.raises(ApiError) as caught:
            LlmClient(server.url, "openai").list_models()
    assert caught.value.status == 500 and caught.value.kind == "server_error"


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


def test_no_message_contains_a_clients_key():
    """Defense in depth behind the key check: describe_exception (which llm-bench writes into its results) quoted an
    exception's text, and requests' InvalidHeader quotes the header: `'Bearer sk-secret123\\r'`."""
    LlmClient("http://x", "openai", api_key="sk-redact-me-42")
    header = requests.exceptions.InvalidHeader("Invalid leading whitespace, reserved character(s), or return "
                                               "character(s) in header value: 'Bearer sk-redact-me-42'")
    message = str(describe_exception(header, "http://x/v1/models"))
    assert "sk-redact-me-42" not in message and "'Bearer ***'" in message
    echoed = ApiError("unauthorized", "GET http://x/v1/models answered 401: key sk-redact-me-42 is invalid", 401)
    assert str(echoed) == "GET http://x/v1/models answered 401: key *** is invalid"
    closed = requests.exceptions.ConnectionError("cannot reach http://u:pw-in-url@x/v1/models")
    assert "pw-in-url" not in str(describe_exception(closed, "http://u:pw-in-url@x/v1/models"))


@pytest.mark.parametrize("key, what", [("sk-a\rb", "a control character (U+000D)"),
                                       ("sk-\u20acuro", "a character outside ASCII (U+20AC)"),
                                       ("sk a", "whitespace (U+0020)")])
def test_a_client_refuses_a_key_no_header_can_carry_without_quoting_it(key, what):
    assert api_key_problem(key) == f"contains {what}; an API key is printable ASCII without spaces"
    with pytest.raises(ValueError) as caught:
        LlmClient("http://x", "openai", api_key=key)
    assert str(caught.value) == f"the API key {api_key_problem(key)}" and key not in str(caught.value)
    assert api_key_problem("sk-Abc_123.~+/=") is None


def test_a_timeout_names_the_deadline_that_passed():
    with LoopbackServer("slowfirst", hang_s=3.0) as srv:
        with pytest.raises(ApiError) as caught:
            LlmClient(srv.url, "openai", deadlines=Deadlines(8.0, ttft_s=0.5)).chat_stream(MODEL, "hi", 8)
    assert caught.value.kind == "timeout_ttft" and caught.value.deadline == "first_token"
    assert str(caught.value) == (f"timed out waiting for POST {srv.url}/v1/chat/completions: no first token within "
                                 f"0.5 s (the first-token deadline)")
