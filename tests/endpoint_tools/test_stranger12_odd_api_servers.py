"""llm-verify against a kubeconfig whose server is not the cluster's API server, as a stranger's stale or mistyped
kubeconfig points at: a JSON web service answering every path with an object of its own, a web server answering
every path 404 with its own page, a port speaking another protocol. Each check's line says that the server is not
the API server, naming it and what it answered, where the lines stated wrong facts about the cluster ("models is not
bound", "Deployment llm/ollama not found", "no Gateway in the cluster") or quoted an exception's repr."""

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from endpoint_tools import verify
from endpoint_tools.loopback_server import BackgroundServer

from tests.endpoint_tools.test_verify import kubeconfig_of

# the Ollama stack's outputs verify reads (the dev stack's shape), no gateway URL and no key: the cluster's lines alone
OUTPUTS = {"inference": {"namespace": "llm", "deployment": "ollama", "accelerator": "cpu", "autoscaling": "requests",
                         "webui": True},
           "modelPvc": "models", "modelPreloadJob": "model-preload-1", "gpuNodeSelector": {"llm-platform/pool": "gpu"},
           "gpuDriver": "aks", "apiKeySecret": None, "modelApiUrl": None}


class _Answers(BaseHTTPRequestHandler):
    """Every GET answered with the server's one (status, content type, body)."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        status, kind, body = self.server.answer  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def cluster_lines(server_url: str, tmp_path, capsys) -> tuple[int, list[str]]:
    """llm-verify's exit code and the text of its FAIL lines, the smoke line (no key, no URL) left out."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**OUTPUTS, "kubeconfig": json.dumps(kubeconfig_of(server_url, {"token": "t"}))}))
    code = verify.main(["--outputs", str(path), "--kube-timeout", "5"])
    lines = [line.split(None, 2)[2] for line in capsys.readouterr().out.splitlines()
             if line.startswith("FAIL") and not line.startswith("FAIL  smoke")]
    return code, lines


@pytest.mark.parametrize("body, said", [
    (b'{"status": "UP"}', "JSON that is not a Kubernetes object, no apiVersion, kind or metadata "
                          "(application/json): {\"status\": \"UP\"}"),
    (b'{"data": [], "items": "none"}', "JSON that is not a Kubernetes object, no apiVersion, kind or metadata "
                                       "(application/json): {\"data\": [], \"items\": \"none\"}"),
])
def test_a_json_service_that_is_not_the_kubernetes_api_is_named_not_read_as_the_cluster(tmp_path, capsys, body, said):
    """A 200 JSON object without apiVersion, kind or metadata (an application's health or data endpoint): every
    answer of the API server to a GET carries all three (apimachinery's TypeMeta, and ObjectMeta or ListMeta). It
    was read as the object asked for: "models is not bound", "InterceptorRoute ollama not ready (no status yet)",
    "no Gateway in the cluster", and pydantic's "1 validation error for V1Deployment"."""
    server = BackgroundServer(("127.0.0.1", 0), _Answers)
    server.answer = (200, "application/json", body)  # type: ignore[attr-defined]
    with server:
        code, lines = cluster_lines(server.url, tmp_path, capsys)
    expected = (f"the API server at {server.url} answered 200 with {said} where a Kubernetes object belongs: is the "
                f"kubeconfig's server the cluster's API server?")
    assert code == 1 and len(lines) >= 6 and all(line == expected for line in lines), lines


