"""A loopback stand-in for the Kubernetes API server (127.0.0.1 only): GET answers from a recording, a map of API
paths to the JSON bodies the server returns (lists filtered by `labelSelector` equality terms, as the server does),
404 with a Status body for what the recording lacks, and optionally 401 for everything (expired credentials)."""
from __future__ import annotations

import copy
import json
import socket
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from endpoint_tools.loopback_server import BackgroundServer

RECORDINGS = Path(__file__).parent / "data" / "kube"


def recording(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


def _matches(labels: dict[str, str], selector: str) -> bool:
    terms = [t for t in selector.split(",") if t]
    return all(labels.get(k) == v for k, _, v in (t.partition("=") for t in terms))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "FakeKubeApi"

    def log_message(self, *args) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self._headers_buffer.append(b"\r\n" + data)  # headers and body in one write: no delayed-ACK stall
        self.flush_headers()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        self.server.requests.append(url.path)
        if self.server.unauthorized:
            self._json(401, _status(401, "Unauthorized", "Unauthorized"))
            return
        body = self.server.responses.get(url.path)
        if body is None:
            self._json(404, _status(404, "NotFound", f"the server could not find the requested resource "
                                                     f"({url.path})"))
            return
        selector = parse_qs(url.query).get("labelSelector", [""])[0]
        if "items" in body and selector:  # items without metadata (a custom metrics MetricValueList's): as recorded
            body = {**body, "items": [i for i in body["items"] if "metadata" not in i
                                      or _matches(i["metadata"].get("labels") or {}, selector)]}
        self._json(200, body)


class FakeKubeApi(BackgroundServer):
    """A loopback Kubernetes API serving recorded objects."""

    def __init__(self, responses: dict[str, Any], unauthorized: bool = False):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.responses, self.unauthorized = copy.deepcopy(responses), unauthorized
        self.requests: list[str] = []

    def kubeconfig(self) -> str:
        """A kubeconfig pointing at this server with a bearer token, as a stack output carries one."""
        return json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": "fake-token"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}]})
