"""The LLM API client (llm_api) against a local server of the tests' own that misbehaves the way real gateways and model
servers do: each behaviour maps to a named failure kind, deadlines fire on time; and the errors it names."""

import concurrent.futures
import time

import pytest
import requests
import urllib3

from endpoint_tools.api_errors import ApiError, Deadlines, api_key_problem, status_kind
from endpoint_tools.failures import describe_exception
from endpoint_tools.llm_api import Completion, LlmClient, detect_api
from endpoint_tools.loopback_server import MODEL, LoopbackServer


def stream_kind(mode: str, deadlines: Deadlines = Deadlines(5.0), **server) -> str:
    with LoopbackServer(mode, **server) as srv:
        with pytest.raises(ApiError) as caught:
            LlmClient(srv.url, "openai", deadlines=deadlines).chat_stream(MODEL, "hi", 8)
    return caught.value.kind


@pytest.mark.parametrize("mode,kind", [
    ("ratelimit", "rate_limited"), ("error", "server_error"), ("close", "closed"), ("html", "non_json"),
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


# ---- the stream's reader and figures, without a server (found by mutation testing: docs/decisions.md,
# "2026-12-06: mutation testing of the pure logic") ---------------------------------------------------------------
class _Body:
    """What the stream reader takes of a requests.Response: its body in the pieces iter_content hands over."""

    def __init__(self, *pieces: bytes):
        self.pieces, self.raw, self.headers = pieces, object(), {}

    def iter_content(self, size):
        return iter(self.pieces)


@pytest.mark.parametrize("pieces, lines", [
    # a line ends at LF, CRLF or CR; a line split over pieces is joined; a CRLF split over pieces ends one line
    ((b"data: a\r\n", b"data: b\r", b"\ndata: c\n", b"data: ", b"d\n", b"tail"),
     [b"data: a", b"data: b", b"data: c", b"data: d", b"tail"]),
    ((b"x\ry\r", b"z\n"), [b"x", b"y", b"z"]),  # CR alone ends lines too
    ((b"one\ntwo", b"\n"), [b"one", b"two"]),  # ended by its newline: nothing left over
])
def test_the_stream_is_cut_into_lines_wherever_its_pieces_end(pieces, lines):
    assert list(LlmClient._lines(_Body(*pieces), "u")) == lines


def test_a_line_of_the_most_the_tools_read_is_taken_and_one_byte_more_is_too_large():
    from endpoint_tools.api_errors import MAX_BODY_BYTES
    assert [len(line) for line in LlmClient._lines(_Body(b"x" * MAX_BODY_BYTES, b"\n"), "u")] == [MAX_BODY_BYTES]
    with pytest.raises(ApiError) as caught:
        list(LlmClient._lines(_Body(b"x" * (MAX_BODY_BYTES + 1)), "u"))
    assert caught.value.kind == "too_large"


def _events(api: str, *lines: bytes) -> list:
    return list(LlmClient("http://127.0.0.1:9", api)._events(_Body(*(line + b"\n" for line in lines)), "u"))


def test_server_sent_events_are_read_as_the_format_allows():
    """SSE (html.spec.whatwg.org, "Interpreting an event stream"): comments and other fields skipped, `data:` with or
    without its space, nothing after `[DONE]`; Ollama's lines are JSON objects, blank lines between them skipped."""
    chunk = b'{"choices":[{"delta":{"content":"a"}}]}'
    assert _events("openai", b": keep-alive", b"event: message", b"data:" + chunk, b"", b"data: " + chunk,
                   b"data: [DONE]", b"data: not read") == [{"choices": [{"delta": {"content": "a"}}]}] * 2 + \
        [{"__done__": True}]
    assert _events("ollama", b'{"done":false}', b"", b'{"done":true}') == [{"done": False}, {"done": True}]


@pytest.mark.parametrize("api, line, kind, words", [
    ("openai", b'error:{"message":"model overloaded"}', "server_error", "mid-stream: model overloaded"),
    ("openai", b'error: {"message":"model overloaded"}', "server_error", "mid-stream: model overloaded"),
    ("openai", b"error:out of memory", "server_error", "mid-stream: out of memory"),
    ("openai", b"data: {", "bad_stream", "an event is not JSON"),
    ("openai", b"data: " + b"[" * 100_000, "bad_stream", "an event is nested too deeply to parse"),
    ("openai", b"data: [1]", "bad_shape", "an event is not an object"),
    ("openai", b'data: {"choices":[{"delta":{"content":5}}]}', "bad_shape", "content is not text"),
    ("ollama", b'{"message":{"content":["a"]}}', "bad_shape", "content is not text"),
])
def test_a_bad_event_is_named_by_what_is_wrong_with_it(api, line, kind, words):
    client = LlmClient("http://127.0.0.1:9", api)
    with pytest.raises(ApiError) as caught:
        for event in client._events(_Body(line + b"\n"), "u"):
            client._event_text(event, "u")
    assert caught.value.kind == kind and words in str(caught.value), str(caught.value)


@pytest.mark.parametrize("done, itl, rate", [
    (Completion(ttft_s=0.1, latency_s=1.0, output_tokens=10, chunks=4), 0.1, 10.0),  # the server's count first
    (Completion(ttft_s=0.1, latency_s=1.0, output_tokens=None, chunks=4), 0.3, 1 / 0.3),  # else the chunks
    (Completion(ttft_s=0.1, latency_s=1.0, output_tokens=0, chunks=4), None, None),  # a count of 0: not the chunks
    (Completion(ttft_s=0.1, latency_s=0.5, output_tokens=2), 0.4, 2.5),
    (Completion(ttft_s=0.1, latency_s=1.0, output_tokens=1, chunks=1), None, None),  # one token: no gap
    (Completion(ttft_s=None, latency_s=1.0, output_tokens=10), None, None),  # no first token seen
    (Completion(ttft_s=1.0, latency_s=1.0, output_tokens=10), 0.0, None),  # no time between them: no rate
])
def test_the_inter_token_time_is_the_decode_after_the_first_token(done, itl, rate):
    assert done.inter_token_s == (pytest.approx(itl) if itl else itl)
    assert done.output_tokens_per_s == (pytest.approx(rate) if rate else rate)


def test_a_token_count_is_a_whole_number_from_0_to_2_53():
    from endpoint_tools.llm_api import MAX_TOKEN_COUNT, token_count
    assert [token_count(v, "f", "u") for v in (None, 0, 1, MAX_TOKEN_COUNT)] == [None, 0, 1, MAX_TOKEN_COUNT]
    for bad in (-1, MAX_TOKEN_COUNT + 1, True, 1.0, "7"):
        with pytest.raises(ApiError) as caught:
            token_count(bad, "usage.completion_tokens", "u")
        assert caught.value.kind == "bad_shape" and "usage.completion_tokens is" in str(caught.value)
