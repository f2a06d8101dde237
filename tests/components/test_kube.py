"""kube.py's egress guard, over the whole planned program: every pod of the namespaces the platform runs workloads in
(the Ollama stack's, llm-d's) still reaches every Service and host it is configured to talk to, and none reaches the
node's metadata service (IMDS) or the wireserver. The NetworkPolicies are evaluated as Cilium reads them
(llmplatform.testing.network_policy): in-cluster peers only by selector."""
from __future__ import annotations

import ipaddress
import re
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit

import pytest

from llmplatform.inference_specs import OLLAMA_PORT, ROUTER_EDGE_PORT
from llmplatform.keda_http import INTERCEPTOR_ADMIN_PORT, INTERCEPTOR_METRICS_PORT, SCALER_POD_LABELS
from llmplatform.kube import IMDS_CIDR, WIRESERVER_CIDR
from llmplatform.llmd_specs import EPP_METRICS_PORT, EPP_PORT, VLLM_PORT
from llmplatform.llmd_stack import EPP_LABEL, POOL_GATEWAY
from llmplatform.observability import (CERT_MANAGER_CONTROLLER_LABELS, CERT_MANAGER_NS, MONITORING_NS,
                                       PROMETHEUS_POD_LABEL)
from llmplatform.workload_identity import USE_LABEL

from tests.conftest import plan_for, variant
from llmplatform.testing.network_policy import Node, Outside, Peer, Pod, Unmodelled, allowed, connects
from tests.network_policy import keda_http_pod_labels

WORKLOAD_KINDS = ("kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job")
# Addresses outside the cluster the workloads reach by name, one of each (what the name resolves to, or a documented
# range's): Entra ID's login endpoint (20.190.128.0/18, Microsoft's published Entra ranges), a public Key Vault,
# the Ollama registry and Hugging Face (public CDNs), the AKS API server (Azure-managed, outside the cluster).
ENTRA_ID = Outside("20.190.160.1")
PUBLIC_KEY_VAULT = Outside("52.156.85.161")
OLLAMA_REGISTRY = Outside("104.21.75.227")
HUGGING_FACE = Outside("18.244.202.60")
API_SERVER = Outside("20.61.99.128")
IMDS = Outside(str(ipaddress.ip_network(IMDS_CIDR).network_address))
WIRESERVER = Outside(str(ipaddress.ip_network(WIRESERVER_CIDR).network_address))
DNS = Pod("kube-system", {"k8s-app": "kube-dns"})  # CoreDNS's pods behind the kube-dns Service, as on AKS


