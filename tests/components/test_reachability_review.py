"""Review of the testing kit's reachability rule (docs/decisions.md, "Review (2026-12-06, reachability)"): programs
that work and were refused (a host-network pod, a Service a chart, a kustomization or a yaml bundle makes in the
caller's namespace), a planted defect that passed (an egress policy that admits the Service's pods but no DNS
server), and OpenWebUi's `reached_from` on a host that is no Service's."""
from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pytest

from llmplatform.open_webui import reached_from
from llmplatform.testing import ProgramError, run

from tests.components.test_reachability import client_and_api, ingress_from, namespace_named


def deny_egress(namespace: str = "a", *rules: dict[str, Any]) -> dict[str, Any]:
    return {"namespace": namespace, "name": f"{namespace}-egress",
            "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": list(rules)}}


TO_API = {"to": [namespace_named("b")], "ports": [{"port": 8080}]}
# the cluster DNS: CoreDNS's pods in kube-system, labelled k8s-app=kube-dns (kubernetes/kubernetes
# cluster/addons/dns/coredns/coredns.yaml.base), on port 53 UDP and TCP
TO_DNS = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                  "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
          "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}


def host_network_pod(namespace: str, app: str, url: str = "") -> Any:
    """extra(opts): a host-network Deployment `app` in `namespace` (calling `url` when given)."""
    def extra(opts: pulumi.ResourceOptions) -> None:
        env = [{"name": "URL", "value": url}] if url else []
        k8s.apps.v1.Deployment(f"{namespace}-{app}", metadata={"name": app, "namespace": namespace}, spec={
            "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}},
                         "spec": {"hostNetwork": True, "containers": [{
                             "name": app, "image": "example/app:1", "env": env,
                             "ports": [{"name": "http", "containerPort": 8080}]}]}}}, opts=opts)
    return extra


def test_a_host_network_pod_is_no_pod_a_network_policy_judges():
    """NetworkPolicy behaviour for hostNetwork pods is undefined, and the most common implementation ignores them
    when matching podSelector and namespaceSelector (kubernetes/website network-policies.md, "NetworkPolicy and
    hostNetwork pods"): a host-network caller under its namespace's egress policy, or a host-network pod behind a
    Service under an ingress policy, is not judged (refused before, though such pods run unfiltered)."""
    run(client_and_api(url="http://api.b", policies=(deny_egress("c", TO_DNS),),
                       extra=host_network_pod("c", "node-agent", "http://api.b")))
    run(client_and_api(url="http://api.b", extra=lambda opts: [host_network_pod("b", "hn")(opts), k8s.core.v1.Service(
        "b-hn", metadata={"name": "hn", "namespace": "b"}, spec={"selector": {"app": "hn"}, "ports": [{"port": 80,
        "targetPort": 8080}]}, opts=opts), k8s.networking.v1.NetworkPolicy("b-hn-deny", metadata={
            "name": "hn-deny", "namespace": "b"}, spec={"podSelector": {"matchLabels": {"app": "hn"}},
                                                       "policyTypes": ["Ingress"]}, opts=opts)]))
    # the same pods on the pod network: judged, and refused
    with pytest.raises(ProgramError, match="c/c-egress"):
        run(client_and_api(url="http://api.b", policies=(deny_egress("c", TO_DNS),), extra=lambda opts: (
            k8s.apps.v1.Deployment("c-agent", metadata={"name": "agent", "namespace": "c"}, spec={
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{
                    "name": "agent", "image": "example/app:1", "env": [{"name": "URL", "value": "http://api.b"}]}]}}},
                opts=opts))))


