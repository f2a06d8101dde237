"""The testing kit's reachability rule (llmplatform.testing.reachability): a pod whose configured in-cluster URL the
program's NetworkPolicies drop, or whose bare host resolves in a namespace without that Service, is refused by `run`
naming the caller, the URL, the Service, the port, the isolating policy and the fix; what the plan does not describe
whole (a secret URL, a policy the model does not read, a namespace's labels the program does not set) is not judged."""
from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s
import pytest

import llmplatform
from llmplatform.testing import ProgramError, run
from llmplatform.testing.network_policy import Pod, Unmodelled, allowed, port_matches

from tests.components.test_components_alone import REQUIRED, provider_opts


def gate_and_ui(gate: str, client_namespaces: Optional[list[str]] = None) -> Any:
    """An OpenWebUi in `ui` on the `endpoint` of a gate in `llm`: ApiGate's (over an OllamaServer) or LlmdStack's."""
    def program() -> None:
        opts = provider_opts()
        clients = {"client_namespaces": client_namespaces} if client_namespaces else {}
        if gate == "ApiGate":
            ollama = llmplatform.OllamaServer("ollama", REQUIRED["OllamaServer"](), opts)
            endpoint = llmplatform.ApiGate("gate", {**REQUIRED["ApiGate"](), "endpoint": ollama.endpoint, **clients},
                                           opts).endpoint
        else:
            endpoint = llmplatform.LlmdStack("gate", {**REQUIRED["LlmdStack"](), "namespace": "llm", **clients},
                                             opts).endpoint
        llmplatform.OpenWebUi("ui", {**REQUIRED["OpenWebUi"](), "endpoint": endpoint, "namespace": "ui"}, opts)
    return program


@pytest.mark.parametrize("gate", ["ApiGate", "LlmdStack"])
def test_an_open_webui_in_another_namespace_than_its_gate_is_refused_until_the_gate_admits_that_namespace(gate):
    """The gate's `router-ingress` admits its own namespace's pods alone: the UI in `ui` starts and lists no model.
    Refused naming the UI's Deployment, the URL (the gate's host qualified with its namespace: OpenWebUi's
    `reached_from`), the Service and port, the policy (and its component) and the input that fixes it; with `ui` in
    the gate's client_namespaces the program plans."""
    with pytest.raises(ProgramError) as refused:
        run(gate_and_ui(gate))
    message = str(refused.value)
    variable = "OLLAMA_BASE_URL" if gate == "ApiGate" else "OPENAI_API_BASE_URL"
    for part in (f"ui-webui (Deployment ui/open-webui) calls http://router.llm.svc:8080 (env {variable}",
                 "Service llm/router port 8080 reaches Deployment llm/router on port 8080",
                 f"llm/router-ingress (NetworkPolicy, {gate} 'gate')",
                 f"give {gate} 'gate' the caller's namespace in its client_namespaces (['ui'])"):
        assert part in message, message
    assert message.count(" calls http") == 1, message  # the UI's Valkey, in its own namespace, is reached
    run(gate_and_ui(gate, ["ui"]))
    if gate == "ApiGate":
        run(gate_and_ui(gate, ["apps", "ui"]))
        with pytest.raises(ProgramError, match="router-ingress"):
            run(gate_and_ui(gate, ["apps"]))


def test_a_bare_host_of_a_service_the_program_makes_in_another_namespace_alone_is_told_it_does_not_resolve():
    """A pod resolves a bare name in its own namespace: `http://api` from `a`, where the program makes no Service
    `api` (it makes b/api), resolves to nothing, whatever the policies say."""
    with pytest.raises(ProgramError) as refused:
        run(client_and_api(url="http://api:80/v1"))
    message = str(refused.value)
    assert "a-client (Deployment a/client) calls http://api:80 (env API_URL of container client): a bare host " \
           "resolves in the pod's own namespace (api.a.svc.cluster.local), where this program creates no Service " \
           "api; it creates api in b (b-api): the name does not resolve and every call fails; qualify the host " \
           "(http://api.b.svc:80) or run Deployment a/client in namespace b" in message, message
    run(client_and_api(url="http://api.b:80/v1"))
    run(client_and_api(url="http://web:80/v1"))  # a Service the program makes nowhere: maybe a chart's, not judged

    def release_in_a(opts: pulumi.ResourceOptions) -> None:  # a chart installed into `a` may make `api` there
        k8s.helm.v3.Release("chart", chart="example", namespace="a", opts=opts)
    run(client_and_api(url="http://api:80/v1", extra=release_in_a))


