"""Holds back the Kubernetes provider, during `pulumi up`, until the API server lets the deployer write.

The deployer's cluster role ("Azure Kubernetes Service RBAC Cluster Admin") is an Azure role assignment, and Azure
RBAC takes minutes to reach a new cluster's authorizer. pulumi-kubernetes retries a create only on NotFound and
NoMatch (`provider/pkg/await/await.go` Creation: `retrier.Do(apierrors.IsNotFound, meta.IsNoMatchError)`), so a
create that meets the grant before it has propagated fails with Forbidden. Here the provider's kubeconfig resolves
only once a SelfSubjectAccessReview answers allowed: "may I create a ConfigMap in namespace <new name>?" (a
namespace named afresh each time, so no cached "no" answers it: `llmplatform.access_review.ASKED`), asked as the
deployer, with an Entra token for the AKS server application, the audience kubelogin asks for (Azure/kubelogin
`GetScope`: `<server id>/.default`; azure-native's getClientToken asks for `<endpoint>/.default`).

Not in a preview (nothing is written then). A refusal that outlasts DEADLINE_S, a token the server refuses (401) or
a server that does not answer is reported as a warning and the kubeconfig handed on: the provider's own error then
says what is wrong. A 401 first gets one new token (`renew`): an Entra token may be handed out with only five
minutes left (MSAL serves a cached access token until `expires_in < 5*60`), and the wait can outlast that.
"""
import asyncio
import contextlib
import dataclasses
import os
import secrets
import tempfile
import time
from typing import Any, Awaitable, Callable, Iterator, Optional

import pulumi
import requests
import requests.auth
import yaml

from .access_review import (DEADLINE_S, INTERVAL_S, REQUEST_TIMEOUT_S, REVIEW_PATH, UNANSWERED_LIMIT, Answer,
                            ApiServer, answer_of, api_server, review_body)

TOKEN_INVOKE = "azure-native:authorization:getClientToken"


@dataclasses.dataclass
class Surroundings:
    """What the wait touches outside the program: a new HTTP session, the clock and a sleep. The testing kit swaps
    them for a stand-in API server and virtual time."""
    session: Callable[[], requests.Session] = requests.Session
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep


SURROUNDINGS = Surroundings()
_REAL = SURROUNDINGS


def _under_foreign_mocks() -> bool:
    """A test of its own under the SDK's mocks (`pulumi.runtime.set_mocks`) that left the surroundings real: its
    fake kubeconfig names no server to reach, so nothing is asked (llmplatform.testing swaps in its stand-ins)."""
    from pulumi.runtime import mocks, settings
    return SURROUNDINGS is _REAL and isinstance(settings.get_monitor(), mocks.MockMonitor)


class _Bearer(requests.auth.AuthBase):
    """The token as the request's auth, not a header: with no auth given, a Session (trust_env) takes a ~/.netrc
    entry for the host and its Basic credentials replace an Authorization header (requests `prepare_auth`)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def ask(session: requests.Session, server: ApiServer, verify: Any, token: str) -> Answer:
    try:
        response = session.post(server.url + REVIEW_PATH, json=review_body(secrets.token_hex(4)), verify=verify,
                                timeout=REQUEST_TIMEOUT_S, auth=_Bearer(token))
    except requests.RequestException as error:
        return Answer("unanswered", type(error).__name__)
    return answer_of(response)


@contextlib.contextmanager
def _ca_file(ca_pem: Optional[bytes]) -> Iterator[Any]:
    """requests takes a CA bundle as a path: the kubeconfig's CA in a private temporary file, removed after."""
    if ca_pem is None:
        yield True
        return
    handle, path = tempfile.mkstemp(prefix="llmplatform-ca-", suffix=".pem")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(ca_pem)
        yield path
    finally:
        os.unlink(path)


Renew = Callable[[], Awaitable[Optional[str]]]


