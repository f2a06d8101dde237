"""llmplatform.cluster_access: the wait before the Kubernetes provider writes, against a loopback API server over
real HTTPS (the kubeconfig's CA, a bearer token, JSON), with virtual time; and the pure reading of a kubeconfig and
of the server's answers (llmplatform.access_review)."""
from __future__ import annotations

import asyncio
import base64
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
import requests
import yaml

from llmplatform import cluster_access
from llmplatform.access_review import (ASKED_NAMESPACE_PREFIX, DEADLINE_S, INTERVAL_S, REVIEW_PATH, UNANSWERED_LIMIT,
                                       answer_of, api_server)
from llmplatform.kubernetes_schemas import object_problems

TLS = Path(__file__).parent.parent / "data" / "tls"


class _Reviews(BaseHTTPRequestHandler):
    server: "LoopbackApi"
    protocol_version = "HTTP/1.1"  # one connection (one TLS handshake) for a session's asks, as with a real server

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.asked.append((self.path, self.headers.get("Authorization"), json.loads(body)))
        status, answer = self.server.script[min(len(self.server.asked), len(self.server.script)) - 1]
        review = json.loads(body)
        if status == 201:
            review["status"] = {"allowed": answer == "allowed", **({"reason": answer} if answer != "allowed" else {})}
        payload = json.dumps(review if status == 201 else {"kind": "Status", "code": status}).encode()
        head = f"HTTP/1.1 {status} -\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        self.wfile.write(head.encode() + payload)  # one write: no delayed-ACK stall between headers and body


class LoopbackApi(ThreadingHTTPServer):
    """An API server on 127.0.0.1 over TLS (tests/data/tls/loopback.pem) answering reviews from a script of
    (status, answer) pairs, the last repeated."""
    daemon_threads = True

    def __init__(self, script: list[tuple[int, str]]) -> None:
        super().__init__(("127.0.0.1", 0), _Reviews)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS / "loopback.pem", TLS / "loopback-key.pem")
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.script, self.asked = script, []  # type: ignore[var-annotated]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def api_of() -> Iterator[Any]:
    servers: list[LoopbackApi] = []

    def start(script: list[tuple[int, str]]) -> LoopbackApi:
        server = LoopbackApi(script)
        threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def kubeconfig(server: str, ca: Path = TLS / "loopback.pem") -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "aks",
        "clusters": [{"name": "other", "cluster": {"server": "https://elsewhere.invalid"}},
                     {"name": "aks", "cluster": {"server": server,
                                                 "certificate-authority-data": base64.b64encode(ca.read_bytes()).decode()}}],
        "contexts": [{"name": "aks", "context": {"cluster": "aks", "user": "u"}}],
        "users": [{"name": "u", "user": {"exec": {"command": "kubelogin"}}}]})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def virtual_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Clock:
    """Real HTTP sessions, virtual seconds; the CA's temporary file in tmp_path (to see it removed)."""
    clock = Clock()
    monkeypatch.setattr(cluster_access, "SURROUNDINGS", cluster_access.Surroundings(
        session=requests.Session, monotonic=lambda: clock.now, sleep=clock.sleep))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    return clock


def wait(config: str, token: str = "the-token") -> str:
    return asyncio.run(cluster_access.wait_until_allowed(config, token, "aks"))


def test_it_asks_until_allowed_over_the_kubeconfigs_tls_with_the_token(api_of, virtual_time, tmp_path):
    api = api_of([(201, "no role yet"), (403, ""), (201, "allowed")])
    config = kubeconfig(api.url)
    assert wait(config) == config
    assert len(api.asked) == 3 and virtual_time.now == 2 * INTERVAL_S
    namespaces = set()
    for path, authorization, review in api.asked:
        assert path == REVIEW_PATH and authorization == "Bearer the-token"
        assert object_problems("review", review) == []  # a SelfSubjectAccessReview the API server takes (strict)
        attributes = review["spec"]["resourceAttributes"]
        assert attributes["verb"] == "create" and attributes["namespace"].startswith(ASKED_NAMESPACE_PREFIX)
        namespaces.add(attributes["namespace"])
    assert len(namespaces) == 3  # a new question each time: no cached "no" answers a later ask
    assert list(tmp_path.iterdir()) == []  # the CA's file is gone