# ---- plain Kubernetes objects: a client in `a` calling a Service of `b` ------------------------------------------

def client_and_api(url: Any = "http://api.b.svc.cluster.local/v1", policies: tuple[dict[str, Any], ...] = (),
                   namespaces: Optional[dict[str, dict[str, str]]] = None, extra: Any = None,
                   pod: Optional[dict[str, Any]] = None) -> Any:
    """Deployment `client` (a) with `url` in its env (a function: called in the program, for an Output; None: read
    from a Secret), Service b/api (port 80 -> the pods' port named `http`, 8080) over Deployment b/api; `policies` as
    (namespace, name, spec) dicts; `namespaces`: Namespace objects with labels; `extra(opts)` adds objects; `pod`:
    more fields of the client's pod spec."""
    def program() -> None:
        opts = provider_opts()
        for name, labels in (namespaces or {}).items():
            k8s.core.v1.Namespace(f"ns-{name}", metadata={"name": name, "labels": labels}, opts=opts)

        def deployment(namespace: str, app: str, spec: Optional[dict[str, Any]] = None, **container: Any) -> None:
            k8s.apps.v1.Deployment(f"{namespace}-{app}", metadata={"name": app, "namespace": namespace}, spec={
                "selector": {"matchLabels": {"app": app}},
                "template": {"metadata": {"labels": {"app": app}},
                             "spec": {**(spec or {}),
                                      "containers": [{"name": app, "image": "example/app:1", **container}]}}},
                opts=opts)
        env = {"name": "API_URL", "valueFrom": {"secretKeyRef": {"name": "api", "key": "url"}}} if url is None \
            else {"name": "API_URL", "value": url() if callable(url) else url}
        deployment("a", "client", pod, env=[env], args=["--verbose"])
        deployment("b", "api", ports=[{"name": "http", "containerPort": 8080}])
        k8s.core.v1.Service("b-api", metadata={"name": "api", "namespace": "b"},
                            spec={"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": "http"}]},
                            opts=opts)
        for policy in policies:
            kind = policy.get("kind", "NetworkPolicy")
            if kind == "NetworkPolicy":
                k8s.networking.v1.NetworkPolicy(f"{policy['namespace']}-{policy['name']}", metadata={
                    "name": policy["name"], "namespace": policy["namespace"]}, spec=policy["spec"], opts=opts)
            else:
                k8s.apiextensions.CustomResource(
                    f"{policy['namespace']}-{policy['name']}", api_version=policy["apiVersion"], kind=kind,
                    metadata={"name": policy["name"], "namespace": policy["namespace"]}, spec=policy["spec"],
                    opts=opts)
        if extra:
            extra(opts)
    return program


def ingress_from(*peers: dict[str, Any], port: Any = 8080) -> dict[str, Any]:
    """b/api-ingress: api's pods admit `peers` on `port` alone."""
    return {"namespace": "b", "name": "api-ingress",
            "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": list(peers), "ports": [{"protocol": "TCP", "port": port}]}]}}


