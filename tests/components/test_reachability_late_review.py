"""Review of the reachability rule's late changes (docs/decisions.md, "Review (2026-12-06, the late kit changes)"): the
port refusal (fb6e10f9) on Services whose ports are not TCP's alone and its hints, and what
`run(..., unjudged=["reachability"])` (83a6e66b) leaves out and keeps."""
from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from llmplatform.testing import ProgramError, run

from tests.components.test_reachability import client_and_api, ingress_from, namespace_named


def service(name: str, spec: dict[str, Any], namespace: str = "b") -> Any:
    """extra(opts): Service `name` of `namespace` over b/api's pods (app: api), with `spec`'s other fields."""
    def extra(opts: pulumi.ResourceOptions) -> None:
        k8s.core.v1.Service(f"{namespace}-{name}", metadata={"name": name, "namespace": namespace},
                            spec={"selector": {"app": "api"}, **spec}, opts=opts)
    return extra


@pytest.mark.parametrize("url, protocol", [("udp://stats.b:8125", "UDP"), ("syslog://stats.b:8125", "UDP"),
                                           ("sctp://stats.b:8125", "SCTP"), ("dns://stats.b:8125", "UDP")])
def test_a_scheme_of_another_transport_on_a_port_the_service_lists_for_it_is_not_refused(url, protocol):
    """A statsd, syslog or Diameter client calls a Service's UDP or SCTP port: the Service lists it, and the call
    works. The port rule read every URL as TCP and refused it ("exposes 8125/UDP, not 8125/TCP"). A scheme the kit
    does not know the transport of is not judged where the port is listed for another protocol; http on a port the
    Service lists for UDP alone, and any scheme on a port it lists for none, are still refused."""
    listed = service("stats", {"ports": [{"name": "stats", "port": 8125, "protocol": protocol}]})
    run(client_and_api(url=url, extra=listed))
    with pytest.raises(ProgramError, match=f"Service b/stats exposes 8125/{protocol}, not 8125/TCP"):
        run(client_and_api(url="http://stats.b:8125", extra=listed))
    with pytest.raises(ProgramError, match=f"Service b/stats exposes 8125/{protocol}, not 9125:"):
        run(client_and_api(url=url.replace("8125", "9125"), extra=listed))


def test_the_port_hint_names_the_port_that_forwards_to_a_named_or_textual_target_port():
    """`http://api.b:8080` where b/api's port 80 forwards to the pods' port named `http` (8080): the hint said "call
    one of its ports, or add 8080/TCP to the Service" though port 80 is the one; a targetPort given as the text
    "8080" likewise."""
    with pytest.raises(ProgramError) as refused:
        run(client_and_api(url="http://api.b:8080"))
    assert "Service b/api exposes 80/TCP, not 8080/TCP: a Service answers on its own ports alone, so every call " \
           "fails; call port 80, which forwards to the pods' 8080" in str(refused.value), str(refused.value)
    with pytest.raises(ProgramError, match="call port 81, which forwards to the pods' 8080"):
        run(client_and_api(url="http://text.b:8080",
                           extra=service("text", {"ports": [{"port": 81, "targetPort": "8080"}]})))


