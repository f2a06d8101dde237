"""The endpoint tools' last known defects (docs/decisions.md, "The endpoint tools' last known defects and hostile
arguments"): llm-verify's Kubernetes API client taking an interim 103 for the answer, an event stream's empty `data:`
keep-alives read as a bad stream, and a 300 or 305 with a Location said to have none."""

import json

import pytest

from endpoint_tools import smoke, verify
from endpoint_tools.loopback_server import LoopbackServer

from tests.endpoint_tools.test_bench import run_bench
from tests.endpoint_tools.test_hostile import Scripted, delta, openai
from tests.endpoint_tools.test_hostile_network import with_header
from tests.endpoint_tools.test_verify import healthy_llmd, outputs
from tests.kube_fake import FakeKubeApi, _Handler

USAGE_TEXT = '{"prompt_tokens": 1, "completion_tokens": 2}'
EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"


class _EarlyHints(_Handler):
    """The fake API server behind a proxy or CDN that sends a 103 Early Hints before every answer."""

    def send_response(self, code: int, message=None) -> None:
        self.wfile.write(EARLY_HINTS)
        super().send_response(code, message)


def test_llm_verify_passes_an_api_servers_interim_answer_over_to_the_final_one(tmp_path, capsys):
    """The Kubernetes client's connections are urllib3's over http.client, which passes over 100 Continue only
    (CPython 3.11 Lib/http/client.py `HTTPResponse.begin`): a 103 was the answer, "the API server answered 103 Early
    Hints", and the final answer left on the connection was read as the next call's. Every check passes, as the
    same cluster without the interim answers does (test_verify.test_a_healthy_cluster_passes_every_check)."""
    with FakeKubeApi(healthy_llmd()) as api, LoopbackServer("auth") as llm:
        api.RequestHandlerClass = _EarlyHints
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(outputs(api, llm)))
        code = verify.main(["--outputs", str(path), "--kube-timeout", "5", "--timeout", "10",
                            "--api-key", "loopback-key"])
    out = capsys.readouterr().out
    assert code == 0 and "103" not in out, out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("PASS")] == [
        "gpus", "gpu-operator", "gateways", "inference-pool", "vllm", "epp", "router", "open-webui", "smoke"], out


def test_llm_verify_passes_interim_answers_over_on_a_tls_api_server_as_aks_has(tmp_path, capsys):
    """The same over TLS with the kubeconfig's CA (the client's HTTPS pool, given the tools' connection class, keeps
    the client's TLS settings)."""
    from tests.endpoint_tools.test_operator_review import over_tls, self_signed
    from tests.endpoint_tools.test_verify import kubeconfig_of, llmd_outputs
    cert, key = self_signed(tmp_path, "-addext", "subjectAltName=DNS:localhost")
    api = FakeKubeApi(healthy_llmd())
    server = over_tls(api, cert, key).replace("127.0.0.1", "localhost")
    api.RequestHandlerClass = _EarlyHints
    config = kubeconfig_of(server, {"token": "t"})
    config["clusters"][0]["cluster"]["certificate-authority"] = cert
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**llmd_outputs(), "kubeconfig": json.dumps(config)}))
    with api:
        assert verify.main(["--outputs", str(path), "--kube-timeout", "5"]) == 1  # no llmdUrl: the smoke line
    out = capsys.readouterr().out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("FAIL")] == ["smoke"], out


KEEP_ALIVES = [b"data:\n\n", b"data: \r\n\r\n", b"data\n\n", b"data:\ndata:\n\n"]


@pytest.mark.parametrize("keep_alive", KEEP_ALIVES)
def test_empty_data_keep_alives_in_a_stream_are_read_as_the_spec_and_the_servers_mean_them(keep_alive, tmp_path,
                                                                                           capsys):
    """An empty `data:` field dispatches an event of empty data (html.spec.whatwg.org, "Interpreting an event
    stream": the field appends "" and a LF, the last LF is removed), which holds no JSON: a proxy's or a gateway's
    keep-alive. Ollama, vLLM and Open-WebUI send none (each event is `data: <JSON>` and a blank line), so it carries
    nothing to read; the stream check and every benchmark request failed as bad_stream ("an event is not JSON:
    ''")."""
    events = [f"data: {delta('a')}\n\n".encode(), keep_alive, f"data: {delta('b')}\n".encode() + keep_alive[:-1],
              keep_alive, f"data: {{\"choices\": [], \"usage\": {USAGE_TEXT}}}\n\n".encode(), b"data: [DONE]\n\n"]
    with Scripted(openai(stream=keep_alive + b"".join(events))) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 0, capsys.readouterr().out
        assert "PASS  stream      2 chunks" in capsys.readouterr().out
        code, report = run_bench(tmp_path, server.url, "-n", "2", "--api", "openai", "--model", "m")
    assert code == 0 and report["summary"]["succeeded"] == 2 and report["summary"]["output_tokens"] == 4


def test_a_stream_of_keep_alives_only_ends_without_its_final_event_not_as_a_bad_one(capsys):
    """Keep-alives and no event: the stream is what it is, one that ended without its final event."""
    with Scripted(openai(stream=b"data:\n\n" * 3)) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  stream      [unterminated]" in out and "ended without its final event (0 content chunks)" in out


@pytest.mark.parametrize("status, said", [
    (300, "answered 300 (Multiple Choices), preferring Location 'http://mirror.example/v1/models?token=***', which "
          "the tools do not choose for you: give the URL you mean"),
    (305, "answered 305 (Use Proxy) with Location 'http://mirror.example/v1/models?token=***', deprecated and not "
          "followed (RFC 9110 15.4.6): a proxy is set with $HTTPS_PROXY or $HTTP_PROXY"),
    (399, "answered 399 with Location 'http://mirror.example/v1/models?token=***', which is no redirect to follow "
          "(those are 301, 302, 303, 307 and 308)"),
])
def test_a_3xx_that_is_no_redirect_to_follow_names_its_location_not_a_missing_one(status, said, capsys):
    """requests follows 301, 302, 303, 307 and 308 only (requests 2.34.2 models.py REDIRECT_STATI): a 300 naming its
    preferred choice, or a 305, with a Location was said to come "without a Location to follow". The Location's
    query values are starred, as a redirect's are (a signed URL)."""
    location = "http://mirror.example/v1/models?token=s3cret"
    with with_header("Location", location, lambda path, request: (status, "text/html", b"<p>Choose</p>")) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert f"[error] GET {server.url}/v1/models {said}: Choose" in out and "s3cret" not in out, out