def namespace_named(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def test_a_policy_that_isolates_the_target_is_refused_naming_the_target_port_a_named_port_resolves_to():
    with pytest.raises(ProgramError) as refused:
        run(client_and_api(policies=(ingress_from(namespace_named("c")),)))
    message = str(refused.value)
    assert "a-client (Deployment a/client) calls http://api.b.svc.cluster.local (env API_URL of container client): " \
           "Service b/api port 80 reaches Deployment b/api on port 8080, and the NetworkPolicies b/api-ingress " \
           "(NetworkPolicy) let no pod of Deployment a/client through" in message, message
    assert "admit it with a NetworkPolicy in namespace b selecting Deployment b/api's pods (from namespace a, port " \
           "8080), or change b/api-ingress" in message
    run(client_and_api())  # no policy: nothing isolates api
    # the policy's port by name, on the receiving pod: the same verdicts
    with pytest.raises(ProgramError, match="b/api-ingress"):
        run(client_and_api(policies=(ingress_from(namespace_named("c"), port="http"),)))
    run(client_and_api(policies=(ingress_from(namespace_named("a"), port="http"),)))
    # every spelling of the Service's name a pod's resolver takes reaches the same pods
    for url in ("http://api.b", "http://api.b.svc:80/v1", "https://api.b.svc.cluster.local.:80", "ws://api.b/x"):
        with pytest.raises(ProgramError, match="b/api-ingress"):
            run(client_and_api(url=url, policies=(ingress_from(namespace_named("c")),)))
    # a host of no Service of the program, another scheme without a port, an absolute name outside the cluster's
    # zone (a trailing dot: no search domain is tried, so `api.b.` is the top-level domain `b`): not this rule's
    for url in ("http://web.b", "http://api.example.com", "redis://api.b", "http://api.b.:80", "http://api.:80"):
        run(client_and_api(url=url, policies=(ingress_from(namespace_named("c")),)))


def test_a_url_on_a_port_the_service_does_not_expose_is_refused_naming_its_ports():
    """A ClusterIP answers the ports its Service lists alone: `http://api.b:8080` (the pods' targetPort) and
    `https://api.b` (443) fail whatever the policies; the message names the Service's ports and the one forwarding to
    the URL's port. A Service whose ports the kit cannot read is not judged."""
    with pytest.raises(ProgramError) as refused:
        run(client_and_api(url="http://api.b:8080"))
    assert "a-client (Deployment a/client) calls http://api.b:8080 (env API_URL of container client): Service b/api " \
           "exposes 80/TCP, not 8080/TCP" in str(refused.value), str(refused.value)
    assert "call port 80, which forwards to the pods' 8080" in str(refused.value)  # its targetPort `http`
    with pytest.raises(ProgramError, match="exposes 80/TCP, not 9090/TCP: .*call one of its ports, or add 9090/TCP"):
        run(client_and_api(url="http://api.b:9090"))
    with pytest.raises(ProgramError, match="exposes 80/TCP, not 443/TCP"):
        run(client_and_api(url="https://api.b.svc.cluster.local/v1"))

    def numbered(opts: pulumi.ResourceOptions) -> None:  # a second Service whose port forwards to the pods' number
        k8s.core.v1.Service("b-api2", metadata={"name": "api2", "namespace": "b"},
                            spec={"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8080}]}, opts=opts)
    with pytest.raises(ProgramError, match="call port 80, which forwards to the pods' 8080"):
        run(client_and_api(url="http://api2.b:8080", extra=numbered))
    run(client_and_api(url="http://api2.b", extra=numbered))

    def unreadable(opts: pulumi.ResourceOptions) -> None:  # a port the mocks take as text: not judged
        k8s.core.v1.Service("b-api3", metadata={"name": "api3", "namespace": "b"},
                            spec={"selector": {"app": "api"}, "ports": [{"port": "80"}]}, opts=opts)
    run(client_and_api(url="http://api3.b:8080", extra=unreadable))


def test_a_service_of_another_namespace_admitted_by_a_namespace_selector_plans():
    run(client_and_api(policies=(ingress_from(namespace_named("a")),)))
    # by a label of a namespace the program creates: judged with that label, and refused without it
    team = {"namespaceSelector": {"matchLabels": {"team": "x"}}}
    run(client_and_api(policies=(ingress_from(team),), namespaces={"a": {"team": "x"}}))
    with pytest.raises(ProgramError, match="b/api-ingress"):
        run(client_and_api(policies=(ingress_from(team),), namespaces={"a": {"team": "y"}}))
    # a namespace the program does not create may carry the label: not judged
    run(client_and_api(policies=(ingress_from(team),)))


def test_an_egress_policy_of_the_callers_namespace_that_drops_the_call_is_refused():
    egress = {"namespace": "a", "name": "a-egress",
              "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                       "egress": [{"to": [namespace_named("c")]}]}}
    with pytest.raises(ProgramError) as refused:
        run(client_and_api(policies=(egress,)))
    assert "a/a-egress (NetworkPolicy)" in str(refused.value)
    assert "let Deployment a/client's pods out to namespace b on port 8080 (an egress rule in namespace a)" in \
        str(refused.value)
    egress["spec"]["egress"].append({"to": [namespace_named("b")], "ports": [{"port": 8080}]})
    # and the cluster DNS, without which the name resolves nowhere (tests/components/test_reachability_review.py)
    egress["spec"]["egress"].append({"to": [namespace_named("kube-system")],
                                     "ports": [{"protocol": "UDP", "port": 53}]})
    run(client_and_api(policies=(egress,)))


def test_a_secret_url_is_not_judged():
    isolated = (ingress_from(namespace_named("c")),)
    with pytest.raises(ProgramError, match="b/api-ingress"):
        run(client_and_api(policies=isolated))
    run(client_and_api(url=lambda: pulumi.Output.secret("http://api.b.svc.cluster.local/v1"), policies=isolated))
    # a URL read from a Secret (valueFrom): not read either
    run(client_and_api(url=None, policies=isolated))


def test_a_policy_the_model_does_not_read_leaves_the_call_unjudged():
    isolated = ingress_from(namespace_named("c"))
    fqdn = {"kind": "CiliumNetworkPolicy", "apiVersion": "cilium.io/v2", "namespace": "a", "name": "a-fqdn",
            "spec": {"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchName": "example.com"}]}]}}
    run(client_and_api(policies=(isolated, fqdn)))
    clusterwide = {"kind": "CiliumClusterwideNetworkPolicy", "apiVersion": "cilium.io/v2", "namespace": "b",
                   "name": "anything", "spec": {"endpointSelector": {}}}
    run(client_and_api(policies=(isolated, clusterwide)))
    # the Cilium policy the model reads still isolates: refused
    cilium = {"kind": "CiliumNetworkPolicy", "apiVersion": "cilium.io/v2", "namespace": "a", "name": "a-cilium",
              "spec": {"endpointSelector": {}, "egress": [{"toEntities": ["world"]}]}}
    with pytest.raises(ProgramError, match=r"a/a-cilium \(CiliumNetworkPolicy\)"):
        run(client_and_api(policies=(cilium,)))