class Cluster:
    """A plan's objects: NetworkPolicies, namespace labels, Services, workloads' pod templates."""

    def __init__(self, plan: Any):
        objects = [r.inputs for r in plan.kubernetes_objects()]
        self.policies = [o for o in objects if o["kind"] in ("NetworkPolicy", "CiliumNetworkPolicy")]
        self.namespaces = {o["metadata"]["name"]: o["metadata"].get("labels") or {}
                           for o in objects if o["kind"] == "Namespace"}
        self.services = {(o["metadata"]["namespace"], o["metadata"]["name"]): o["spec"]
                         for o in objects if o["kind"] == "Service"}
        self.config_maps = {(o["metadata"]["namespace"], o["metadata"]["name"]): o.get("data") or {}
                            for o in objects if o["kind"] == "ConfigMap"}
        self.workloads = [(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"],
                           r.inputs["spec"]["template"]) for t in WORKLOAD_KINDS for r in plan.of_type(t)]
        subnets = {r.inputs["subnetName"]: r.inputs["addressPrefix"]
                   for r in plan.of_type("azure-native:network:Subnet")}
        # PostgreSQL's VNet-integrated server and a private vault's endpoint: addresses in their subnets
        self.postgres = Outside(str(ipaddress.ip_network(subnets["postgres"])[4]))
        self.private_vault = Outside(str(ipaddress.ip_network(subnets["private-endpoints"])[4]))
        # what charts and Istio create, not in the plan's manifests: the pods behind their Services
        self.chart_pods: dict[tuple[str, str], tuple[Pod, int]] = {
            ("kube-system", "kube-dns"): (DNS, 53),
            ("keda", "keda-add-ons-http-interceptor-proxy"): (interceptor_pod(), 8080),
        }
        for ns in self.namespaces:  # llm-d's pool gateway (Istio names its Service <gateway>-istio) and picker
            gateway = Pod(ns, {"gateway.networking.k8s.io/gateway-name": POOL_GATEWAY})
            self.chart_pods[(ns, f"{POOL_GATEWAY}-istio")] = (gateway, 80)
            self.chart_pods[(ns, "llmd-epp")] = (Pod(ns, EPP_LABEL), EPP_PORT)

    def pods_in(self, namespace: str) -> list[tuple[str, Pod, Mapping[str, Any]]]:
        return [(name, Pod(ns, template["metadata"].get("labels") or {}), template["spec"])
                for ns, name, template in self.workloads if ns == namespace]

    def resolve(self, host: str, port: int, namespace: str) -> Iterator[tuple[Peer, int]]:
        """The pods (and their port) a name reaches from `namespace`: a Service of the plan (its selected pods, an
        ExternalName's target) or of a chart."""
        parts = host.split(".")
        service = (parts[1] if len(parts) > 1 else namespace, parts[0])
        spec = self.services.get(service)
        if spec is None:
            assert service in self.chart_pods, f"{host} (from {namespace}) is no Service the plan or a chart makes"
            yield self.chart_pods[service]
            return
        if spec.get("type") == "ExternalName":
            yield from self.resolve(spec["externalName"], port, service[0])
            return
        target = next((p.get("targetPort", p["port"]) for p in spec["ports"] if p["port"] == port), None)
        assert isinstance(target, int), f"{host}:{port} is no port of Service {service}"
        backends = [pod for _, pod, _ in self.pods_in(service[0]) if _selects(spec["selector"], pod.labels)]
        assert backends, f"Service {service} selects no pod of the plan"
        yield from ((pod, target) for pod in backends)

    def reaches(self, pod: Pod, peer: Peer, port: int, protocol: str = "TCP") -> bool:
        return connects(self.policies, pod, peer, port, self.namespaces, protocol)


def interceptor_pod() -> Pod:
    """A KEDA HTTP add-on interceptor pod, labelled as the pinned chart's templates label it."""
    return Pod("keda", keda_http_pod_labels("interceptor"))


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def configured_hosts(cluster: Cluster, namespace: str, pod_spec: Mapping[str, Any]) -> Iterator[tuple[str, int]]:
    """Every host:port a pod is configured to call: URL-valued environment variables (OLLAMA_BASE_URL,
    OPENAI_API_BASE_URL, the Redis URLs) and, for the API gate, its nginx upstream."""
    for container in [*(pod_spec.get("initContainers") or []), *pod_spec["containers"]]:
        for env in container.get("env") or []:
            value = env.get("value") or ""
            if re.match(r"^[a-z]+://", value):
                url = urlsplit(value)
                assert url.hostname, value
                yield url.hostname, url.port or {"http": 80, "https": 443}[url.scheme]
        for volume in pod_spec.get("volumes") or []:
            config = (volume.get("configMap") or {}).get("name")
            conf = cluster.config_maps.get((namespace, config), {}).get("nginx.conf", "")
            for host, port in re.findall(r"^\s*server ([\w.-]+):(\d+);", conf, re.M):
                yield host, int(port)


def reads_database(pod_spec: Mapping[str, Any]) -> bool:
    return any("DATABASE_URL" in " ".join(c.get("command") or []) for c in pod_spec["containers"])


