"""What `llmplatform.cluster_access` asks an API server and how it reads the answer: pure functions and figures,
which the offline deploy model reads too (with no SDK import)."""

import base64
import binascii
import dataclasses
from typing import Any, Optional

import yaml

REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
# What is asked: a create in a namespace named afresh for each ask. The cluster role grants it (Azure RBAC checks a
# namespace at `<cluster id>/namespaces/<ns>`, under the cluster-scope assignment), and a new namespace makes each
# ask a new question for both caches of authorization decisions, so a "no" cached from an ask before the grant
# arrived is never the answer after it: the API server's webhook cache keys on the whole request, kubeguard/guard's
# on `<user>/<namespace>/<group>/<resource>/<action>` (getResultCacheKey, 3 minutes by default, denials too).
ASKED = {"verb": "create", "resource": "configmaps"}
ASKED_NAMESPACE_PREFIX = "llmplatform-access-"
# Twice the slowest propagation the deploy model knows (config/data/deploy_durations.json:
# role_assignment_propagation, 10 minutes, a cached "no" included).
DEADLINE_S = 1200.0
INTERVAL_S = 10.0
REQUEST_TIMEOUT_S = 10.0
# Consecutive asks with no review answered (unreachable, refused TLS) before handing on: about a minute, for an
# API server that is still settling after its create.
UNANSWERED_LIMIT = 6


@dataclasses.dataclass(frozen=True)
class Answer:
    """One ask's outcome: `allowed`, `refused` (the review said no, or the request itself was forbidden: the grant
    has not arrived) or `unanswered` (no review: the reason says why)."""
    outcome: str
    reason: str = ""


def review_body(tag: str) -> dict[str, Any]:
    """The review of one ask; `tag` names its namespace (see ASKED)."""
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {**ASKED, "namespace": ASKED_NAMESPACE_PREFIX + tag}}}


@dataclasses.dataclass(frozen=True)
class ApiServer:
    url: str
    ca_pem: Optional[bytes]


# libyaml's loader where PyYAML has it (its wheels carry it): the same SafeConstructor over a C parser, ~10x faster
# than the pure-Python one (1 ms a kubeconfig; the test suite's component runs read one ~370 times)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def api_server(kubeconfig: str) -> ApiServer:
    """The current context's cluster: its server and CA (`certificate-authority-data`, as AKS hands it out).
    Raises ValueError for a kubeconfig that names none or is no YAML (saying where, never quoting it)."""
    try:
        doc = yaml.load(kubeconfig, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:  # PyYAML's own words quote the line it stopped at, which may hold a token
        mark = getattr(error, "problem_mark", None)
        raise ValueError("the kubeconfig is not YAML" + (f" (line {mark.line + 1}, column {mark.column + 1})"
                                                         if mark is not None else "")) from None
    if not isinstance(doc, dict):
        raise ValueError("the kubeconfig is not a mapping")
    contexts = {c.get("name"): c.get("context") or {} for c in doc.get("contexts") or [] if isinstance(c, dict)}
    clusters = {c.get("name"): c.get("cluster") or {} for c in doc.get("clusters") or [] if isinstance(c, dict)}
    name = contexts.get(doc.get("current-context"), {}).get("cluster")
    cluster = clusters.get(name) if name else next(iter(clusters.values()), None)
    if not cluster or not isinstance(cluster.get("server"), str):
        raise ValueError("the kubeconfig names no API server")
    data = cluster.get("certificate-authority-data")
    try:
        ca = base64.b64decode(data, validate=True) if data else None
    except (binascii.Error, TypeError):
        raise ValueError("the kubeconfig's certificate-authority-data is not base64") from None
    return ApiServer(cluster["server"].rstrip("/"), ca)


def answer_of(response: Any) -> Answer:
    """A requests Response read as the wait reads it: 201 with `status.allowed` is allowed; a review that says no, a
    review refused itself (403: the authorizer webhook may decide the review before Kubernetes RBAC) or a server
    error is `refused` (ask again); 401 (the token is not accepted) and anything else is `unanswered`."""
    code = response.status_code
    if code == 403 or code >= 500:
        return Answer("refused", f"HTTP {code}")
    if code != 201:
        return Answer("unanswered", f"HTTP {code}")
    try:
        status = (response.json() or {}).get("status") or {}
    except ValueError:
        return Answer("unanswered", "the answer is not JSON")
    if status.get("allowed") is True:
        return Answer("allowed")
    return Answer("refused", str(status.get("reason") or status.get("evaluationError") or "not allowed"))