@pytest.mark.parametrize("kind, body, said", [
    ("text/plain; charset=utf-8", b"404 page not found\n", "a body that is not JSON (text/plain; charset=utf-8): "
                                                            "'404 page not found'"),
    ("text/html", b"<html><body><h1>404 Not Found</h1><hr>nginx</body></html>",
     "a body that is not JSON (text/html): '<html><body><h1>404 Not Found</h1><hr>nginx</body></html>'"),
    ("application/json", b'{"error": "no route"}', "JSON that is not a Kubernetes object, no apiVersion, kind or "
                                                   "metadata (application/json): {\"error\": \"no route\"}"),
    ("application/json", b'{"apiVersion": "v1", "kind": "Pod"}', "JSON that is not a Kubernetes Status "
                                                                 "(application/json): {\"apiVersion\": \"v1\", "
                                                                 "\"kind\": \"Pod\"}"),
])
def test_a_web_server_answering_404_everywhere_is_named_not_read_as_objects_missing(tmp_path, capsys, kind, body,
                                                                                     said):
    """The API server answers a path it does not serve, or an object that does not exist, 404 with a Status (kind
    Status, reason NotFound: kubernetes/kubernetes 20cc31b2 staging/src/k8s.io/apiserver/pkg/util/notfoundhandler/
    not_found_handler.go, the end of its delegation chain, and apimachinery's errors.NewNotFound for an object). A
    404 without one came from another server, and verify read it as the cluster lacking everything:
    "PersistentVolumeClaim llm/models not found", "Deployment keda/keda-add-ons-http-interceptor not found", "no Gateway in the
    cluster"."""
    server = BackgroundServer(("127.0.0.1", 0), _Answers)
    server.answer = (404, kind, body)  # type: ignore[attr-defined]
    with server:
        code, lines = cluster_lines(server.url, tmp_path, capsys)
    expected = (f"the API server at {server.url} answered 404 with {said} where the API server answers a Status: is "
                f"the kubeconfig's server the cluster's API server?")
    assert code == 1 and len(lines) >= 6 and all(line == expected for line in lines), lines


class _OtherProtocol(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(b"\x00\x01garbage not http\r\n\r\n")


def test_a_port_speaking_another_protocol_is_named_without_an_exceptions_repr(tmp_path, capsys):
    """A status line that is not HTTP (another protocol on the port): the line quoted urllib3's ProtocolError's
    repr with its quotes unbalanced (`Connection aborted.', BadStatusLine('\\x00\\x01garbage not http\\r\\n`); now in
    the smoke test's words for the same answer."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _OtherProtocol)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        code, lines = cluster_lines(url, tmp_path, capsys)
    finally:
        server.shutdown()
        server.server_close()
    expected = (f"cannot reach the API server at {url}: it answered with a malformed HTTP response (BadStatusLine: "
                f"\\x00\\x01garbage not http\\r\\n)")
    assert code == 1 and len(lines) >= 6 and all(line == expected for line in lines), lines


def test_credentials_the_api_server_refuses_say_to_log_in_again(tmp_path, capsys):
    """A 401 Status (an expired token, a kubeconfig of another cluster) failed each line as "the API server answered
    401 Unauthorized", with nothing to do about it; the line now names the server and the remedy."""
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "Unauthorized",
              "reason": "Unauthorized", "code": 401}
    server = BackgroundServer(("127.0.0.1", 0), _Answers)
    server.answer = (401, "application/json", json.dumps(status).encode())  # type: ignore[attr-defined]
    with server:
        code, lines = cluster_lines(server.url, tmp_path, capsys)
    expected = (f"the API server at {server.url} answered 401 Unauthorized: it took the kubeconfig's credentials for "
                f"no user (expired, or another cluster's); log in again, or export the stack's kubeconfig again "
                f"(docs/operations.md, \"Reaching the cluster (kubelogin)\")")
    assert code == 1 and len(lines) >= 6 and all(line == expected for line in lines), lines


def test_outputs_written_without_show_secrets_say_so(tmp_path, capsys):
    """`pulumi stack output --json` without --show-secrets prints the kubeconfig as "[secret]", which verify parsed as
    YAML (a list holding 'secret') and refused as "YAML of another shape (list)": the fix, --show-secrets, unsaid."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**OUTPUTS, "kubeconfig": "[secret]"}))
    assert verify.main(["--outputs", str(path)]) == 1
    out = capsys.readouterr().out
    assert out == ("FAIL  reach          stack output kubeconfig is \"[secret]\": the outputs were written without "
                   "--show-secrets; write them with `pulumi stack output --json --show-secrets > FILE`, or pass "
                   "--kubeconfig\n"), out
