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
says what is wrong.
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
import yaml

from .access_review import (DEADLINE_S, INTERVAL_S, REQUEST_TIMEOUT_S, REVIEW_PATH, UNANSWERED_LIMIT, Answer,
                            ApiServer, answer_of, api_server, review_body)

@dataclasses.dataclass
class Surroundings:
    """What the wait touches outside the program: a new HTTP session, the clock and a sleep. The testing kit swaps
    them for a stand-in API server and virtual time."""
    session: Callable[[], requests.Session] = requests.Session
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep


SURROUNDINGS = Surroundings()


def ask(session: requests.Session, server: ApiServer, verify: Any, token: str) -> Answer:
    try:
        response = session.post(server.url + REVIEW_PATH, json=review_body(secrets.token_hex(4)), verify=verify,
                                timeout=REQUEST_TIMEOUT_S, headers={"Authorization": f"Bearer {token}"})
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


async def wait_until_allowed(kubeconfig: str, token: Optional[str], cluster: str,
                             deadline_s: float = DEADLINE_S) -> str:
    """Ask until allowed, the deadline passes, or the server stays unanswering; then hand the kubeconfig on."""
    if not token:  # nothing to ask with (a test's stand-in for the token invoke answered none)
        return kubeconfig
    try:
        server = api_server(kubeconfig)
    except (ValueError, yaml.YAMLError) as error:
        pulumi.log.warn(f"{cluster}: not waiting for the deployer's access: {error}")
        return kubeconfig
    where = SURROUNDINGS
    loop = asyncio.get_running_loop()
    start, unanswered, told = where.monotonic(), 0, False
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
            if answer.reason == "HTTP 401" or unanswered >= UNANSWERED_LIMIT:  # a refused token stays refused
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


def once_allowed(kubeconfig: pulumi.Output[str], token: pulumi.Input[Optional[str]], cluster: str,
                 after: pulumi.Input[Any]) -> pulumi.Output[str]:
    """The kubeconfig, resolved once its API server allows the deployer to write (see the module's text); `after`
    is the grant, so the asking starts once it exists."""
    return pulumi.Output.all(kubeconfig, token, after).apply(
        lambda values: wait_until_allowed(values[0], values[1], cluster))