@pytest.mark.parametrize("maker", ["ConfigGroup", "ConfigFile", "HelmChart", "HelmRelease", "Kustomize"])
def test_a_bare_host_a_service_made_outside_the_plans_objects_answers_is_not_refused(maker, tmp_path):
    """`http://api` from `a` resolves when something of the program makes Service `api` in `a`: a yaml/v2 bundle
    (an ExternalName alias of api.b, the classic way to keep a bare name), a Helm chart (v4 Chart as v3 Release), a
    kustomization; their objects are not registered one by one, so the rule read `api` as made in `b` alone and
    refused a working program (the kit names no switch)."""
    alias = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "a"},
             "spec": {"type": "ExternalName", "externalName": "api.b.svc.cluster.local"}}
    manifest = tmp_path / "alias.yaml"
    manifest.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: a}\n"
                        "spec: {type: ExternalName, externalName: api.b.svc.cluster.local}\n")

    def extra(opts: pulumi.ResourceOptions) -> None:
        if maker == "ConfigGroup":
            k8s.yaml.v2.ConfigGroup("alias", objs=[alias], opts=opts)
        elif maker == "ConfigFile":
            k8s.yaml.v2.ConfigFile("alias", file=str(manifest), opts=opts)
        elif maker == "HelmChart":
            k8s.helm.v4.Chart("alias", chart="oci://registry.example/charts/alias", namespace="a", opts=opts)
        elif maker == "HelmRelease":
            k8s.helm.v3.Release("alias", chart="oci://registry.example/charts/alias", namespace="a", opts=opts)
        else:
            k8s.kustomize.v2.Directory("alias", directory="./overlays/a", namespace="a", opts=opts)
    run(client_and_api(url="http://api:80/v1", extra=extra))


def test_a_bare_host_is_still_refused_beside_a_bundle_of_other_namespaces_and_names():
    """The bundles are read: one making other Services, or `api` in another namespace, leaves the refusal."""
    def extra(opts: pulumi.ResourceOptions) -> None:
        k8s.yaml.v2.ConfigGroup("others", objs=[
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "a"},
             "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "c"},
             "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}}], opts=opts)
        k8s.helm.v4.Chart("elsewhere", chart="oci://registry.example/charts/x", namespace="c", opts=opts)
    with pytest.raises(ProgramError, match="a bare host resolves in the pod's own namespace"):
        run(client_and_api(url="http://api:80/v1", extra=extra))


def test_an_egress_policy_that_admits_the_service_but_no_dns_server_is_refused():
    """A pod isolated for egress resolves the Service's name through the cluster DNS (CoreDNS's pods, kube-system,
    k8s-app=kube-dns, port 53): a policy admitting the target's pods alone lets every lookup time out, the classic
    default-deny mistake; the rule passed it. Refused naming the policy and the DNS rule to add; with that rule (or
    an egress rule to every namespace, as the platform's egress guards write) it plans."""
    with pytest.raises(ProgramError) as refused:
        run(client_and_api(policies=(deny_egress("a", TO_API),)))
    message = str(refused.value)
    assert "a-client (Deployment a/client) calls http://api.b.svc.cluster.local (env API_URL of container client): " \
           "its pods resolve the name through the cluster DNS, and the NetworkPolicies a/a-egress (NetworkPolicy) " \
           "isolating their egress admit no DNS server" in message, message
    assert "UDP and TCP port 53" in message and "k8s-app: kube-dns" in message, message
    run(client_and_api(policies=(deny_egress("a", TO_API, TO_DNS),)))
    run(client_and_api(policies=(deny_egress("a", {"to": [{"namespaceSelector": {}}]}),)))
    run(client_and_api(policies=(deny_egress("a", TO_API, {"ports": [{"protocol": "UDP", "port": 53}]}),)))
    # Cilium's: toEntities cluster, or toEndpoints of kube-system's DNS pods on 53
    cilium = {"kind": "CiliumNetworkPolicy", "apiVersion": "cilium.io/v2", "namespace": "a", "name": "a-cilium",
              "spec": {"endpointSelector": {}, "egress": [
                  {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system",
                                                    "k8s:k8s-app": "kube-dns"}}],
                   "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}]}]},
                  {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "b"}}]}]}}
    run(client_and_api(policies=(cilium,)))
    # a pod that asks another resolver (dnsPolicy None and its dnsConfig's nameservers) or reads names from
    # /etc/hosts (hostAliases): its policy's DNS rule is not the cluster DNS's, not judged
    for pod in ({"dnsPolicy": "None", "dnsConfig": {"nameservers": ["10.1.0.10"]}},
                {"hostAliases": [{"ip": "10.0.0.7", "hostnames": ["api.b.svc.cluster.local"]}]}):
        run(client_and_api(policies=(deny_egress("a", TO_API, {"to": [{"ipBlock": {"cidr": "10.1.0.10/32"}}]}),),
                           pod=pod))
    # a namespaceSelector reading a label of kube-system, which the program does not create: not judged
    run(client_and_api(policies=(deny_egress("a", TO_API, {"to": [{"namespaceSelector": {"matchLabels": {
        "role": "system"}}}]}),)))


