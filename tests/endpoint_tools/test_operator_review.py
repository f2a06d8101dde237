"""llm-smoke, llm-bench and llm-verify through their command lines, as an operator new to them runs them against
endpoints that misbehave in ways the other files do not cover: a certificate that does not name the host, HTTPS to a
plain-HTTP port, an `--api-key` that is empty (an empty key file), an answer whose usage counts 0 tokens or is no
object, a stream of JSON lines without SSE's `data:`, and a redirect that leaves the key behind on a server that
answers without one (docs/decisions.md, "2026-12-07: an operator's review of the endpoint tools")."""

import json
import shutil
import ssl
import subprocess
from http.server import BaseHTTPRequestHandler
from typing import Optional

import pytest

from endpoint_tools import bench, smoke, verify
from endpoint_tools.loopback_server import BackgroundServer, LoopbackServer

from tests.endpoint_tools.test_bench import run_bench
from tests.endpoint_tools.test_hostile import Scripted, delta, no_traceback, openai, sse

KEY = "sk-operator-review-41c7"


def self_signed(tmp_path, *extra: str) -> tuple[str, str]:
    """A certificate for CN=localhost (and whatever `extra` adds) with its key, made by openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a certificate with")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", *extra], check=True, capture_output=True)
    return str(cert), str(key)


def over_tls(server: BackgroundServer, cert: str, key: str) -> str:
    """`server` answering over TLS with that certificate; its https:// URL."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server.url.replace("http://", "https://")


@pytest.mark.parametrize("host,san", [("127.0.0.1", "subjectAltName=DNS:localhost"),
                                      ("localhost", "subjectAltName=IP:127.0.0.1")])