async def wait_until_allowed(kubeconfig: str, token: Optional[str], cluster: str,
                             deadline_s: float = DEADLINE_S, renew: Optional[Renew] = None) -> str:
    """Ask until allowed, the deadline passes, or the server stays unanswering; then hand the kubeconfig on. On a
    401 `renew` (if given) is asked once for a new token (again only after the server took one)."""
    if not token or _under_foreign_mocks():  # nothing to ask with, or no real server to ask
        return kubeconfig
    try:
        server = api_server(kubeconfig)
    except (ValueError, yaml.YAMLError) as error:
        pulumi.log.warn(f"{cluster}: not waiting for the deployer's access: {error}")
        return kubeconfig
    where = SURROUNDINGS
    loop = asyncio.get_running_loop()
    start, unanswered, told, renewed = where.monotonic(), 0, False, False
    with _ca_file(server.ca_pem) as verify, where.session() as session:
        while True:
            answer = await loop.run_in_executor(None, ask, session, server, verify, token)
            waited = where.monotonic() - start
            if answer.outcome == "allowed":
                if told:
                    pulumi.log.info(f"{cluster}: the deployer's cluster role reached the API server after "
                                    f"{waited:.0f} s")
                return kubeconfig
            unanswered = unanswered + 1 if answer.outcome == "unanswered" else 0
            if answer.reason == "HTTP 401" and renew is not None and not renewed:
                renewed, token = True, await _renewed(renew, token, cluster)
                continue
            renewed = renewed and answer.reason == "HTTP 401"
            if answer.reason == "HTTP 401":  # a refused token stays refused
                pulumi.log.warn(f"{cluster}: the API server {server.url} refused the deployer's token (HTTP 401; it "
                                "takes an Entra token for the AKS server application, the audience kubelogin asks "
                                "for); going on without knowing whether the deployer may write")
                return kubeconfig
            if unanswered >= UNANSWERED_LIMIT:
                pulumi.log.warn(f"{cluster}: the API server {server.url} did not answer a SelfSubjectAccessReview "
                                f"({answer.reason}); going on without knowing whether the deployer may write")
                return kubeconfig
            if waited + INTERVAL_S > deadline_s:
                pulumi.log.warn(f"{cluster}: after {waited:.0f} s the API server still refuses the deployer "
                                f"({answer.reason}): in-cluster creates will fail with Forbidden. Check the "
                                "deployer's 'Azure Kubernetes Service RBAC Cluster Admin' assignment on the "
                                "cluster, then run `pulumi up` again")
                return kubeconfig
            if not told and answer.outcome == "refused":
                pulumi.log.info(f"{cluster}: waiting for the deployer's cluster role to reach the API server")
                told = True
            await where.sleep(INTERVAL_S)


async def _renewed(renew: Renew, token: str, cluster: str) -> str:
    try:
        fresh = await renew()
    except Exception as error:  # noqa: BLE001 (the 401 is then reported as before)
        pulumi.log.warn(f"{cluster}: no new token for the API server ({type(error).__name__})")
        return token
    return fresh or token


def client_token(asking: pulumi.Resource, endpoint: Optional[str]) -> Renew:
    """once_allowed's `renew`: a new token from azure-native's getClientToken for `endpoint` (the AKS server
    application, `kubeconfig.AKS_AAD_SERVER_ID`), asked as `asking`'s azure-native provider. Not a token itself."""
    async def renew() -> Optional[str]:
        result = await pulumi.runtime.invoke_async(TOKEN_INVOKE, {"endpoint": endpoint},
                                                   pulumi.InvokeOptions(parent=asking))
        return result.get("token") if isinstance(result, dict) else None
    return renew


def once_allowed(kubeconfig: pulumi.Output[str], token: pulumi.Input[Optional[str]], cluster: str,
                 after: pulumi.Input[Any], renew: Optional[Renew] = None) -> pulumi.Output[str]:
    """The kubeconfig, resolved once its API server allows the deployer to write (see the module's text).

    `token` is the token itself, for the AKS server application (`kubeconfig.AKS_AAD_SERVER_ID`), asked for once the
    grant exists: `authorization.get_client_token_output(endpoint=grant.id.apply(lambda _: AKS_AAD_SERVER_ID)).token`
    (none: nothing is asked). `after` is the grant, so the asking starts once it exists. `renew`, e.g.
    `client_token(grant, AKS_AAD_SERVER_ID)`, gives a new token on a 401. `cluster` names the cluster in the
    warnings. docs/components/aks-cluster.md ("A Kubernetes provider of your own") has the whole pattern."""
    if callable(token):  # client_token's result is `renew`: as the token it went out as "Bearer <function ...>"
        raise TypeError(f"once_allowed({cluster!r}): token is the token itself (a string or an Output of one, e.g. "
                        "authorization.get_client_token_output(endpoint=AKS_AAD_SERVER_ID).token), not a function; "
                        "client_token(...) gives renew=")
    return pulumi.Output.all(kubeconfig, token, after).apply(
        lambda values: wait_until_allowed(values[0], values[1], cluster, renew=renew))