@pytest.mark.parametrize("url", ["http://localhost:11434", "http://127.0.0.1:11434", "http://[::1]:11434/api"])
def test_reached_from_leaves_a_loopback_host_as_given(url):
    """`localhost` is the pod itself in every namespace (no Service's name): never qualified."""
    assert reached_from(url, "llm", "ui") == url
    assert reached_from("http://router:8080", "llm", "ui") == "http://router.llm.svc:8080"


def test_a_label_a_preview_does_not_know_leaves_the_pod_unjudged():
    """`run(..., preview=True)`: a label from another resource's output not known until it is created (a random
    string's `result`: random's preview create answers it unknown) is the wire's unknown, so the pod read without it
    was refused by a policy admitting that label; not judged now. The same program run (the label known, and not the
    one admitted) is refused. (A Namespace's `metadata.uid` was the label here: no provider answers it unknown, a
    preview that skips the dry run leaves it out, null, as the kit's stand-ins do in `up` too.)"""
    def labelled(opts: pulumi.ResourceOptions) -> None:
        uid = random.RandomString("x", length=8, special=False).result
        k8s.apps.v1.Deployment("a-labelled", metadata={"name": "labelled", "namespace": "a"}, spec={
            "selector": {"matchLabels": {"app": "labelled"}},
            "template": {"metadata": {"labels": {"app": "labelled", "release": uid}},
                         "spec": {"containers": [{"name": "c", "image": "example/app:1",
                                                  "env": [{"name": "URL", "value": "http://api.b"}]}]}}}, opts=opts)
    program = client_and_api(policies=(ingress_from({"namespaceSelector": {},
                                                     "podSelector": {"matchLabels": {"release": "r1"}}}),),
                             extra=labelled)
    with pytest.raises(ProgramError) as refused:
        run(program, preview=True)  # the client without the label: refused, the labelled one not judged
    assert "a-client (Deployment a/client)" in str(refused.value)
    assert "a-labelled" not in str(refused.value), str(refused.value)
    with pytest.raises(ProgramError, match="a-labelled"):
        run(program)