def test_a_certificate_for_another_name_says_so_not_that_no_ca_signed_it(host, san, tmp_path, monkeypatch, capsys):
    """A certificate the CA bundle trusts, for another name than the URL's (or a CN only, which urllib3 2 does not
    read): the line said "the CAs in $REQUESTS_CA_BUNDLE do not include the one that signed it", though they did,
    sending the operator after the wrong file."""
    cert, key = self_signed(tmp_path, "-addext", san)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
    server = LoopbackServer("ok")
    url = over_tls(server, cert, key).replace("127.0.0.1", host)
    with server:
        assert smoke.main([url, "--api", "openai", "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert "[tls]" in captured.out and "mismatch" in captured.out, captured.out
    assert "does not name this host in its subjectAltName" in captured.out, captured.out
    assert "do not include the one that signed it" not in captured.out and no_traceback(captured), captured.out


def test_https_to_a_plain_http_port_says_to_use_http(capsys):
    """HTTPS to a plain-HTTP port: the line was the TLS library's "wrong version number" (or "EOF occurred in
    violation of protocol") alone; it says what to try, as the reverse slip (http:// to a TLS port) does."""
    with LoopbackServer("ok") as server:
        url = server.url.replace("http://", "https://")
        assert smoke.main([url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "[tls] TLS error talking to" in out and "(if it serves plain HTTP, use http://)" in out, out


@pytest.mark.parametrize("tool", ["smoke", "bench", "verify"])
@pytest.mark.parametrize("given", ["", "\n"])
def test_an_empty_api_key_is_bad_usage_not_a_run_without_a_key(tool, given, tmp_path, monkeypatch, capsys):
    """`--api-key "$(cat key.txt)"` of an empty file (or of a variable not set): the tools ran without a key, and
    over $LLM_API_KEY when that was set, without a word; on a gate the 401 then said "no key was given"."""
    monkeypatch.setenv("LLM_API_KEY", KEY)
    option = "--llmd-api-key" if tool == "verify" else "--api-key"
    argv = {"smoke": ["http://127.0.0.1:9", "--api-key", given],
            "bench": ["http://127.0.0.1:9", "--api-key", given, "--out", str(tmp_path / "run"), "--no-plot"],
            "verify": ["--stack", "dev", "--llmd-api-key", given]}[tool]
    main = {"smoke": smoke.main, "bench": bench.main, "verify": verify.main}[tool]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option} is empty" in err and "an empty key file" in err, err
    assert KEY not in err


def test_an_api_key_from_the_environment_left_empty_is_no_key():
    """`export LLM_API_KEY=` stays what it was: no key (an endpoint without a gate)."""
    with LoopbackServer("ok") as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 0


def test_a_usage_of_zero_tokens_for_an_answer_with_text_fails_naming_the_count(capsys):
    """`"completion_tokens": 0` beside content: the line said "no usage (output token count) in the answer", though
    the usage was there, and llm-bench reads 0 output tokens/s from it."""
    with Scripted(openai('{"prompt_tokens": 1, "completion_tokens": 0}')) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  completion  the answer has text but its usage counts 0 output tokens (completion_tokens" in out
    assert "no usage" not in out, out


@pytest.mark.parametrize("usage", ['"lots"', "[1, 2]", "7"])
def test_a_usage_that_is_no_object_is_bad_shape_not_an_answer_without_usage(usage, tmp_path, capsys):
    """`"usage": "lots"`: the completion said "no usage", and the stream and llm-bench took it for a stream without
    usage and passed."""
    with Scripted(openai(usage)) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        code, report = run_bench(tmp_path, server.url, "--api", "openai", "--model", "m", "-n", "2", "-c", "1")
    for check in ("completion", "stream"):
        assert f"FAIL  {check:<11} [bad_shape]" in out and f"usage is {usage}: expected an object" in out, out
    assert code == 1 and report["summary"]["errors"] == {"bad_shape": 2}, report["summary"]


def test_a_stream_of_json_lines_without_data_says_what_is_missing(tmp_path, capsys):
    """An OpenAI stream whose events come as bare JSON lines (no `data: `): the line said "ended without its final
    event (0 content chunks)", which names nothing the operator can look for."""
    lines = "".join(f"{event}\n\n" for event in (delta("a"), delta("b"))).encode() + b"[DONE]\n\n"
    with Scripted(openai(stream=lines)) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        code, report = run_bench(tmp_path, server.url, "--api", "openai", "--model", "m", "-n", "1")
    assert ("FAIL  stream      [unterminated]" in out and "without the `data: ` of Server-Sent Events" in out
            and '{"choices": [{"index": 0, "delta": {"content": "a"}}]}' in out), out
    assert code == 1 and "data: " in report["results"][0]["message"], report["results"][0]


class _ToOtherHost(BaseHTTPRequestHandler):
    """Every request redirected (307, method kept) to the same port on `localhost`: another host for requests, which
    leaves the Authorization header behind."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _redirect(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(307)
        self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/open{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _answer(self, request: Optional[dict]) -> None:
        self.server.keys.append(self.headers.get("Authorization"))  # type: ignore[attr-defined]
        path = self.path[len("/open"):]
        if path == "/v1/models":
            body, kind = b'{"data": [{"id": "m"}]}', "application/json"
        elif request and request.get("stream"):
            body, kind = sse(delta("a"), delta("b"), '{"choices": [], "usage": {"completion_tokens": 2}}'), \
                "text/event-stream"
        else:
            body, kind = (b'{"choices": [{"message": {"content": "ab"}}], "usage": {"completion_tokens": 2}}',
                          "application/json")
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(None) if self.path.startswith("/open/") else self._redirect()

    def do_POST(self) -> None:  # noqa: N802
        if not self.path.startswith("/open/"):
            return self._redirect()
        self._answer(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}"))


def test_a_redirect_that_left_the_key_behind_is_said_not_called_a_wrong_key_accepted(capsys):
    """A redirect to another host, where a server answers without a key: the key (the right one and smoke's wrong
    one) never reached it, and the auth check said "a wrong API key was accepted", as though the gate let any key
    in. The tools never add the key back (requests drops it), and the line says why the check could not be made."""
    server = BackgroundServer(("127.0.0.1", 0), _ToOtherHost)
    server.keys = []  # type: ignore[attr-defined]
    with server:
        assert smoke.main([server.url, "--api", "openai", "--api-key", KEY, "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert server.keys and set(server.keys) == {None}, server.keys  # type: ignore[attr-defined]
    assert (f"FAIL  auth        the key was never checked: a redirect to http://localhost:{server.server_address[1]}"
            f"/open/v1/models left it behind") in captured.out, captured.out
    assert "a wrong API key was accepted" not in captured.out and KEY not in captured.out + captured.err


@pytest.mark.parametrize("tool", ["smoke", "bench"])
def test_a_401_to_a_urls_credentials_says_they_were_refused_not_that_none_were_given(tool, tmp_path, capsys):
    """`http://user:password@host`: the 401 said "no key was given: pass --api-key", though the URL's credentials
    went as HTTP Basic auth; it says those were refused and that the gate takes a key. The password is not shown."""
    deny = lambda path, request: (401, "application/json", b'{"error": {"message": "bad credentials"}}')  # noqa: E731
    with Scripted(deny) as server:
        url = server.url.replace("http://", "http://ops:pw-operator-9d2@")
        if tool == "smoke":
            assert smoke.main([url, "--timeout", "5"]) == 1
        else:
            assert run_bench(tmp_path, url, "-n", "1")[0] == 1
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert "[unauthorized]" in said and "the URL's user and password (sent as HTTP Basic auth" in said, said
    assert "no key was given" not in said and "pw-operator-9d2" not in said and no_traceback(captured), said


def test_a_run_whose_server_counts_0_tokens_reports_no_per_request_rate_beside_0_tokens_per_s(tmp_path):
    """Streams with content whose usage says `"completion_tokens": 0`: the run's throughput read 0 output tokens/s
    (the server's count) while its per-request output tokens/s read thousands (from the chunks), two figures of one
    run that cannot both hold. The per-request rate and inter-token time are n/a, as for a count not given."""
    with Scripted(openai('{"prompt_tokens": 1, "completion_tokens": 0}')) as server:
        code, report = run_bench(tmp_path, server.url, "--api", "openai", "--model", "m", "-n", "3", "-c", "1")
    summary = report["summary"]
    assert code == 0 and summary["succeeded"] == 3 and summary["output_tokens_per_s"] == 0.0, summary
    assert summary["request_tokens_per_s"] == {"p50": None, "p95": None}, summary
    assert summary["itl_ms"] == {"p50": None, "p95": None}, summary


PAGE = (b"<!DOCTYPE html>\n<html>\n<head><title>Sign in</title></head>\n<body>\n<h1>Sign in to continue</h1>\n"
        b"</body>\n</html>\n")


def page_for_streams(path: str, request: Optional[dict]):
    """Models and plain completions as a model server answers them; a stream answered 200 with a login page (an SSO
    proxy in front of the POSTs only)."""
    if request and request.get("stream"):
        return 200, "text/html; charset=utf-8", PAGE
    return openai()(path, request)


def smoke_and_bench(tmp_path, capsys, handler, api: str) -> tuple[str, int, dict]:
    """A scripted server answering with `handler`, checked by llm-smoke (which fails) and benchmarked by llm-bench
    (two requests, one at a time): (smoke's output, bench's exit code, bench's report)."""
    with Scripted(handler) as server:
        assert smoke.main([server.url, "--api", api, "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        code, report = run_bench(tmp_path, server.url, "--api", api, "--model", "m", "-n", "2", "-c", "1")
    return out, code, report


def test_a_stream_answered_with_a_page_names_the_page_not_a_missing_final_event(tmp_path, capsys):
    """A 200 with an HTML page (or a proxy's text) where the event stream should be: the line said "ended without
    its final event (0 content chunks)", llm-bench's only message for every request; it names the content type and
    the page's words, as a completion answered so does."""
    out, code, report = smoke_and_bench(tmp_path, capsys, page_for_streams, "openai")
    assert ("FAIL  stream      [non_json] stream from " in out and "answered 200 with text/html; charset=utf-8, not "
            "an event stream: 'Sign in to continue'" in out), out
    assert code == 1 and report["summary"]["errors"] == {"non_json": 2}, report["summary"]
    assert "Sign in to continue" in report["results"][0]["message"], report["results"][0]


def test_bench_says_when_a_redirect_left_the_key_behind_on_the_answers_it_measured(tmp_path, capsys):
    """llm-bench behind a redirect to another host whose server answers without a key: the run succeeded and said
    nothing, the operator believing the gate was measured; stderr names where the key was not sent."""
    server = BackgroundServer(("127.0.0.1", 0), _ToOtherHost)
    server.keys = []  # type: ignore[attr-defined]
    with server:
        code, report = run_bench(tmp_path, server.url, "--api", "openai", "--model", "m", "--api-key", KEY,
                                 "-n", "2", "-c", "1")
    captured = capsys.readouterr()
    assert code == 0 and set(server.keys) == {None}, server.keys  # type: ignore[attr-defined]
    assert (f"llm-bench: the API key was not sent to http://localhost:{server.server_address[1]}/open/v1/chat/"
            f"completions: a redirect") in captured.err, captured.err
    assert KEY not in captured.out + captured.err + json.dumps(report)


def test_an_expired_certificate_says_so_not_that_no_ca_signed_it(tmp_path, monkeypatch, capsys):
    """A trusted certificate past its notAfter: the line said the CA bundle lacked its signer; it says it expired."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a certificate with")
    cert, key, request = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "cert.csr"
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(request), "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(request), "-signkey", str(key), "-out", str(cert),
                    "-days", "-1", "-copy_extensions", "copy"], check=True, capture_output=True)  # ended yesterday
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    server = LoopbackServer("ok")
    url = over_tls(server, str(cert), str(key))
    with server:
        assert smoke.main([url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "certificate has expired" in out and "the certificate is outside its validity dates: renew it" in out, out
    assert "do not include the one that signed it" not in out, out