def test_a_url_on_a_services_node_port_is_told_it_is_the_nodes_port():
    """A NodePort's `nodePort` is answered on the nodes' addresses; the Service's name resolves to its ClusterIP,
    which answers `port` alone: the hint names the port the nodePort belongs to."""
    node_port = service("web", {"type": "NodePort", "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080}]})
    with pytest.raises(ProgramError) as refused:
        run(client_and_api(url="http://web.b:30080", extra=node_port))
    assert "30080 is the nodePort of its port 80, which the nodes' addresses answer, not the Service's name: call " \
           "port 80" in str(refused.value), str(refused.value)
    run(client_and_api(url="http://web.b", extra=node_port))


def test_a_port_refusal_through_an_externalname_alias_names_the_alias():
    """A bare host kept by an alias (a/api, an ExternalName for api.b.svc.cluster.local) is judged on b/api's ports:
    the refusal named b/api alone, which the caller never wrote; it names the alias too."""
    def alias(opts: pulumi.ResourceOptions) -> None:
        k8s.core.v1.Service("a-api", metadata={"name": "api", "namespace": "a"},
                            spec={"type": "ExternalName", "externalName": "api.b.svc.cluster.local"}, opts=opts)
    with pytest.raises(ProgramError) as refused:
        run(client_and_api(url="http://api:8080", extra=alias))
    assert "calls http://api:8080 (env API_URL of container client): Service b/api (through a/api, an ExternalName " \
           "for it) exposes 80/TCP, not 8080/TCP" in str(refused.value), str(refused.value)


def test_unjudged_leaves_out_what_objects_outside_the_program_decide_and_keeps_the_port_refusal():
    """`unjudged=["reachability"]` is for a program whose calls objects outside it make work: a policy admitting
    them (a drop, the DNS), a Service answering a bare host in the caller's namespace. No object outside the program
    adds a port to its Service: a URL on a port the Service does not expose is refused still. The bare-host refusal
    names the switch, as the policy and DNS refusals do."""
    with pytest.raises(ProgramError, match="exposes 80/TCP, not 8080/TCP"):
        run(client_and_api(url="http://api.b:8080"), unjudged=["reachability"])
    with pytest.raises(ProgramError, match="exposes 80/TCP, not 8080/TCP"):
        run(client_and_api(url="http://api.b:8080", policies=(ingress_from(namespace_named("c")),)),
            unjudged=["reachability"])
    with pytest.raises(ProgramError) as refused:
        run(client_and_api(url="http://api:80/v1"))
    assert "the name does not resolve and every call fails; qualify the host (http://api.b.svc:80) or run " \
           "Deployment a/client in namespace b (a Service outside the program answers api in namespace a? " \
           "run(..., unjudged=['reachability']) leaves this rule out)" in str(refused.value), str(refused.value)
    run(client_and_api(url="http://api:80/v1"), unjudged=["reachability"])
    dns_only = {"namespace": "a", "name": "a-egress",
                "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [namespace_named("b")]}]}}
    run(client_and_api(policies=(dns_only,)), unjudged=["reachability"])


def test_unjudged_takes_none_as_no_rule_and_refuses_a_mapping():
    """None is no rule left out, as `config`, `references` and `invokes` take None; a dict was read by its keys, so
    {"reachability": False} left the rule out."""
    with pytest.raises(ProgramError, match="exposes 80/TCP, not 8080/TCP"):
        run(client_and_api(url="http://api.b:8080"), unjudged=None)
    with pytest.raises(TypeError, match=r"^run: unjudged: expects a list of the kit's rules to leave out, among "
                                        r"'reachability', got dict"):
        run(client_and_api(), unjudged={"reachability": False})


@pytest.mark.parametrize("unread", ["clusterwide", "patch"])
def test_a_policy_the_kit_cannot_read_leaves_the_policies_out_not_the_port_or_the_bare_host(unread):
    """A clusterwide policy kind the model does not read, or a patch of a policy, may admit anything: the cluster's
    drops are not judged. They left the whole cluster unjudged, so a URL on a port the Service does not expose and a
    bare host resolving where the program makes no such Service passed there; neither is any policy's."""
    def policy(opts: pulumi.ResourceOptions) -> None:
        if unread == "clusterwide":
            k8s.apiextensions.CustomResource("allow-all", api_version="cilium.io/v2",
                                             kind="CiliumClusterwideNetworkPolicy", metadata={"name": "allow-all"},
                                             spec={"endpointSelector": {}}, opts=opts)
        else:
            k8s.networking.v1.NetworkPolicyPatch("b-existing", metadata={"name": "existing", "namespace": "b"},
                                                 spec={"ingress": [{"from": [namespace_named("z")]}]}, opts=opts)
    isolated = (ingress_from(namespace_named("c")),)
    run(client_and_api(policies=isolated, extra=policy))  # the drop: not judged
    with pytest.raises(ProgramError, match="exposes 80/TCP, not 8080/TCP"):
        run(client_and_api(url="http://api.b:8080", policies=isolated, extra=policy))
    with pytest.raises(ProgramError, match="a bare host resolves in the pod's own namespace"):
        run(client_and_api(url="http://api:80", policies=isolated, extra=policy))


@pytest.mark.parametrize("pod", [{"dnsConfig": {"searches": ["b.svc.cluster.local"]}},
                                 {"dnsPolicy": "None", "dnsConfig": {"nameservers": ["10.0.0.10"],
                                                                     "searches": ["b.svc.cluster.local"]}}])
def test_a_bare_host_a_pods_own_search_domains_resolve_is_not_refused(pod):
    """A pod's `dnsConfig.searches` are merged into the search path its dnsPolicy makes (or are the whole of it under
    dnsPolicy None: kubernetes/website dns-pod-service.md, "Pod's DNS Config"): `http://api` from `a` with
    b.svc.cluster.local among them resolves to b/api, and the call works. It was refused as a bare host resolving in
    `a` alone."""
    run(client_and_api(url="http://api:80/v1", pod=pod))


def test_a_host_a_pods_host_aliases_name_is_no_services_call():
    """A host the pod's `hostAliases` map (its /etc/hosts) goes to that address, not to the Service of that name: its
    port and its policies are not the call's."""
    aliases = {"hostAliases": [{"ip": "10.1.2.3", "hostnames": ["api.b", "other"]}]}
    run(client_and_api(url="http://api.b:8080", pod=aliases))
    run(client_and_api(url="http://api.b", policies=(ingress_from(namespace_named("c")),), pod=aliases))
    with pytest.raises(ProgramError, match="exposes 80/TCP, not 8080/TCP"):  # another host of the same Service
        run(client_and_api(url="http://api.b.svc:8080", pod=aliases))