def test_a_server_side_apply_patch_is_read_as_part_of_an_object_not_the_whole():
    """pulumi-kubernetes' `<Kind>Patch` resources set some fields of an object that may exist outside the program.
    Read as whole objects, a DeploymentPatch adding a URL to a Deployment made elsewhere was a caller without its
    labels (refused by a policy admitting them), a NetworkPolicyPatch adding a rule was a policy selecting every pod
    (refusing everything in its namespace), and a NamespacePatch's labels were all its namespace's."""
    admits_other = ingress_from({"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "other"}}})

    def deployment_patch(opts: pulumi.ResourceOptions) -> None:
        k8s.apps.v1.DeploymentPatch("a-other", metadata={"name": "other", "namespace": "a"}, spec={
            "template": {"spec": {"containers": [{"name": "other", "env": [{"name": "U", "value": "http://api.b"}]}]}}},
            opts=opts)
    with pytest.raises(ProgramError) as refused:  # the program's own client is judged still
        run(client_and_api(policies=(admits_other,), extra=deployment_patch))
    assert "a-client (Deployment a/client)" in str(refused.value) and "a-other" not in str(refused.value)

    def policy_patch(opts: pulumi.ResourceOptions) -> None:
        k8s.networking.v1.NetworkPolicyPatch("b-existing", metadata={"name": "existing", "namespace": "b"}, spec={
            "ingress": [{"from": [namespace_named("z")]}]}, opts=opts)
    run(client_and_api(extra=policy_patch))

    def namespace_patch(opts: pulumi.ResourceOptions) -> None:
        k8s.core.v1.NamespacePatch("a-env", metadata={"name": "a", "labels": {"env": "prod"}}, opts=opts)
    run(client_and_api(policies=(ingress_from({"namespaceSelector": {"matchLabels": {"team": "x"}}}),),
                       extra=namespace_patch))

    def service_patch(opts: pulumi.ResourceOptions) -> None:  # `api` exists in `a` (patched): the bare host resolves
        k8s.core.v1.ServicePatch("a-api", metadata={"name": "api", "namespace": "a",
                                                    "annotations": {"team": "x"}}, opts=opts)
    run(client_and_api(url="http://api:80/v1", extra=service_patch))


@pytest.mark.parametrize("setting", [{"env": "CORS_ALLOW_ORIGIN"}, {"env": "WEBUI_URL"}, {"env": "OAUTH_REDIRECT_URI"},
                                     {"args": ["--allowed-origins=http://api.b"]},
                                     {"args": ["--public-url", "http://api.b"]}])
def test_an_address_a_setting_names_for_others_is_not_read_as_a_call(setting):
    """An allowed browser origin, an OAuth redirect, a pod's own public URL (Open-WebUI's CORS_ALLOW_ORIGIN and
    WEBUI_URL): the pod never calls them, and a policy keeping it from that Service refused a working program. A
    URL under any other name is still judged."""
    isolated = (ingress_from(namespace_named("c")),)

    def named(opts: pulumi.ResourceOptions) -> None:
        container: dict[str, Any] = {"name": "web", "image": "example/web:1"}
        if "env" in setting:
            container["env"] = [{"name": setting["env"], "value": "http://api.b"}]
        else:
            container["args"] = setting["args"]
        k8s.apps.v1.Deployment("a-web", metadata={"name": "web", "namespace": "a"}, spec={
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}}}, opts=opts)
    run(client_and_api(url="http://api.c", policies=isolated, extra=named))  # the client calls no Service of b
    with pytest.raises(ProgramError, match="a-client"):
        run(client_and_api(policies=isolated, extra=named))


def refusal_of_a_ui_in_ui_on(make_gate: Any) -> str:
    """The kit's refusal of an OpenWebUi in `ui` on the UI listener (`ui_endpoint`, 8081) of the gate `make_gate(opts)`
    makes in `llm`, checked to name the call."""
    import llmplatform
    from tests.components.test_components_alone import REQUIRED, provider_opts

    def program() -> None:
        opts = provider_opts()
        llmplatform.OpenWebUi("ui", {**REQUIRED["OpenWebUi"](), "endpoint": make_gate(opts).ui_endpoint,
                                     "namespace": "ui"}, opts)
    with pytest.raises(ProgramError) as refused:
        run(program)
    message = str(refused.value)
    assert "calls http://router.llm.svc:8081" in message, message
    return message


@pytest.mark.parametrize("clients", [None, ["ui"]])
def test_a_ui_on_a_gates_ui_listener_from_another_namespace_is_not_sent_to_client_namespaces(clients):
    """A gate's UI listener (its `ui_endpoint`, port 8081) admits its own namespace's Open-WebUI pods alone
    (`router-ui-ingress`); `client_namespaces` opens the API listener (8080) only. An OpenWebUi in `ui` on it was
    refused with "give ApiGate 'gate' the caller's namespace in its client_namespaces (['ui'])", and refused the
    same, with the same advice, once given it. The advice is now to run the UI in the gate's namespace."""
    import llmplatform
    from tests.components.test_components_alone import REQUIRED

    def api_gate(opts: pulumi.ResourceOptions) -> Any:
        ollama = llmplatform.OllamaServer("ollama", REQUIRED["OllamaServer"](), opts)
        return llmplatform.ApiGate("gate", {**REQUIRED["ApiGate"](), "endpoint": ollama.endpoint, "ui_listener": True,
                                            **({"client_namespaces": clients} if clients else {})}, opts)
    message = refusal_of_a_ui_in_ui_on(api_gate)
    assert "client_namespaces (['ui'])" not in message, message
    assert "run the caller in namespace llm (llm/router-ui-ingress, llm/router-ingress of ApiGate 'gate' admit no " \
           "other namespace on port 8081, whatever its client_namespaces)" in message, message
    assert message.count("run the caller") == 1, message  # once for the gate's two policies


