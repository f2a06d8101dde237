"""The kit's stand-in for the API servers of the clusters a program creates, as `llmplatform.cluster_access` meets
them during a run: a requests transport adapter, so the wait's own code (URL, TLS bundle, token, body, the answer's
reading) runs whole and only the socket is replaced; and virtual time, so a wait that sleeps costs nothing.

It answers as an AKS API server with Entra ID and Azure RBAC would:
- a host that is no cluster's API server: a connection error (the name does not resolve);
- a CA bundle other than the kubeconfig's CA: a TLS error;
- a token whose audience is not the AKS server application (kubelogin's and the API server's): 401;
- a body that is not a valid SelfSubjectAccessReview (checked against the Kubernetes schema, strictly, with the
  `testing` extra installed; its kind alone without): 422;
- else 201 with `status.allowed` true when the plan, by then, holds a role assignment of "Azure Kubernetes Service
  RBAC Cluster Admin" to the deployer on that cluster (propagation is the deploy model's: the reviews record when
  they were asked, in virtual seconds).
Each review is recorded (`Plan.access_reviews`)."""

import asyncio
import base64
import json
from dataclasses import dataclass
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter

from ..azure_roles import AKS_RBAC_CLUSTER_ADMIN
from ..access_review import REVIEW_PATH
from ..cluster_access import Surroundings
from ..kubeconfig import AKS_AAD_SERVER_ID
from .records import DEPLOYER, Registration

TOKEN_PREFIX = "offline-token-for:"
FAKE_CA_DATA = "TU9DSw=="  # what a kubeconfig's certificate-authority-data holds under the mocks
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def token_for(endpoint: Optional[str]) -> str:
    """The stand-in token azure-native's getClientToken hands out: it names its audience, as a JWT's `aud` does."""
    return TOKEN_PREFIX + (endpoint or "https://management.azure.com/")


@dataclass
class Review:
    server: str
    asked_at: float
    allowed: bool
    status: int


class VirtualClock:
    """Seconds that pass only when the program sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class ClusterEndpoint:
    """One cluster's API server: its ARM id (the grants' scope; "" where the grants are not seen: allowed) and the CA
    its kubeconfig carries."""
    cluster_id: str
    ca_pem: bytes


class StandInApiServers(BaseAdapter):
    def __init__(self, endpoint_of: Callable[[str], Optional[ClusterEndpoint]],
                 registrations: Callable[[], list[Registration]], clock: VirtualClock) -> None:
        super().__init__()
        self.endpoint_of, self.registrations, self.clock = endpoint_of, registrations, clock
        self.reviews: list[Review] = []

    def surroundings(self) -> Surroundings:
        def session() -> requests.Session:
            s = requests.Session()
            s.mount("https://", self)
            s.mount("http://", self)
            return s
        return Surroundings(session=session, monotonic=self.clock.monotonic, sleep=self.clock.sleep)

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        parts = urlsplit(request.url or "")
        origin = f"{parts.scheme}://{parts.netloc}"
        server = self.endpoint_of(origin)
        if server is None:
            raise requests.ConnectionError(f"offline: {parts.hostname} is no cluster's API server")
        if not _trusts(verify, server.ca_pem):
            raise requests.exceptions.SSLError(f"offline: {origin}'s certificate is not signed by the CA given")
        if request.headers.get("Authorization") != f"Bearer {token_for(AKS_AAD_SERVER_ID)}":
            return self._answer(request, origin, 401, _status(401, "Unauthorized", "Unauthorized"))
        if request.method != "POST" or parts.path != REVIEW_PATH:
            return self._answer(request, origin, 404, _status(404, "NotFound", "the server could not find it"))
        problem = _review_problem(request.body)
        if problem:
            return self._answer(request, origin, 422, _status(422, "Invalid", problem))
        body = json.loads(request.body or b"{}")  # type: ignore[arg-type]  # json= sends bytes
        allowed = not server.cluster_id or any(grants_deployer_admin(r, server.cluster_id)
                                                for r in self.registrations())
        body["status"] = {"allowed": allowed, **({} if allowed else {"reason": "no role assignment yet"})}
        return self._answer(request, origin, 201, body, allowed)

    def _answer(self, request: requests.PreparedRequest, origin: str, status: int, body: dict[str, Any],
                allowed: bool = False) -> requests.Response:
        self.reviews.append(Review(origin, self.clock.now, allowed, status))
        response = requests.Response()
        response.status_code, response.request, response.url = status, request, request.url or ""
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        return response

    def close(self) -> None:
        pass


def _trusts(verify: Any, ca_pem: bytes) -> bool:
    if not isinstance(verify, str):
        return False
    try:
        with open(verify, "rb") as bundle:
            return bundle.read() == ca_pem
    except OSError:
        return False


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason,
            "code": code}


def _review_problem(body: Any) -> str:  # the request's body: bytes, as requests encodes json=
    try:
        review = json.loads(body or b"")
    except ValueError:
        return "the body is not JSON"
    if not isinstance(review, dict) or review.get("kind") != "SelfSubjectAccessReview":
        return "the body is no SelfSubjectAccessReview"
    from ..kubernetes_schemas import object_problems  # the kit's strict schema check (kubernetes-validate)
    try:
        return "; ".join(object_problems("access review", review))
    except ImportError:  # the `testing` extra not installed: the kind alone is checked
        return ""


def grants_deployer_admin(reg: Registration, cluster_id: Optional[str] = None) -> bool:
    """A role assignment of "Azure Kubernetes Service RBAC Cluster Admin" to the deployer (on that cluster)."""
    inputs = reg.inputs
    return (reg.type == ROLE_ASSIGNMENT and inputs.get("principalId") == DEPLOYER
            and str(inputs.get("roleDefinitionId", "")).endswith("/" + AKS_RBAC_CLUSTER_ADMIN)
            and (cluster_id is None or str(inputs.get("scope", "")).lower() == cluster_id.lower()))


def plugin_surroundings() -> Surroundings:
    """For a plugin process the stand-in engine starts (offline/plugin_site): its registrations go to the engine, not
    to a monitor here, so every cluster it was handed a kubeconfig for is taken to grant the deployer (a review with
    the right token, CA and body is allowed); what is refused otherwise is refused as in-process."""
    return StandInApiServers(_any_stand_in_cluster, lambda: [], VirtualClock()).surroundings()


def _any_stand_in_cluster(origin: str) -> Optional[ClusterEndpoint]:
    """The API server of any cluster the kit's mocks named (`https://<name>.hcp.<region>.azmk8s.io:443`)."""
    if origin.startswith("https://") and origin.endswith(".azmk8s.io:443"):
        return ClusterEndpoint(cluster_id="", ca_pem=base64.b64decode(FAKE_CA_DATA))
    return None