def test_a_refusal_past_the_deadline_is_a_warning_and_the_kubeconfig_goes_on(api_of, virtual_time, capsys):
    api = api_of([(201, "no role yet")])
    config = kubeconfig(api.url)
    assert wait(config) == config
    assert len(api.asked) == int(DEADLINE_S // INTERVAL_S) + 1  # the last at the deadline
    err = capsys.readouterr().err
    assert "still refuses the deployer (no role yet)" in err and "pulumi up` again" in err


def test_an_unaccepted_token_stops_at_once(api_of, virtual_time, capsys):
    api = api_of([(401, "")])
    assert wait(kubeconfig(api.url)) and len(api.asked) == 1
    assert "refused the deployer's token (HTTP 401" in capsys.readouterr().err


def test_a_server_error_is_asked_again(api_of, virtual_time):
    api = api_of([(500, ""), (201, "allowed")])
    wait(kubeconfig(api.url))
    assert len(api.asked) == 2


def test_a_certificate_the_kubeconfigs_ca_did_not_sign_is_no_answer(api_of, virtual_time, capsys):
    api = api_of([(201, "allowed")])
    wait(kubeconfig(api.url, ca=TLS / "other.pem"))
    assert api.asked == [] and virtual_time.now == (UNANSWERED_LIMIT - 1) * INTERVAL_S
    assert "did not answer a SelfSubjectAccessReview (SSLError)" in capsys.readouterr().err


def test_without_a_token_nothing_is_asked(api_of, virtual_time):
    api = api_of([(201, "allowed")])
    wait(kubeconfig(api.url), token="")
    assert api.asked == []


def test_an_unreadable_kubeconfig_is_a_warning(virtual_time, capsys):
    assert wait("clusters: []\n") == "clusters: []\n"
    assert "not waiting for the deployer's access: the kubeconfig names no API server" in capsys.readouterr().err


@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
def test_a_kubeconfig_that_is_no_yaml_is_a_warning_that_quotes_no_line_of_it(virtual_time, capsys, monkeypatch,
                                                                             loader):
    """PyYAML's pure-Python loader (where libyaml is missing) quotes the line it stopped at in its message, and a
    kubeconfig's line may hold the user's token: the warning says where, not what."""
    from llmplatform import access_review
    monkeypatch.setattr(access_review, "_LOADER", getattr(yaml, loader))
    broken = kubeconfig("https://aks.example:443/") + "users:\n- name: u\n  user:\n    token: eyJSECRET: oops: [\n"
    assert wait(broken) == broken
    err = capsys.readouterr().err
    assert "not waiting for the deployer's access: the kubeconfig is not YAML (line" in err and "eyJSECRET" not in err


def test_the_current_contexts_cluster_is_the_one_asked():
    found = api_server(kubeconfig("https://aks.example:443/"))
    assert found.url == "https://aks.example:443" and found.ca_pem == (TLS / "loopback.pem").read_bytes()
    with pytest.raises(ValueError, match="not base64"):
        api_server(kubeconfig("https://x").replace(base64.b64encode((TLS / "loopback.pem").read_bytes()).decode(),
                                                   "not*base64"))


class _Response:
    def __init__(self, status: int, body: Any = None) -> None:
        self.status_code, self.body = status, body

    def json(self) -> Any:
        if isinstance(self.body, str):
            raise ValueError("not JSON")
        return self.body


@pytest.mark.parametrize("status, body, outcome", [
    (201, {"status": {"allowed": True}}, "allowed"),
    (201, {"status": {"allowed": False, "denied": True, "reason": "no role"}}, "refused"),
    (201, {"status": {"allowed": False, "evaluationError": "webhook failed"}}, "refused"),
    (403, None, "refused"),
    (503, None, "refused"),
    (401, None, "unanswered"),
    (404, None, "unanswered"),
    (201, "<html>", "unanswered"),
])
def test_answers_are_read_as_the_api_server_means_them(status, body, outcome):
    assert answer_of(_Response(status, body)).outcome == outcome


def test_a_netrc_entry_for_the_server_does_not_replace_the_token(api_of, virtual_time, tmp_path, monkeypatch):
    """requests' Session reads ~/.netrc (trust_env) for a request with no auth of its own, and its Basic
    credentials overwrite an Authorization header: the token goes as the request's auth."""
    api = api_of([(201, "allowed")])
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password something\n")
    monkeypatch.setenv("NETRC", str(netrc))
    wait(kubeconfig(api.url))
    assert [authorization for _, authorization, _ in api.asked] == ["Bearer the-token"]


def renewing(*tokens: str) -> Any:
    handed = list(tokens)

    async def renew() -> str:
        return handed.pop(0)
    return renew


def test_a_refused_token_is_renewed_once_each_time_the_server_took_one(api_of, virtual_time):
    """An Entra token may expire during the wait (it can be handed out with five minutes left): a 401 gets a new
    token, asked again at once; once the server has taken a token, a later 401 gets another."""
    api = api_of([(401, ""), (201, "no role yet"), (401, ""), (201, "allowed")])
    config = kubeconfig(api.url)
    assert asyncio.run(cluster_access.wait_until_allowed(config, "first", "aks", renew=renewing("second", "third")))
    assert [authorization for _, authorization, _ in api.asked] == [
        "Bearer first", "Bearer second", "Bearer second", "Bearer third"]
    assert virtual_time.now == INTERVAL_S


def test_a_renewed_token_refused_too_stops(api_of, virtual_time, capsys):
    api = api_of([(401, "")])
    asyncio.run(cluster_access.wait_until_allowed(kubeconfig(api.url), "first", "aks", renew=renewing("second")))
    assert [authorization for _, authorization, _ in api.asked] == ["Bearer first", "Bearer second"]
    assert "refused the deployer's token (HTTP 401" in capsys.readouterr().err


def test_client_tokens_renew_given_as_the_token_is_refused_by_name():
    """A stranger reading "ask for `token` after it too: `client_token`" passed client_token(...) (a function) as the
    token: it went out as "Bearer <function ...>", the server answered 401 and the wait warned of an unanswered
    review and went on, the grant never awaited. once_allowed now says which argument takes what."""
    renew = cluster_access.client_token(None, "6dae42f8-4368-4678-94ff-3960e28e3630")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"once_allowed\('mine'\): token is the token itself .* gives renew="):
        cluster_access.once_allowed("kubeconfig", renew, "mine", after="grant")  # type: ignore[arg-type]