def test_a_bare_host_aliased_to_a_service_of_another_namespace_is_judged_against_that_service():
    """An ExternalName Service `api` in `a` whose externalName is `api.b.svc.cluster.local` (the classic way to keep
    a bare host across namespaces): CoreDNS answers a CNAME and the call lands on b/api's pods. The rule left every
    ExternalName unjudged, so b's policy keeping `a` out passed; it now follows one alias to a full Service name."""
    def alias(target: str) -> Any:
        def extra(opts: pulumi.ResourceOptions) -> None:
            k8s.core.v1.Service("a-api", metadata={"name": "api", "namespace": "a"},
                                spec={"type": "ExternalName", "externalName": target}, opts=opts)
        return extra
    with pytest.raises(ProgramError, match=r"calls http://api:80 .*Service b/api port 80 reaches Deployment b/api"):
        run(client_and_api(url="http://api:80/v1", policies=(ingress_from(namespace_named("c")),),
                           extra=alias("api.b.svc.cluster.local")))
    run(client_and_api(url="http://api:80/v1", policies=(ingress_from(namespace_named("a")),),
                       extra=alias("api.b.svc.cluster.local.")))
    # a target that is no full Service name, or no Service of the program: not judged
    for target in ("api.b", "api.b.svc", "example.com", "web.b.svc.cluster.local"):
        run(client_and_api(url="http://api:80/v1", policies=(ingress_from(namespace_named("c")),),
                           extra=alias(target)))


def test_two_egress_policies_of_the_caller_give_one_fix_naming_both_and_no_open_webui_for_another_client():
    """A stranger's try of 0.25.0: a default-deny of one's own and an allow-dns policy both isolate the client for
    egress. The refusal said "let ... out to namespace b on port 8080 (an egress rule in namespace a), or change
    <policy>" once per policy, the same advice twice, and told a curl client that "an Open-WebUI lists no model".
    One egress fix now names every isolating policy, and the Open-WebUI note is for an OpenWebUi's pods alone."""
    default_deny = {"namespace": "a", "name": "default-deny",
                    "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    with pytest.raises(ProgramError) as refused:
        run(client_and_api(policies=(default_deny, deny_egress("a", TO_DNS))))
    message = str(refused.value)
    assert message.count("let Deployment a/client's pods out") == 1, message
    assert "let Deployment a/client's pods out to namespace b on port 8080 (an egress rule in namespace a), or " \
           "change a/default-deny, a/a-egress" in message, message
    assert "Open-WebUI" not in message, message


def test_a_ui_on_an_llmd_gates_ui_listener_from_another_namespace_is_told_once_where_to_run():
    """LlmdStack's gate has four policies selecting its pods for ingress; the UI in `ui` on its `ui_endpoint` was told
    "run the caller in namespace llm (<policy> of LlmdStack 'gate' admits no other namespace on port 8081, whatever
    its client_namespaces)" four times, once naming the namespace's default-deny. Now once, naming the policies."""
    import llmplatform
    from tests.components.test_components_alone import REQUIRED
    message = refusal_of_a_ui_in_ui_on(lambda opts: llmplatform.LlmdStack(
        "gate", {**REQUIRED["LlmdStack"](), "namespace": "llm", "ui_listener": True}, opts))
    assert message.count("run the caller in namespace llm") == 1, message
    assert "of LlmdStack 'gate' admit no other namespace on port 8081, whatever its client_namespaces)" in message
    assert "(an Open-WebUI lists no model)" in message


@pytest.mark.parametrize("guard", [True, False])
def test_an_app_namespaces_egress_guard_admits_what_a_default_deny_of_ones_own_would_drop(guard):
    """docs/components/model-store.md: policies add up, so AppNamespace's `namespace-egress-guard` (every pod of the
    cluster, every outside address but IMDS and the wireserver) admits the calls a default-deny egress policy of
    one's own in the namespace would drop: the client plans, as it works on a cluster. With `egress_guard: false`
    the default-deny holds, and the kit refuses the client (no DNS, no way to b)."""
    import llmplatform
    default_deny = {"namespace": "a", "name": "default-deny",
                    "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    program = client_and_api(policies=(default_deny,), extra=lambda opts: llmplatform.AppNamespace(
        "a", {"namespace": "a", "egress_guard": guard}, opts))
    if guard:  # it plans, and the kit says the deny holds nothing back (llmplatform.testing.egress_denials)
        advice = [w for w in run(program).warnings if "denies its pods' egress" in w]
        assert advice == [
            "NetworkPolicy a/default-deny (a-default-deny) denies its pods' egress, but a/namespace-egress-guard "
            "(a-egress-guard) admits egress to every pod of the cluster and every outside address but the node's "
            "metadata service and wireserver, and NetworkPolicies add up: the deny blocks nothing else. Give that "
            "namespace's AppNamespace `egress_guard: false` (then admit the cluster DNS yourself), or write the "
            "egress rules you mean"], advice
        return
    with pytest.raises(ProgramError, match="a/default-deny") as refused:
        run(program)
    assert "a/default-deny (NetworkPolicy) isolating their egress admit no DNS server" in str(refused.value), \
        str(refused.value)