def test_a_url_to_a_service_only_a_job_backs_is_not_judged():
    isolated = (ingress_from(namespace_named("c")),)

    def job_behind_web(opts: pulumi.ResourceOptions) -> None:
        k8s.batch.v1.Job("b-web", metadata={"name": "web", "namespace": "b"}, spec={"template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "web", "image": "example/web:1"}]}}},
            opts=opts)
        k8s.core.v1.Service("b-web", metadata={"name": "web", "namespace": "b"},
                            spec={"selector": {"app": "web"}, "ports": [{"port": 80}]}, opts=opts)
        k8s.networking.v1.NetworkPolicy("b-deny", metadata={"name": "deny", "namespace": "b"},
                                        spec={"podSelector": {}, "policyTypes": ["Ingress"]}, opts=opts)
    run(client_and_api(url="http://web.b", policies=isolated, extra=job_behind_web))


def test_the_model_resolves_a_named_port_on_the_receiving_pod_and_refuses_to_guess_one_it_does_not_name():
    ports = [{"protocol": "TCP", "port": "http"}]
    assert port_matches(ports, 8080, "TCP", {"http": 8080})
    assert not port_matches(ports, 9090, "TCP", {"http": 8080})
    with pytest.raises(Unmodelled, match="named port 'http'"):
        port_matches(ports, 8080, "TCP", {})
    policy = {"metadata": {"namespace": "b"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                                                       "ingress": [{"ports": ports}]}}
    receiver, sender = Pod("b", {"app": "api"}, {"http": 8080}), Pod("a", {"app": "client"})
    assert allowed([policy], "Ingress", receiver, sender, 8080, {})
    assert not allowed([policy], "Ingress", receiver, sender, 8081, {})
    with pytest.raises(Unmodelled, match="not modelled"):
        allowed([{"kind": "CiliumNetworkPolicy", "metadata": {"namespace": "b"},
                  "spec": {"endpointSelector": {}, "egress": [{"toEndpoints": [{"matchLabels": {
                      "io.cilium.k8s.namespace.labels.team": "x"}}]}]}}], "Egress", receiver, sender, 80, {})


def test_values_of_the_wrong_type_which_the_mocks_take_reach_no_traceback():
    """The mocks take a value of any type (the API server refuses it at `pulumi up`; kubernetes_schemas names it):
    the rule reads what it can and judges nothing of the rest."""
    def odd(opts: pulumi.ResourceOptions) -> None:  # untyped objects, as the SDK's typed args would refuse them
        def raw(name: str, api_version: str, kind: str, namespace: str, **fields: Any) -> None:
            k8s.apiextensions.CustomResource(name, api_version=api_version, kind=kind,
                                             metadata={"name": name, "namespace": namespace}, opts=opts, **fields)
        raw("odd", "apps/v1", "Deployment", "a", spec={
            "selector": {"matchLabels": {"app": "odd"}},
            "template": {"metadata": {"labels": ["app", "odd"]},
                         "spec": {"containers": [{"name": "odd", "image": "x", "env": {"URL": "http://api.b"},
                                                  "args": "http://api.b", "ports": "http"}, "c"]}}})
        raw("odd-too", "apps/v1", "Deployment", "a", spec={"template": "none"})
        raw("odd-policy", "networking.k8s.io/v1", "NetworkPolicy", "b",
            spec={"podSelector": {}, "ingress": {"from": "everyone"}})
        raw("odd-service", "v1", "Service", "b", spec={"selector": ["app"], "ports": 80})
    run(client_and_api(extra=odd))


@pytest.mark.parametrize("url, policy, given", [
    ("http://router.llm.svc:8080", "llm/router-ingress", "api_client_namespaces"),
    ("http://open-webui.llm.svc:8080", "llm/open-webui-ingress", "webui_client_namespaces")])
def test_a_policy_of_an_inference_stacks_part_is_fixed_by_the_stacks_own_input(url, policy, given):
    """InferenceStack builds its gate and UI as an ApiGate and an OpenWebUi of its own and hands them its
    `api_client_namespaces` and `webui_client_namespaces` renamed: the fix names the stack's input, not the part's."""
    def program() -> None:
        opts = provider_opts()
        llmplatform.InferenceStack("stack", {**REQUIRED["InferenceStack"](), "database_url_secret": "db-url"}, opts)
        k8s.apps.v1.Deployment("apps-client", metadata={"name": "client", "namespace": "apps"}, spec={
            "selector": {"matchLabels": {"app": "client"}},
            "template": {"metadata": {"labels": {"app": "client"}},
                         "spec": {"containers": [{"name": "client", "image": "example/app:1",
                                                  "env": [{"name": "URL", "value": url}]}]}}}, opts=opts)
    with pytest.raises(ProgramError) as refused:
        run(program)
    assert f"{policy} (NetworkPolicy, " in str(refused.value)
    assert f"give InferenceStack 'stack' the caller's namespace in its {given} (['apps'])" in str(refused.value)


def test_unjudged_leaves_the_rule_out_for_a_program_whose_calls_a_policy_outside_it_admits():
    """A policy the program does not make (applied by hand, another stack's, a chart's) may admit a call the program's
    own policies drop: the refusal says so and names the switch; `unjudged=["reachability"]` plans the program, every
    other rule still applies (a duplicate name still refused); a rule the kit does not know, a bare string or a value
    of another type is refused as an argument, naming what it takes."""
    isolated = client_and_api(policies=(ingress_from(namespace_named("c")),))
    with pytest.raises(ProgramError, match=r"run\(\.\.\., unjudged=\['reachability'\]\) leaves this rule out"):
        run(isolated)
    run(isolated, unjudged=["reachability"])
    run(isolated, unjudged=("reachability",))

    def twice(opts: pulumi.ResourceOptions) -> None:
        k8s.core.v1.ConfigMap("one", metadata={"name": "same", "namespace": "b"}, opts=opts)
        k8s.core.v1.ConfigMap("two", metadata={"name": "same", "namespace": "b"}, opts=opts)
    with pytest.raises(ProgramError, match="are one object"):
        run(client_and_api(policies=(ingress_from(namespace_named("c")),), extra=twice), unjudged=["reachability"])
    for wrong in (["reachabilty"], "reachability", 3, [None]):
        with pytest.raises(TypeError, match=r"^run: unjudged: expects a list of the kit's rules to leave out, among "
                                            r"'reachability', got "):
            run(isolated, unjudged=wrong)
