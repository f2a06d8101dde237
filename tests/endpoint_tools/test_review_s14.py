"""The review of endpoint-tools 0.15.0 (docs/decisions.md, "2026-12-07: the review of the operator's review of the
endpoint tools"), through the command lines: the TLS advice on the Pythons and OpenSSLs operators run (a CPython
whose table of OpenSSL's reasons predates OpenSSL 3.2, Python 3.13's strict certificate checks)."""

import json
import ssl
import subprocess

import pytest
import urllib3.connection

from endpoint_tools import smoke
from endpoint_tools.loopback_server import BackgroundServer, LoopbackServer

from tests.endpoint_tools.test_bench import run_bench
from tests.endpoint_tools.test_hostile import Scripted, delta, no_traceback, ollama, openai, sse
from tests.endpoint_tools.test_operator_review import (KEY, PAGE, _ToOtherHost, over_tls, self_signed,
                                                       smoke_and_bench)


@pytest.mark.parametrize("error", [
    # OpenSSL 3.2+ under a CPython whose reason table predates it (3.13 and before): no `[SSL: NAME]`
    # (cherrypy/cheroot#645, #711: HTTPS to a plain-HTTP port)
    ssl.SSLError(1, "[SSL] record layer failure (_ssl.c:1000)"),
    # OpenSSL 1.1.1 (a Python 3.10 on an older distribution): a server that closes on the ClientHello, no reason
    ssl.SSLEOFError(8, "EOF occurred in violation of protocol (_ssl.c:1131)"),
])
def test_https_to_a_plain_http_port_says_to_use_http_whatever_names_the_openssl_reason(error, monkeypatch, capsys):
    """The hint matched `[SSL: RECORD_LAYER_FAILURE]`, a name CPython prints only when its own table knows the
    reason: on OpenSSL 3.2+ (Fedora, Debian 13, Homebrew) with CPython 3.13 or before the line read
    "[SSL] record layer failure" alone, the case the hint was written for."""
    def handshake(*args, **kwargs):
        raise error
    monkeypatch.setattr(urllib3.connection, "ssl_wrap_socket", handshake)  # the handshake, as that OpenSSL fails it
    with LoopbackServer("ok") as server:
        url = server.url.replace("http://", "https://")
        assert smoke.main([url, "--api", "openai", "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert "[tls] TLS error talking to" in captured.out, captured.out
    assert "(if it serves plain HTTP, use http://)" in captured.out and no_traceback(captured), captured.out


def signed_by_a_ca(tmp_path, ca_extensions: list[str], leaf_extensions: str) -> tuple[str, str, str]:
    """A CA (with `ca_extensions`) and a certificate for localhost and 127.0.0.1 it signed (with `leaf_extensions`,
    an openssl extensions file's lines): the CA's, the certificate's and its key's paths."""
    self_signed(tmp_path)  # skips without openssl
    ca, ca_key = tmp_path / "ca.pem", tmp_path / "ca.key"
    leaf, key, request, extensions = (tmp_path / name for name in ("leaf.pem", "leaf.key", "leaf.csr", "ext.cnf"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out",
                    str(ca), "-days", "1", "-subj", "/CN=a proxy's CA", *ca_extensions], check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(request), "-subj", "/CN=localhost"], check=True, capture_output=True)
    extensions.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n" + leaf_extensions)
    subprocess.run(["openssl", "x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key),
                    "-CAcreateserial", "-out", str(leaf), "-days", "1", "-extfile", str(extensions)],
                   check=True, capture_output=True)
    return str(ca), str(leaf), str(key)


@pytest.mark.parametrize("case", ["purpose", "strict"])
def test_a_certificate_the_bundle_vouches_for_but_refused_for_what_it_is_is_not_a_missing_ca(case, tmp_path,
                                                                                         monkeypatch, capsys):
    """A certificate signed by the CA in $REQUESTS_CA_BUNDLE, refused for what it is: one for client auth only
    (verify code 26), or, on Python 3.13+ where urllib3 2.8.0 sets VERIFY_X509_STRICT, a CA whose basicConstraints
    is not critical (89: TLS-inspecting proxies' CAs are often made so). The line said "the CAs in
    $REQUESTS_CA_BUNDLE do not include the one that signed it", though they did: the operator adds the CA again."""
    if case == "purpose":
        ca, leaf, key = signed_by_a_ca(tmp_path, [], "extendedKeyUsage=clientAuth\n")
        code = 26
    else:
        ca, leaf, key = signed_by_a_ca(tmp_path, ["-addext", "basicConstraints=CA:TRUE"], "")
        code = 89
        strict = urllib3.connection.create_urllib3_context

        def as_on_3_13(*args, **kwargs):  # what urllib3 2.8.0 util/ssl_.py does on Python 3.13+
            context = strict(*args, **kwargs)
            context.verify_flags |= ssl.VERIFY_X509_STRICT
            return context
        monkeypatch.setattr(urllib3.connection, "create_urllib3_context", as_on_3_13)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca)
    server = LoopbackServer("ok")
    url = over_tls(server, leaf, key)
    with server:
        assert smoke.main([url, "--api", "openai", "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert "CERTIFICATE_VERIFY_FAILED" in captured.out, captured.out
    assert "do not include the one that signed it" not in captured.out, captured.out
    assert (f"not a missing CA: OpenSSL refused the certificate (or its CA's) for what it is (verify code {code})"
            in captured.out and "which no CA bundle cures" in captured.out), captured.out
    assert no_traceback(captured)


@pytest.mark.parametrize("entry", ["default login someone password hunter22", "machine 127.0.0.1 login me password pw1234"])
def test_a_netrc_entry_for_the_host_does_not_replace_the_key(entry, tmp_path, monkeypatch, capsys):
    """A ~/.netrc (here $NETRC) with a `default` entry, or one for the endpoint's host (curl's and git's file):
    requests sent its login as HTTP Basic auth in place of the key's bearer header, and the gate's 401 read "the key
    given (--api-key or $LLM_API_KEY) was refused" for the right key."""
    netrc = tmp_path / "netrc"
    netrc.write_text(entry + "\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    key = "sk-review-s14-right-key"
    with LoopbackServer("auth", api_key=key) as server:
        assert smoke.main([server.url, "--api-key", key, "--timeout", "5"]) == 0, capsys.readouterr().out
        assert smoke.main([server.url, "--api-key", key + "-wrong", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "PASS  auth        a wrong API key is refused (401)" in out, out
    assert "the key given (--api-key or $LLM_API_KEY) was refused" in out and key not in out, out


def test_a_redirect_that_swapped_the_key_for_a_netrc_login_is_a_key_left_behind(tmp_path, monkeypatch, capsys):
    """A redirect to another host for which ~/.netrc has a login: requests drops the key and puts that login in its
    place (requests 2.34.2 sessions.py `rebuild_auth`), so an Authorization header still arrived there, and smoke's
    auth check said "a wrong API key was accepted" (a 401 there: "the key given was refused")."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine localhost login someone password hunter22\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    server = BackgroundServer(("127.0.0.1", 0), _ToOtherHost)
    server.keys = []  # type: ignore[attr-defined]
    with server:
        assert smoke.main([server.url, "--api", "openai", "--api-key", KEY, "--timeout", "5"]) == 1
    captured = capsys.readouterr()
    assert server.keys and all(k.startswith("Basic ") for k in server.keys), server.keys  # type: ignore[attr-defined]
    assert (f"FAIL  auth        the key was never checked: a redirect to http://localhost:{server.server_address[1]}"
            f"/open/v1/models left it behind") in captured.out, captured.out
    assert "a wrong API key was accepted" not in captured.out and KEY not in captured.out + captured.err


def test_an_ollama_stream_answered_with_a_page_names_the_page_as_the_openai_one_does(tmp_path, capsys):
    """Ollama's native stream (`--api ollama`, the platform's own API) answered 200 with a login page (an SSO proxy
    on the POSTs): 0.15.0 named such a page on the OpenAI API (`non_json`, the page's words) but this one stayed
    "bad_stream: an event is not JSON: '<!DOCTYPE html>'", in smoke and in every llm-bench row."""
    def page_for_streams(path, request):
        if request and request.get("stream"):
            return 200, "text/html; charset=utf-8", PAGE
        return ollama()(path, request)
    out, code, report = smoke_and_bench(tmp_path, capsys, page_for_streams, "ollama")
    assert ("FAIL  stream      [non_json] stream from " in out and "answered 200 with text/html; charset=utf-8, not "
            "a stream of JSON lines: 'Sign in to continue'" in out), out
    assert "PASS  completion" in out and "PASS  generate" in out, out
    assert code == 1 and report["summary"]["errors"] == {"non_json": 2}, report["summary"]


@pytest.mark.parametrize("api", ["openai", "ollama"])
def test_a_stream_opening_with_a_byte_order_mark_keeps_its_first_event(api, capsys):
    """A stream whose body opens with a UTF-8 BOM (html.spec.whatwg.org, "Interpreting an event stream": one at the
    start is ignored): `\\ufeffdata: {...}` was no SSE field, so the first event was dropped (with no other, 0.15.0
    took the stream for a page), and on Ollama's API the first line was "not JSON". A one-chunk answer failed the stream check."""
    bom = "\ufeff".encode()
    if api == "openai":
        stream = bom + sse(delta("Hi"), '{"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}')
        answer = openai(stream=stream)
    else:
        lines = [json.dumps({"message": {"content": "Hi"}, "done": False}),
                 json.dumps({"message": {"content": ""}, "done": True, "eval_count": 1})]
        streamed = bom + "".join(f"{line}\n" for line in lines).encode()
        native = ollama()

        def answer(path, request):
            return (200, "application/x-ndjson", streamed) if request and request.get("stream") \
                else native(path, request)
    with Scripted(answer) as server:
        assert smoke.main([server.url, "--api", api, "--timeout", "5"]) == 0, capsys.readouterr().out
    assert "PASS  stream      1 chunk over" in capsys.readouterr().out


def test_bench_says_when_a_redirect_left_a_urls_credentials_behind_as_it_does_a_key(tmp_path, capsys):
    """`http://user:password@host` (a proxy's Basic auth) redirected to another host whose server answers without
    them: 0.15.0 warned when a redirect left the key behind, but the URL's credentials, which requests drops alike,
    went without a word, the run measuring a server the operator did not mean."""
    server = BackgroundServer(("127.0.0.1", 0), _ToOtherHost)
    server.keys = []  # type: ignore[attr-defined]
    with server:
        url = server.url.replace("http://", "http://ops:pw-review-s14@")
        code, report = run_bench(tmp_path, url, "--api", "openai", "--model", "m", "-n", "2", "-c", "1")
    captured = capsys.readouterr()
    assert code == 0 and set(server.keys) == {None}, server.keys  # type: ignore[attr-defined]
    assert (f"llm-bench: the URL's user and password (HTTP Basic auth) were not sent to http://localhost:"
            f"{server.server_address[1]}/open/v1/chat/completions: a redirect") in captured.err, captured.err
    assert "pw-review-s14" not in captured.out + captured.err + json.dumps(report)