def test_a_deny_only_the_guards_exempt_pods_meet_or_an_ingress_deny_is_no_voided_egress_deny():
    """The egress guard leaves its `exempt` pods out (a NotIn expression): a deny selecting only those pods holds, and
    an Ingress-only deny says nothing of egress; neither is advised. A deny whose namespace has no guard holds. (The
    guard AppNamespace really makes is read in the test above.)"""
    from llmplatform.testing.egress_denials import voided_egress_denials
    from llmplatform.testing.records import Registration

    def policy(name: str, spec: dict) -> Registration:
        return Registration(urn=f"urn:pulumi:s::p::kubernetes:networking.k8s.io/v1:NetworkPolicy::{name}",
                            type="kubernetes:networking.k8s.io/v1:NetworkPolicy", name=name, parent="", custom=True,
                            inputs={"metadata": {"name": name, "namespace": "a"}, "spec": spec}, secret_paths=[],
                            dependencies=[], options={})
    guard = policy("guard", {"podSelector": {"matchExpressions": [{"key": "role", "operator": "NotIn",
                                                                   "values": ["exporter"]}]},
                             "policyTypes": ["Egress"],
                             "egress": [{"to": [{"namespaceSelector": {}}]},
                                        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
                                                             "except": ["169.254.169.254/32"]}}]}]})
    exporters = policy("exporters", {"podSelector": {"matchLabels": {"role": "exporter"}}, "policyTypes": ["Egress"]})
    ingress = policy("ingress", {"podSelector": {}, "policyTypes": ["Ingress"]})
    everyone = policy("everyone", {"podSelector": {}, "policyTypes": ["Egress"]})
    assert voided_egress_denials([guard, exporters, ingress]) == []
    assert [a.split(" (")[0] for a in voided_egress_denials([guard, exporters, ingress, everyone])] == \
        ["NetworkPolicy a/everyone"]
    assert voided_egress_denials([everyone]) == []


def test_a_policys_own_null_is_judged_in_a_preview_as_in_up():
    """A null the program writes itself (here `ingress: None` beside `policyTypes: [Egress]`) is a null to the engine
    and to pulumi-kubernetes in a preview too (`SkipNulls: false`, docs/decisions.md "The kit's preview records what
    the provider does"), not a value not known yet: the policy isolating the client's egress, DNS left out, is
    judged in the preview and refused as in `up`, where it was skipped (every null of a preview read as unknown)."""
    with_null = deny_egress("a", TO_API)
    with_null["spec"]["ingress"] = None
    program = client_and_api(policies=(with_null,))
    for preview in (False, True):
        with pytest.raises(ProgramError, match="a/a-egress"):
            run(program, preview=preview)