def destinations(cluster: Cluster, namespace: str, name: str, pod: Pod,
                 pod_spec: Mapping[str, Any]) -> Iterator[tuple[str, Peer, int, str]]:
    """(what, peer, port, protocol) for every destination the pod needs."""
    yield "DNS", DNS, 53, "UDP"
    yield "DNS over TCP", DNS, 53, "TCP"
    for host, port in configured_hosts(cluster, namespace, pod_spec):
        for peer, target in cluster.resolve(host, port, namespace):
            yield f"{host}:{port}", peer, target, "TCP"
    if reads_database(pod_spec):
        yield "PostgreSQL (DATABASE_URL)", cluster.postgres, 5432, "TCP"
    if pod.labels.get(USE_LABEL) == "true":  # a workload identity's token exchange, and the vault it reads
        yield "Entra ID", ENTRA_ID, 443, "TCP"
        yield "Key Vault (public)", PUBLIC_KEY_VAULT, 443, "TCP"
        yield "Key Vault (private endpoint)", cluster.private_vault, 443, "TCP"
    if name.startswith("model-preload"):
        yield "the Ollama registry", OLLAMA_REGISTRY, 443, "TCP"
    if name.startswith("vllm"):
        yield "Hugging Face", HUGGING_FACE, 443, "TCP"


def llmd_namespaces(cluster: Cluster) -> list[str]:
    return sorted({ns for ns, name, _ in cluster.workloads if name in ("vllm", "vllm-decode")})


def platform_namespaces(cluster: Cluster) -> list[str]:
    """The namespaces the workloads run in: the ones holding a Deployment of the model server (Ollama or vLLM), or of
    Open-WebUI (llm-d's own under prefill/decode)."""
    return sorted({ns for ns, name, _ in cluster.workloads if name in ("ollama", "vllm", "vllm-decode", "open-webui")})


@pytest.mark.parametrize("name", ["dev", "prod", "llmd", "llmd-pd", "dev-smb-nogpu"])
def test_every_workload_reaches_what_it_is_configured_to_call_and_not_the_node_metadata(name):
    cluster = Cluster(variant(name))
    namespaces = platform_namespaces(cluster)
    assert namespaces, "no model server in the plan"
    problems = []
    for namespace in namespaces:
        pods = cluster.pods_in(namespace)
        if namespace in llmd_namespaces(cluster):  # the chart-made picker and Istio's pool gateway run there too
            epp, gateway = Pod(namespace, EPP_LABEL), Pod(namespace, {
                "gateway.networking.k8s.io/gateway-name": POOL_GATEWAY})
            vllm = next(p for n, p, _ in pods if n in ("vllm", "vllm-decode"))
            for what, source, peer, port in (
                    ("picker -> API server", epp, API_SERVER, 443), ("picker -> vLLM metrics", epp, vllm, VLLM_PORT),
                    ("pool gateway -> istiod", gateway, Pod("istio-system", {"app": "istiod"}), 15012),
                    ("pool gateway -> picker", gateway, epp, EPP_PORT),
                    ("pool gateway -> vLLM", gateway, vllm, VLLM_PORT)):
                if not allowed(cluster.policies, "Egress", source, peer, port, cluster.namespaces):
                    problems.append(f"{namespace}: {what} is denied")
            pods = [*pods, ("llmd-epp", epp, {"containers": []}), ("pool-gateway", gateway, {"containers": []})]
        for workload, pod, spec in pods:
            for what, peer, port, protocol in destinations(cluster, namespace, workload, pod, spec):
                if not cluster.reaches(pod, peer, port, protocol):
                    problems.append(f"{namespace}/{workload} -> {what} ({peer}, {protocol} {port}) is denied")
            for what, peer, ports in (("IMDS", IMDS, (80, 443)), ("the wireserver", WIRESERVER, (80, 32526))):
                problems += [f"{namespace}/{workload} reaches {what} on {port}" for port in ports
                             if allowed(cluster.policies, "Egress", pod, peer, port, cluster.namespaces)]
    assert not problems, "\n".join(problems)


