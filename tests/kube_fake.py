"""A loopback stand-in for the Kubernetes API server (127.0.0.1 only): GET answers from a recording, a map of API
paths to the JSON bodies the server returns (lists filtered by `labelSelector` equality terms, as the server does,
in the list envelope the server gives them), 404 with a Status body for what the recording lacks, 403 with the
Status the API server's authorizer answers for the paths named `forbidden` (a kubeconfig without that RBAC
permission), and optionally 401 for everything (expired credentials)."""
from __future__ import annotations

import copy
import json
import re
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


# The user the authorizer names in a 403 (the kubeconfig's token stands for it).
USER = "verifier@example.com"
SELECTOR_TERM = re.compile(r"^([A-Za-z0-9./_-]+)==?([A-Za-z0-9._-]*)$")


def _matches(labels: dict[str, str], selector: str) -> bool:
    terms = [SELECTOR_TERM.match(t) for t in selector.split(",") if t]
    if not all(terms):  # the real server takes set-based terms too: this fake refuses rather than guess
        raise ValueError(f"unable to parse requirement: {selector!r} (this fake API takes equality terms only)")
    return all(labels.get(t.group(1)) == t.group(2) for t in terms if t)


def request_attributes(path: str) -> tuple[str, str, str, str, str]:
    """The authorizer's attributes of a GET of `path` (k8s.io/apiserver's RequestInfo): verb (get with a name, else
    list), API group, resource (with its subresource), namespace and name."""
    parts = [p for p in path.split("/") if p]
    group, rest = ("", parts[2:]) if parts[:1] == ["api"] else (parts[1], parts[3:])
    namespace = ""
    if rest[:1] == ["namespaces"] and len(rest) > 2:
        namespace, rest = rest[1], rest[2:]
    resource, name, sub = (rest + ["", "", ""])[:3]
    return ("get" if name else "list"), group, f"{resource}/{sub}" if sub else resource, namespace, name


def forbidden_status(path: str, user: str = USER) -> dict[str, Any]:
    """The 403 the API server answers when RBAC denies the request: k8s.io/apiserver v0.35.7
    pkg/endpoints/handlers/responsewriters/errors.go (ForbiddenStatusError, forbiddenMessage) and apimachinery's
    errors.NewForbidden (the message `<resource>[.<group>] ["<name>" ]is forbidden: ...`, details group/kind/name)."""
    verb, group, resource, namespace, name = request_attributes(path)
    where = f"in the namespace {json.dumps(namespace)}" if namespace else "at the cluster scope"
    why = (f"User {json.dumps(user)} cannot {verb} resource {json.dumps(resource)} in API group {json.dumps(group)} "
           f"{where}")
    qualified = resource.split("/")[0] + (f".{group}" if group else "")
    message = f"{qualified} {json.dumps(name)} is forbidden: {why}" if name else f"{qualified} is forbidden: {why}"
    return {**_status(403, "Forbidden", message),
            "details": {"name": name, "group": group, "kind": resource.split("/")[0]} if name else
            {"group": group, "kind": resource.split("/")[0]}}


def not_found_status(path: str) -> dict[str, Any]:
    """A 404: for a named object the API server's `<resource>[.<group>] "<name>" not found` (apimachinery
    errors.NewNotFound), else the one it gives for a path it does not serve."""
    _, group, resource, _, name = request_attributes(path)
    if not name or "/" in resource:
        return _status(404, "NotFound", f"the server could not find the requested resource ({path})")
    qualified = resource + (f".{group}" if group else "")
    return {**_status(404, "NotFound", f"{qualified} {json.dumps(name)} not found"),
            "details": {"name": name, "group": group, "kind": resource}}


def list_envelope(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A list as the server answers it: apiVersion, kind and list metadata around the items (a recording may hold
    only the items)."""
    parts = [p for p in path.split("/") if p]
    api_version = "v1" if parts[:1] == ["api"] else "/".join(parts[1:3])
    kinds = {i.get("kind") for i in body.get("items") or [] if isinstance(i, dict) and i.get("kind")}
    kind = f"{kinds.pop()}List" if len(kinds) == 1 else body.get("kind")
    return {"apiVersion": api_version, **({"kind": kind} if kind else {}), "metadata": {"resourceVersion": "1"},
            **body}


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
        if any(url.path == p or url.path.startswith(p.rstrip("/") + "/") for p in self.server.forbidden):
            self._json(403, forbidden_status(url.path))
            return
        body = self.server.responses.get(url.path)
        if body is None:
            self._json(404, not_found_status(url.path))
            return
        selector = parse_qs(url.query).get("labelSelector", [""])[0]
        try:
            if "items" in body and selector:  # items without metadata (a MetricValueList's): as recorded
                body = {**body, "items": [i for i in body["items"] if "metadata" not in i
                                          or _matches(i["metadata"].get("labels") or {}, selector)]}
        except ValueError as error:
            self._json(400, _status(400, "BadRequest", str(error)))
            return
        self._json(200, list_envelope(url.path, body) if "items" in body else body)


class FakeKubeApi(BackgroundServer):
    """A loopback Kubernetes API serving recorded objects."""

    def __init__(self, responses: dict[str, Any], unauthorized: bool = False, forbidden: tuple[str, ...] = ()):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.responses, self.unauthorized = copy.deepcopy(responses), unauthorized
        self.forbidden = tuple(forbidden)  # API paths (and everything under them) RBAC denies
        self.requests: list[str] = []

    def kubeconfig(self) -> str:
        """A kubeconfig pointing at this server with a bearer token, as a stack output carries one."""
        return json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": "fake-token"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}]})