def test_the_model_counts_in_cluster_peers_only_by_selector():
    """The evaluator's Cilium reading, which the guard's in-cluster rule exists for: an ipBlock covering every address
    selects no pod, a namespace selector does."""
    source, target = Pod("llm", {"app.kubernetes.io/name": "router"}), Pod("keda", {"app": "x"})
    block = {"metadata": {"namespace": "llm"}, "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                                                        "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}}
    assert not allowed([block], "Egress", source, target, 8080, {})
    assert allowed([block], "Egress", source, ENTRA_ID, 443, {})
    selector = {"metadata": {"namespace": "llm"}, "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                                                           "egress": [{"to": [{"namespaceSelector": {}}]}]}}
    assert allowed([block, selector], "Egress", source, target, 8080, {})
    assert not allowed([selector], "Egress", source, ENTRA_ID, 443, {})


def test_the_metrics_port_of_the_picker_stays_open_to_monitoring():
    """The guard is egress only: the ingress rules that let Prometheus scrape llm-d are untouched."""
    cluster = Cluster(variant("llmd"))
    namespace, = llmd_namespaces(cluster)
    prometheus = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    assert allowed(cluster.policies, "Ingress", Pod(namespace, EPP_LABEL), prometheus, EPP_METRICS_PORT,
                   cluster.namespaces)


# ---- every namespace the platform creates ------------------------------------------------------------------------
# More addresses outside the cluster, one of each: Let's Encrypt's ACME API (acme-v02.api.letsencrypt.org), an
# Ubuntu package mirror (the GPU Operator's and DOCA-OFED's driver containers build against the node's kernel), an
# Alertmanager receiver and grafana.com (Grafana's plugin and update checks), the external Gateway's public address
# (cert-manager's HTTP-01 self-check, when the load balancer address is not answered inside the node).
ACME = Outside("172.65.32.248")
PACKAGE_MIRROR = Outside("91.189.91.83")
ALERT_RECEIVER = Outside("40.126.32.134")
GRAFANA_COM = Outside("34.120.177.193")
GATEWAY_PUBLIC_IP = Outside("20.31.40.50")
# A node's own address: the kubelet (10250) and node-exporter, which runs on the host network (9100).
NODE = Node("10.224.0.4")
ISTIOD = Pod("istio-system", {"app": "istiod"})
# The Prometheus server pods' labels: the selector labels prometheus-operator gives their StatefulSet
# (pkg/prometheus/server/statefulset.go, podSelectorLabels), for kube-prometheus-stack's Prometheus "kps-prometheus".
PROMETHEUS = Pod(MONITORING_NS, {
    "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/managed-by": "prometheus-operator",
    "app.kubernetes.io/instance": "kps-prometheus", "prometheus": "kps-prometheus",
    "operator.prometheus.io/name": "kps-prometheus", "operator.prometheus.io/shard": "0"})
# Pods of a namespace no egress guard covers, and why. None under Cilium, every variant's engine: the Prometheus
# servers, left out of the monitoring namespace's NetworkPolicy (they scrape node addresses, which no NetworkPolicy
# admits under Cilium), are guarded by its CiliumNetworkPolicy. Under calico or azure they stay out (OTHER_ENGINES).
EXEMPT: dict[tuple[str, tuple[str, str]], str] = {}
OTHER_ENGINES = {(MONITORING_NS, PROMETHEUS_POD_LABEL): "no CiliumNetworkPolicy without Cilium; the NetworkPolicy "
                                                        "guard leaves the Prometheus servers out"}

Need = tuple[str, Pod, Peer, int, str]


def workload(cluster: Cluster, namespace: str, name: str) -> list[Pod]:
    """The planned pod of a Deployment or Job `name` in `namespace` (none when the plan has no such workload)."""
    return [pod for n, pod, _ in cluster.pods_in(namespace) if n == name]


def documented_needs(cluster: Cluster) -> dict[str, list[Need]]:
    """Per kind of namespace the platform creates, what its pods must reach besides CoreDNS and the API server
    (every pod's: `common_needs`); docs/decisions.md, "The egress guard in every namespace", says why each is
    there. A namespace of a kind not listed here fails the test below: its needs are to be written down first."""
    apps = platform_namespaces(cluster)
    gateways = [ns for ns in cluster.namespaces if ns.endswith("-gateway")]
    gateway = [Pod(ns, {"gateway.networking.k8s.io/gateway-name": "external-gateway"}) for ns in gateways]
    backends = [(what, pod, port) for ns in apps
                for what, name, port in (("the API gate", "router", ROUTER_EDGE_PORT),
                                         ("Open-WebUI", "open-webui", 8080))
                for pod in workload(cluster, ns, name)]
    ollama = [pod for ns in apps for pod in workload(cluster, ns, "ollama")]
    model_servers = [pod for ns in apps for name in ("ollama", "vllm", "vllm-decode")
                     for pod in workload(cluster, ns, name)]
    keda = {name: Pod("keda", {"app.kubernetes.io/name": name})
            for name in ("keda-operator", "keda-operator-metrics-apiserver")}
    monitoring = {name: Pod(MONITORING_NS, {"app.kubernetes.io/name": name})
                  for name in ("grafana", "alertmanager", "prometheus-adapter", "kube-state-metrics", "dcgm-exporter")}
    return {
        "gateway": [*(("istiod (xDS, certificates)", gw, ISTIOD, 15012, "TCP") for gw in gateway),
                    *((what, gw, pod, port, "TCP") for gw in gateway for what, pod, port in backends)],
        "istio-system": [],
        "cert-manager": [("the ACME API", Pod("cert-manager", {"app.kubernetes.io/name": "cert-manager"}), ACME, 443,
                          "TCP"),
                         ("HTTP-01 self-check at the public address",
                          Pod("cert-manager", {"app.kubernetes.io/name": "cert-manager"}), GATEWAY_PUBLIC_IP, 80, "TCP"),
                         *(("HTTP-01 self-check, the address answered by the gateway pod",
                            Pod("cert-manager", {"app.kubernetes.io/name": "cert-manager"}), gw, 80, "TCP")
                           for gw in gateway)],
        "keda": [("Prometheus (Prometheus triggers)", keda["keda-operator"], PROMETHEUS, 9090, "TCP"),
                 ("the HTTP add-on's external scaler", keda["keda-operator"], Pod("keda", SCALER_POD_LABELS), 9090,
                  "TCP"),
                 ("the operator (metrics API over gRPC)", keda["keda-operator-metrics-apiserver"],
                  keda["keda-operator"], 9666, "TCP"),
                 ("the interceptor's queue counts", Pod("keda", SCALER_POD_LABELS), interceptor_pod(),
                  INTERCEPTOR_ADMIN_PORT, "TCP"),
                 *(("Ollama behind the interceptor", interceptor_pod(), pod, OLLAMA_PORT, "TCP") for pod in ollama)],
        MONITORING_NS: [("the kubelet (cAdvisor, probes)", PROMETHEUS, NODE, 10250, "TCP"),
                        ("node-exporter (host network)", PROMETHEUS, NODE, 9100, "TCP"),
                        ("kube-state-metrics", PROMETHEUS, monitoring["kube-state-metrics"], 8080, "TCP"),
                        ("the DCGM exporter", PROMETHEUS, monitoring["dcgm-exporter"], 9400, "TCP"),
                        ("the KEDA operator's metrics", PROMETHEUS, keda["keda-operator"], 8080, "TCP"),
                        ("the interceptor's metrics", PROMETHEUS, interceptor_pod(), INTERCEPTOR_METRICS_PORT, "TCP"),
                        ("CoreDNS's metrics", PROMETHEUS, DNS, 9153, "TCP"),
                        ("Alertmanager", PROMETHEUS, monitoring["alertmanager"], 9093, "TCP"),
                        *(("Envoy's metrics on the gateways", PROMETHEUS, gw, 15090, "TCP") for gw in gateway),
                        *(("a model server's metrics", PROMETHEUS, pod, 8000, "TCP") for pod in model_servers),
                        *([("cert-manager's metrics", PROMETHEUS, Pod(CERT_MANAGER_NS, CERT_MANAGER_CONTROLLER_LABELS),
                            9402, "TCP")] if CERT_MANAGER_NS in cluster.namespaces else []),
                        ("Prometheus (data source)", monitoring["grafana"], PROMETHEUS, 9090, "TCP"),
                        ("Alertmanager (data source)", monitoring["grafana"], monitoring["alertmanager"], 9093, "TCP"),
                        ("grafana.com (plugins, update check)", monitoring["grafana"], GRAFANA_COM, 443, "TCP"),
                        ("a receiver (webhook, e-mail)", monitoring["alertmanager"], ALERT_RECEIVER, 443, "TCP"),
                        ("its peers (cluster gossip)", monitoring["alertmanager"], monitoring["alertmanager"], 9094,
                         "TCP"),
                        ("Prometheus (the GPU memory rule)", monitoring["prometheus-adapter"], PROMETHEUS, 9090,
                         "TCP")],
        "gpu-operator": [("the package mirror (driver build)", Pod("gpu-operator", {"app": "nvidia-driver-daemonset"}),
                          PACKAGE_MIRROR, 443, "TCP")],
        "nvidia-device-plugin": [],
        # the operator only (API server); DOCA-OFED's driver and the RDMA shared device plugin are host-network
        # DaemonSets (network-operator v26.4.1 manifests/state-ofed-driver/0050_ofed-driver-ds.yaml,
        # state-rdma-shared-device-plugin/0060_rdma-shared-dev-plugin-ds.yaml: hostNetwork: true), which no pod
        # policy applies to: they reach the package mirrors, and IMDS, as the node does
        "network-operator": [],
        "nri-plugins": [],
        "workloads": [],  # llm and llm-d: test_every_workload_reaches_what_it_is_configured_to_call_...
    }


def kind_of(cluster: Cluster, namespace: str) -> str:
    if namespace in platform_namespaces(cluster) or namespace in llmd_namespaces(cluster):
        return "workloads"
    return "gateway" if namespace.endswith("-gateway") else namespace


def common_needs(pod: Pod) -> list[Need]:
    return [("DNS", pod, DNS, 53, "UDP"), ("DNS over TCP", pod, DNS, 53, "TCP"),
            ("the API server", pod, API_SERVER, 443, "TCP")]


def exemption(pod: Pod) -> str:
    return next((why for (ns, (key, value)), why in EXEMPT.items()
                 if pod.namespace == ns and pod.labels.get(key) == value), "")


NAMESPACE_VARIANTS = ["dev", "prod", "prod-tls", "llmd", "llmd-pd", "dev-operator", "dev-smb-nogpu"]


def test_the_variants_plan_every_kind_of_namespace_documented():
    """The variants below create every namespace documented_needs describes (cert-manager with TLS, the GPU
    Operator's, the Network Operator's and NRI's with prefill/decode on InfiniBand...): each entry is proved."""
    seen: set[str] = set()
    documented: set[str] = set()
    for name in NAMESPACE_VARIANTS:
        cluster = Cluster(variant(name))
        seen |= {kind_of(cluster, ns) for ns in cluster.namespaces}
        documented |= set(documented_needs(cluster))
    assert seen == documented


@pytest.mark.parametrize("name", NAMESPACE_VARIANTS)
def test_every_namespace_the_platform_creates_keeps_its_pods_from_the_node_metadata(name):
    """Every namespace of the plan: each pod of it (one without labels stands for those the charts make) is kept
    from IMDS and the wireserver, unless EXEMPT names it with a reason, and reaches everything documented_needs
    lists for it (egress; the targets' ingress is their own policies', unchanged here)."""
    cluster = Cluster(variant(name))
    needs = documented_needs(cluster)
    problems = []
    for namespace in sorted(cluster.namespaces):
        kind = kind_of(cluster, namespace)
        if kind not in needs:
            problems.append(f"{namespace}: a namespace the platform creates with no documented egress needs")
            continue
        listed = [n for n in needs[kind] if n[1].namespace == namespace]
        sources = {Pod(namespace, {}), *(source for _, source, *_ in listed)}
        for pod in sorted(sources, key=lambda p: sorted(p.labels.items())):
            for what, _, peer, port, protocol in [*common_needs(pod), *[n for n in listed if n[1] == pod]]:
                if not allowed(cluster.policies, "Egress", pod, peer, port, cluster.namespaces, protocol):
                    problems.append(f"{namespace} {dict(pod.labels)} -> {what} ({peer}, {protocol} {port}) is denied")
            metadata = [f"{what} on {port}" for what, peer, ports in (("IMDS", IMDS, (80, 443)),
                                                                      ("the wireserver", WIRESERVER, (80, 32526)))
                        for port in ports if allowed(cluster.policies, "Egress", pod, peer, port, cluster.namespaces)]
            if metadata and not exemption(pod):
                problems.append(f"{namespace} {dict(pod.labels)} reaches " + ", ".join(metadata))
    assert not problems, "\n".join(problems)


def test_the_guard_of_a_namespace_with_a_node_need_would_cut_it():
    """The model reads the documented node need as Cilium enforces it: with the monitoring namespace's NetworkPolicy
    guard over every pod (no exemption), Prometheus loses the kubelet and node-exporter; left out of it, Prometheus
    reaches IMDS unless the CiliumNetworkPolicy guards it, which keeps the nodes open."""
    cluster = Cluster(variant("dev"))
    guard, = [p for p in cluster.policies if p["metadata"] == {"namespace": MONITORING_NS, "name": "egress-guard"}]
    whole = {**guard, "spec": {**guard["spec"], "podSelector": {}}}
    assert allowed([guard], "Egress", PROMETHEUS, NODE, 10250, cluster.namespaces)
    assert not allowed([whole], "Egress", PROMETHEUS, NODE, 10250, cluster.namespaces)
    assert not allowed([whole], "Egress", PROMETHEUS, NODE, 9100, cluster.namespaces)
    assert allowed([guard], "Egress", PROMETHEUS, IMDS, 80, cluster.namespaces)
    assert not allowed(cluster.policies, "Egress", PROMETHEUS, IMDS, 80, cluster.namespaces)
    assert all(allowed(cluster.policies, "Egress", PROMETHEUS, NODE, port, cluster.namespaces)
               for port in (10250, 9100))
    assert not allowed([guard], "Egress", Pod(MONITORING_NS, {"app.kubernetes.io/name": "grafana"}), IMDS, 80,
                       cluster.namespaces)


@pytest.mark.parametrize("engine", ["calico", "azure"])
def test_without_cilium_prometheus_stays_out_of_every_guard(engine):
    """A CiliumNetworkPolicy exists only with Cilium (AksCluster runs the Cilium dataplane with the cilium engine
    alone): a calico or azure cluster gets none, and its Prometheus servers reach IMDS as before, the one exemption
    (OTHER_ENGINES), while every other pod of the monitoring namespace stays guarded."""
    cluster = Cluster(plan_for("dev", {"cluster": {"networkPolicy": engine}}))
    assert not [p for p in cluster.policies if p["kind"] == "CiliumNetworkPolicy"]
    reaching = {(ns, label) for (ns, label) in OTHER_ENGINES
                if allowed(cluster.policies, "Egress", Pod(ns, dict([label])), IMDS, 80, cluster.namespaces)}
    assert reaching == set(OTHER_ENGINES)
    assert not allowed(cluster.policies, "Egress", Pod(MONITORING_NS, {"app.kubernetes.io/name": "grafana"}), IMDS,
                       80, cluster.namespaces)


def test_the_model_reads_a_cilium_policy_as_cilium_does():
    """llmplatform.testing.network_policy's CiliumNetworkPolicy reading: a pod selected for egress is denied what no
    rule allows; a toEndpoints selector without the namespace key stays in the policy's namespace, one naming it with
    `Exists` reaches every namespace; a CIDR rule selects no pod or node, the host/remote-node entities select nodes;
    rules of both kinds add up."""
    prometheus = Pod(MONITORING_NS, dict([PROMETHEUS_POD_LABEL]))
    here, there = Pod(MONITORING_NS, {"app": "x"}), Pod("keda", {"app": "x"})

    def cnp(*rules: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "CiliumNetworkPolicy", "metadata": {"namespace": MONITORING_NS},
                "spec": {"endpointSelector": {"matchLabels": dict([PROMETHEUS_POD_LABEL])}, "egress": list(rules)}}
    local = cnp({"toEndpoints": [{}]})
    assert allowed([local], "Egress", prometheus, here, 80, {})
    assert not allowed([local], "Egress", prometheus, there, 80, {})
    assert not allowed([local], "Egress", prometheus, ENTRA_ID, 443, {})
    assert not allowed([local], "Egress", prometheus, NODE, 10250, {})
    assert allowed([local], "Egress", here, ENTRA_ID, 443, {})  # not selected: not isolated
    every = cnp({"toEndpoints": [{"matchExpressions": [{"key": "k8s:io.kubernetes.pod.namespace",
                                                        "operator": "Exists"}]}]})
    assert allowed([every], "Egress", prometheus, there, 80, {})
    world = cnp({"toCIDRSet": [{"cidr": "0.0.0.0/0", "except": [IMDS_CIDR]}]})
    assert allowed([world], "Egress", prometheus, ENTRA_ID, 443, {})
    assert not allowed([world], "Egress", prometheus, IMDS, 80, {})
    assert not allowed([world], "Egress", prometheus, here, 80, {})
    assert not allowed([world], "Egress", prometheus, NODE, 10250, {})
    assert allowed([cnp({"toEntities": ["host", "remote-node"]})], "Egress", prometheus, NODE, 10250, {})
    assert allowed([world, every], "Egress", prometheus, there, 80, {})
    with pytest.raises(Unmodelled, match="not modelled"):
        allowed([cnp({"toFQDNs": [{"matchName": "example.com"}]})], "Egress", prometheus, ENTRA_ID, 443, {})


# ---- a namespace AppNamespace makes for an application (a tenant's, with no platform workload in it) ---------------
@pytest.mark.parametrize("guard", [None, True, False])
def test_an_app_namespace_keeps_its_pods_from_the_node_metadata_unless_told_not_to(guard):
    """AppNamespace's namespace, with nothing of the platform's in it (a team's application): its pods reach CoreDNS,
    the API server, the pods of other namespaces and the outside world (Entra ID, a registry), and not IMDS or the
    wireserver; `egress_guard: false` leaves the namespace as Kubernetes makes it, open."""
    import llmplatform as P
    from offline import runner as offline
    from tests.components.test_components_alone import provider_opts

    args: dict[str, Any] = {"namespace": "team-b", **({} if guard is None else {"egress_guard": guard})}
    objects = [r.inputs for r in offline.run_function(
        lambda: P.AppNamespace("team", args, provider_opts())).kubernetes_objects()]
    policies = [o for o in objects if o["kind"] in ("NetworkPolicy", "CiliumNetworkPolicy")]
    namespaces = {o["metadata"]["name"]: o["metadata"].get("labels") or {} for o in objects if o["kind"] == "Namespace"}
    assert set(namespaces) == {"team-b"}
    pod = Pod("team-b", {"app": "their-app"})
    for what, peer, port, protocol in [*((w, p, port, proto) for w, _, p, port, proto in common_needs(pod)),
                                       ("a pod of another namespace", Pod("llm", {"app.kubernetes.io/name": "router"}),
                                        8080, "TCP"),
                                       ("Entra ID", ENTRA_ID, 443, "TCP"), ("a registry", OLLAMA_REGISTRY, 443, "TCP")]:
        assert allowed(policies, "Egress", pod, peer, port, namespaces, protocol), what
    metadata = [(what, protocol, port) for what, peer, ports in (("IMDS", IMDS, (80, 443)),
                                                                 ("the wireserver", WIRESERVER, (53, 80, 32526)))
                for port in ports for protocol in ("TCP", "UDP")
                if allowed(policies, "Egress", pod, peer, port, namespaces, protocol)]
    assert (metadata == []) is (guard is not False), metadata
