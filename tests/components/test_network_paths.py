"""Who may call whom, over the planned program's NetworkPolicies (llmplatform.testing.network_policy, read as Cilium
reads them): every ingress-isolated pod of the dev, prod and llm-d plans admits exactly the callers the program uses,
each for a reason written below, and no other pod of the cluster (another namespace's, the same namespace's other
pods, the monitoring namespace's other pods). The callers: the Istio Gateways (UI and API listeners), the gate, the
UI, the KEDA HTTP add-on's interceptor and scaler, Prometheus (PodMonitors, ServiceMonitors), llm-d's pool gateway and
picker."""
from __future__ import annotations

from typing import Any

import pytest

import llmplatform
from llmplatform.checks import ComponentInputError
from llmplatform.inference_specs import OLLAMA_PORT, ROUTER_EDGE_PORT, ROUTER_PORT, ROUTER_UI_PORT, WEBUI_PORT
from llmplatform.keda_http import INTERCEPTOR_ADMIN_PORT, INTERCEPTOR_METRICS_PORT, INTERCEPTOR_PORT
from llmplatform.llmd_specs import EPP_METRICS_PORT, EPP_PORT, VLLM_PORT
from llmplatform.llmd_stack import EPP_LABEL, POOL_GATEWAY
from llmplatform.observability import MONITORING_NS, PROMETHEUS_POD_LABEL
from offline import runner as offline

from tests.components.test_components_alone import ENDPOINT, REQUIRED, ROUTES, provider_opts
from tests.components.test_kube import Cluster, interceptor_pod
from tests.conftest import plan_for, variant
from llmplatform.testing.network_policy import Pod, connects, selecting
from tests.network_policy import keda_http_pod_labels

PROMETHEUS = Pod(MONITORING_NS, dict([PROMETHEUS_POD_LABEL]))
GRAFANA = Pod(MONITORING_NS, {"app.kubernetes.io/name": "grafana"})
SCALER = Pod("keda", keda_http_pod_labels("scaler"))
STRANGER = Pod("default", {})  # any pod of a namespace the platform does not run in
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
JOBS = ("model-preload-", "open-webui-db-bootstrap-", "open-webui-migrate-")


def named_pods(plan: Any) -> dict[str, Pod]:
    """Every pod of the plan by "<namespace>/<workload>" (a Job's pods carry the labels the Job controller adds), the
    charts' pods the policies name, and, per namespace, a pod without labels ("<namespace>/*")."""
    cluster = Cluster(plan)
    jobs = {(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"])
            for r in plan.of_type("kubernetes:batch/v1:Job")}
    pods: dict[str, Pod] = {}
    for ns, name, template in cluster.workloads:
        labels = dict(template["metadata"].get("labels") or {})
        if (ns, name) in jobs:  # pkg/controller/job: batch.kubernetes.io/job-name and job-name on every pod
            labels.update({"batch.kubernetes.io/job-name": name, "job-name": name})
        pods[f"{ns}/{name}"] = Pod(ns, labels)
    pods.update({"keda/interceptor": interceptor_pod(), "keda/scaler": SCALER, "monitoring/prometheus": PROMETHEUS,
                 "monitoring/grafana": GRAFANA, "default/*": STRANGER})
    gateways = {r.inputs["metadata"]["namespace"] for r in plan.of_type(GATEWAY)
                if r.inputs["metadata"]["name"] != POOL_GATEWAY}
    for ns in gateways:  # Istio labels a Gateway's pods with its name (gateway.networking.k8s.io/gateway-name)
        pods[f"{ns}/gateway"] = Pod(ns, {"gateway.networking.k8s.io/gateway-name": "external-gateway"})
    for ns in {ns for ns, name, _ in cluster.workloads if name.startswith("vllm")}:
        pods[f"{ns}/epp"] = Pod(ns, EPP_LABEL)
        pods[f"{ns}/pool-gateway"] = Pod(ns, {"gateway.networking.k8s.io/gateway-name": POOL_GATEWAY})
    for ns in {p.namespace for p in list(pods.values())}:
        pods[f"{ns}/*"] = Pod(ns, {})
    return pods


def unhashed(name: str) -> str:
    """A Job's name without the content hash it carries (model-preload-724f8019 -> model-preload)."""
    return name.rsplit("-", 1)[0] if name.split("/", 1)[1].startswith(JOBS) else name


def admitted(plan: Any) -> set[tuple[str, str, int]]:
    """(caller, callee, port) for every port an ingress policy names on an ingress-isolated pod, and every caller
    the policies let through to it; workloads' names without their content hash."""
    cluster, pods = Cluster(plan), named_pods(plan)
    found = set()
    for target_name, target in pods.items():
        ports = {e["port"] for p in selecting(cluster.policies, "Ingress", target)
                 for rule in p["spec"].get("ingress") or [] for e in rule.get("ports") or []}
        for port in ports:
            found |= {(unhashed(source_name), unhashed(target_name), port) for source_name, source in pods.items()
                      if source is not target and connects(cluster.policies, source, target, port, cluster.namespaces)}
    return found


def everyone_in(namespace: str, pods: set[str]) -> set[str]:
    return {p for p in pods if p.startswith(f"{namespace}/")}


def expected_ollama_stack(plan: Any, gateway_ns: str) -> set[tuple[str, str, int]]:
    """The Ollama stack's paths under KEDA (dev, prod, llm-d's Ollama stack), each used by the program."""
    names = {unhashed(n) for n in named_pods(plan)}
    ui = "llm/open-webui" in names
    return {
        ("keda/interceptor", "llm/ollama", OLLAMA_PORT),  # the only way in under KEDA: every request counted
        ("llm/router", "keda/interceptor", INTERCEPTOR_PORT),  # the gate's upstream (ollama-scaled, Host header)
        ("keda/scaler", "keda/interceptor", INTERCEPTOR_ADMIN_PORT),  # the scaler reads the queue counts
        ("monitoring/prometheus", "keda/interceptor", INTERCEPTOR_METRICS_PORT),  # keda PodMonitor
        # the Gateways' listener (HTTPRoute api-route; X-Forwarded-For read) and, with the key, the in-cluster
        # listener for the gate's own namespace (its callers' own addresses keyed)
        *((gw, "llm/router", ROUTER_EDGE_PORT) for gw in (f"{gateway_ns}/gateway", f"{gateway_ns}/*")),
        *((pod, "llm/router", ROUTER_PORT) for pod in everyone_in("llm", names)),
        *([("llm/open-webui", "llm/router", ROUTER_UI_PORT),  # the UI's model server (OLLAMA_BASE_URL)
           # websocket sessions and app state, where the UI may run more than one process
           *([("llm/open-webui", "llm/webui-redis", 6379)] if "llm/webui-redis" in names else []),
           *((gw, "llm/open-webui", 8080) for gw in (f"{gateway_ns}/gateway", f"{gateway_ns}/*"))] if ui else []),
    } - {("llm/router", "llm/router", ROUTER_PORT)}


def expected_llmd(namespace: str, gateway_ns: str, valkey: bool) -> set[tuple[str, str, int]]:
    ns = namespace
    return {
        (f"{ns}/pool-gateway", f"{ns}/epp", EPP_PORT),  # ext-proc: the picker chooses the pod
        ("monitoring/prometheus", f"{ns}/epp", EPP_METRICS_PORT),  # epp ServiceMonitor
        (f"{ns}/router", f"{ns}/pool-gateway", 80),  # the gate's upstream (llmd-gateway-istio)
        ("monitoring/prometheus", f"{ns}/pool-gateway", 15020),  # Istio's merged metrics
        (f"{ns}/pool-gateway", f"{ns}/vllm", VLLM_PORT), (f"{ns}/epp", f"{ns}/vllm", VLLM_PORT),  # requests, scrapes
        ("monitoring/prometheus", f"{ns}/vllm", VLLM_PORT),  # vllm PodMonitor
        (f"{ns}/open-webui", f"{ns}/router", ROUTER_UI_PORT),  # the UI on LlmdStack.ui_endpoint, without a key
        *((gw, f"{ns}/router", ROUTER_EDGE_PORT) for gw in (f"{gateway_ns}/gateway", f"{gateway_ns}/*")),
        *((gw, f"{ns}/open-webui", 8080) for gw in (f"{gateway_ns}/gateway", f"{gateway_ns}/*")),
        *([(f"{ns}/open-webui", f"{ns}/webui-redis", 6379)] if valkey else []),
    }


def expected_monitoring() -> set[tuple[str, str, int]]:
    """Prometheus and Grafana (`query-ingress`) admit the monitoring namespace's own pods, one trust boundary:
    Prometheus scrapes both (its port 9090 stands for all of them here), Grafana and the adapter query Prometheus.
    KEDA's operator, which runs the Prometheus triggers, is not among the modelled pods (its own test below)."""
    pods = ("monitoring/prometheus", "monitoring/grafana", "monitoring/*")
    return {(caller, callee, 9090) for caller in pods for callee in pods[:2] if caller != callee}


@pytest.mark.parametrize("name", ["dev", "prod", "llmd"])
def test_every_isolated_pod_admits_exactly_the_callers_the_program_uses(name):
    plan = variant(name)
    gateway_ns = next(r.inputs["metadata"]["namespace"]
                      for r in plan.of_type(GATEWAY)
                      if r.inputs["metadata"]["name"] != POOL_GATEWAY)
    expected = expected_ollama_stack(plan, gateway_ns) | expected_monitoring()
    if name == "llmd":  # the UI runs on llm-d there (webui.backend llmd), the Ollama stack without one
        expected |= expected_llmd("llm-d", gateway_ns, "llm-d/webui-redis" in {unhashed(n) for n in named_pods(plan)})
    found = admitted(plan)
    assert not found - expected, f"admitted, not used: {sorted(found - expected)}"
    assert not expected - found, f"used, denied: {sorted(expected - found)}"


@pytest.mark.parametrize("name", ["dev", "prod-tls", "llmd"])
def test_a_gate_closes_its_in_cluster_listener_to_the_gateways_only_after_their_route_has_moved(name):
    """`router-ingress` admitted the Gateways before their listener (8082) existed; its update takes them out, and
    their HTTPRoute moves only once the gate's pods have rolled. Ordered the other way, `pulumi up` refuses every
    request through the Gateways for the whole rollout: the policy waits for the route (its dependency)."""
    plan = variant(name)
    routes = {(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.urn
              for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
              if any(ref.get("port") == ROUTER_EDGE_PORT for rule in r.inputs["spec"]["rules"]
                     for ref in rule.get("backendRefs") or [])}
    policies = {r.inputs["metadata"]["namespace"]: r
                for r in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                if r.inputs["metadata"]["name"] == "router-ingress"}
    assert routes and {ns for ns, _ in routes} <= set(policies)
    for (ns, route), urn in routes.items():
        assert urn in policies[ns].dependencies, f"{ns}/router-ingress does not wait for {route}"


@pytest.mark.parametrize("name", ["dev", "prod", "dev-gpu", "dev-gpu-hpa", "dev-smb-nogpu", "llmd"])
def test_ollama_admits_the_interceptor_alone_under_keda_else_the_gate_and_the_ui(name):
    """Under KEDA the interceptor is Ollama's only caller: the gate sends to it, the UI goes through the gate's UI
    listener, and a direct call would skip KEDA's request count (a request to a server at zero replicas fails
    instead of waking it). Without KEDA the gate and the UI call `ollama:11434`. No Job of the program calls Ollama
    (the preload Job runs its own `ollama serve` on localhost; the UI's Jobs write the database)."""
    plan = variant(name)
    cluster, pods = Cluster(plan), named_pods(plan)
    ollama = pods["llm/ollama"]
    keda = any(r.inputs["metadata"]["name"] == "interceptor-from-llm"
               for r in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy"))
    expected = {"keda/interceptor"} if keda else {"llm/router", *({"llm/open-webui"} & set(pods))}
    callers = {n for n, p in pods.items() if p is not ollama
               and connects(cluster.policies, p, ollama, OLLAMA_PORT, cluster.namespaces)}
    assert callers == expected
    assert any("model-preload" in n for n in pods)  # the Jobs were among the candidates
    # each caller is configured to call it: the gate's upstream, the UI's OLLAMA_BASE_URL, the interceptor's route
    if not keda:
        assert "server ollama:11434;" in next(r.inputs["data"]["nginx.conf"] for r in
                                              plan.of_type("kubernetes:core/v1:ConfigMap")
                                              if r.inputs["metadata"]["name"].startswith("router-nginx"))


def gate_plan(**extra: Any) -> Any:
    def program() -> None:
        llmplatform.ApiGate("gate", {**REQUIRED["ApiGate"](), **extra}, provider_opts())
    return offline.run_function(program)


def gate_callers(plan: Any, candidates: list[Pod], port: int = ROUTER_PORT) -> list[Pod]:
    """The candidates a gate's listener on `port` admits (ROUTER_PORT: in-cluster clients; ROUTER_EDGE_PORT: the
    Gateways)."""
    objects = [r.inputs for r in plan.kubernetes_objects()]
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    router = Pod(ENDPOINT["namespace"], {"app.kubernetes.io/name": "router"})
    return [p for p in candidates if connects(policies, p, router, port, {})]


def test_a_gate_on_no_gateway_admits_its_namespace_and_the_named_ones_only():
    """A gate without route_target is in-cluster only: its `endpoint` is for clients in its namespace, and other
    namespaces are let in by name (`client_namespaces`). An empty peer list had admitted every pod of the cluster
    (the key and the 429 still applied, but any tenant's pod could try keys and spend the gate's rate)."""
    in_namespace, ui = Pod("llm", {"app": "batch"}), Pod("llm", {"app.kubernetes.io/name": "open-webui"})
    apps, other = Pod("apps", {"app": "client"}), Pod("other", {"app.kubernetes.io/name": "router"})
    gateway = Pod(ROUTES["namespace"], {"gateway.networking.k8s.io/gateway-name": "external-gateway"})
    candidates = [in_namespace, ui, apps, other, gateway]
    assert gate_callers(gate_plan(), candidates) == [in_namespace, ui]
    assert gate_callers(gate_plan(client_namespaces=["apps"]), candidates) == [in_namespace, ui, apps]
    # published: the Gateways on a listener of their own (X-Forwarded-For read there alone), and still the
    # endpoint's clients in the namespace (an OpenWebUi on it) on the in-cluster one
    published = gate_plan(route_target=ROUTES)
    assert gate_callers(published, candidates) == [in_namespace, ui]
    assert gate_callers(published, candidates, ROUTER_EDGE_PORT) == [gateway]
    assert gate_callers(gate_plan(), candidates, ROUTER_EDGE_PORT) == []


def test_an_inference_stack_hands_its_api_client_namespaces_to_its_gate():
    def program() -> None:
        llmplatform.InferenceStack("stack", {**REQUIRED["InferenceStack"](), "api_client_namespaces": ["apps"]},
                                   provider_opts())
    apps, other = Pod("apps", {"app": "client"}), Pod("other", {"app": "client"})
    assert gate_callers(offline.run_function(program), [apps, other]) == [apps]


def test_a_gate_refuses_a_client_namespace_that_is_no_namespace_name():
    with pytest.raises(ComponentInputError, match="client_namespaces"):
        gate_plan(client_namespaces=["Not_A_Namespace"])


def ui_callers(plan: Any, candidates: list[Pod]) -> list[Pod]:
    policies = [o for o in (r.inputs for r in plan.kubernetes_objects()) if o["kind"] == "NetworkPolicy"]
    ui = Pod(ENDPOINT["namespace"], {"app.kubernetes.io/name": "open-webui"})
    return [p for p in candidates if connects(policies, p, ui, WEBUI_PORT, {})]


def test_an_unpublished_ui_admits_only_the_namespaces_named():
    """OpenWebUi without route_target had an ingress rule with no peers, which admits every pod of the cluster (and
    every address outside it) to the sign-in page; its own namespace's pods (the gate, Ollama, Jobs) never call it.
    Unpublished it admits no pod (a port-forward is no pod's traffic), a named namespace's pods (an ingress controller
    of the user's own) when named, and published the Gateways' namespace."""
    in_namespace, ingress = Pod(ENDPOINT["namespace"], {"app": "batch"}), Pod("ingress-nginx", {"app": "controller"})
    gateway = Pod(ROUTES["namespace"], {"gateway.networking.k8s.io/gateway-name": "external-gateway"})
    candidates = [in_namespace, ingress, gateway, STRANGER]

    def ui_plan(**extra: Any) -> Any:
        return offline.run_function(lambda: llmplatform.OpenWebUi("ui", {**REQUIRED["OpenWebUi"](), **extra},
                                                                  provider_opts()))
    assert ui_callers(ui_plan(), candidates) == []
    assert ui_callers(ui_plan(client_namespaces=["ingress-nginx"]), candidates) == [ingress]
    assert ui_callers(ui_plan(route_target=ROUTES), candidates) == [gateway]
    with pytest.raises(ComponentInputError, match="client_namespaces"):
        ui_plan(client_namespaces=["Not_A_Namespace"])


def test_an_inference_stack_hands_its_webui_client_namespaces_to_its_ui():
    def program() -> None:
        llmplatform.InferenceStack("stack", {**REQUIRED["InferenceStack"](), "database_url_secret": "db-url",
                                             "webui_client_namespaces": ["apps"]}, provider_opts())
    apps, other = Pod("apps", {"app": "client"}), Pod("other", {"app": "client"})
    assert ui_callers(offline.run_function(program), [apps, other]) == [apps]


def test_the_program_without_gateways_keeps_its_gate_to_its_namespace():
    """The program's `gateway.mode: none` (no Gateways, so no route_target): its gate had admitted every pod of the
    cluster; it admits its namespace alone now."""
    plan = plan_for("dev", {"gateway": {"mode": "none"}})
    assert not plan.of_type(GATEWAY)
    cluster = Cluster(plan)
    router = Pod("llm", {"app.kubernetes.io/name": "router"})
    assert not [p for p in (STRANGER, GRAFANA, interceptor_pod())
                if connects(cluster.policies, p, router, ROUTER_PORT, cluster.namespaces)]
    assert connects(cluster.policies, Pod("llm", {}), router, ROUTER_PORT, cluster.namespaces)


# One llm-d plan for the gates', the UI's and the monitoring stack's client namespaces (a whole-stack run each):
# each test's pods are in a namespace only its own keys name.
CLIENT_NAMESPACES = {"gateway": {"clientNamespaces": ["apps"]}, "webui": {"clientNamespaces": ["apps"]},
                     "observability": {"clientNamespaces": ["dashboards"]}}


@pytest.mark.parametrize("named", [False, True])
def test_the_stack_config_names_the_namespaces_whose_pods_may_call_the_gates_and_open_the_ui(named):
    """`gateway.clientNamespaces` reaches both gates (InferenceStack's api_client_namespaces, LlmdStack's
    client_namespaces), `webui.clientNamespaces` the UI (here llm-d's, `webui.backend: llmd`); unnamed, a pod of
    that namespace reaches none of them, and a stranger's pod never."""
    cluster = Cluster(plan_for("llmd", CLIENT_NAMESPACES if named else {}))
    apps = Pod("apps", {"app": "client"})
    callees = [(Pod("llm", {"app.kubernetes.io/name": "router"}), ROUTER_PORT),
               (Pod("llm-d", {"app.kubernetes.io/name": "router"}), ROUTER_PORT),
               (Pod("llm-d", {"app.kubernetes.io/name": "open-webui"}), WEBUI_PORT)]
    assert [connects(cluster.policies, apps, pod, port, cluster.namespaces) for pod, port in callees] == [named] * 3
    assert not [pod for pod, port in callees if connects(cluster.policies, STRANGER, pod, port, cluster.namespaces)]


@pytest.mark.parametrize("name", ["dev", "llmd"])
def test_prometheus_alertmanager_and_grafana_answer_the_monitoring_namespace_and_kedas_operator_alone(name):
    """Their APIs take no key (read every metric, silence every alert, try Grafana's sign-in): only the monitoring
    namespace's pods and, on Prometheus's port, KEDA's operator (its Prometheus triggers: the ScaledObjects'
    serverAddress is `kps-prometheus.monitoring`); not the model servers' pods, KEDA's other pods or a stranger's."""
    plan = variant(name)
    cluster = Cluster(plan)
    operator = Pod("keda", {"app.kubernetes.io/name": "keda-operator", "app": "keda-operator"})
    callees = [(PROMETHEUS, 9090), (Pod(MONITORING_NS, {"app.kubernetes.io/name": "alertmanager"}), 9093),
               (GRAFANA, 3000)]
    adapter = Pod(MONITORING_NS, {"app.kubernetes.io/name": "prometheus-adapter"})
    outsiders = [STRANGER, SCALER, interceptor_pod(), Pod("llm", {"app.kubernetes.io/name": "router"}),
                 Pod("llm", {"app.kubernetes.io/name": "open-webui"})]
    for callee, port in callees:
        assert connects(cluster.policies, adapter, callee, port, cluster.namespaces), callee
        assert not [p for p in outsiders if connects(cluster.policies, p, callee, port, cluster.namespaces)], callee
    assert connects(cluster.policies, operator, PROMETHEUS, 9090, cluster.namespaces)
    assert not connects(cluster.policies, operator, GRAFANA, 3000, cluster.namespaces)
    scaled = [r for r in plan.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject")
              for trigger in r.inputs["spec"]["triggers"] if trigger["type"] == "prometheus"]
    assert all("kps-prometheus.monitoring" in str(r.inputs) for r in scaled)


@pytest.mark.parametrize("named", [False, True])
def test_the_stack_config_names_the_namespaces_whose_pods_may_query_the_monitoring_stack(named):
    """`observability.clientNamespaces` (Observability's client_namespaces): a team's own Grafana there reaches
    Prometheus, Alertmanager and Grafana; unnamed, it does not; a stranger's pod never."""
    cluster = Cluster(plan_for("llmd", CLIENT_NAMESPACES if named else {}))  # the gates' and UI's keys name `apps`
    team = Pod("dashboards", {"app.kubernetes.io/name": "grafana"})
    callees = [(PROMETHEUS, 9090), (Pod(MONITORING_NS, {"app.kubernetes.io/name": "alertmanager"}), 9093),
               (GRAFANA, 3000)]
    assert [connects(cluster.policies, team, pod, port, cluster.namespaces) for pod, port in callees] == [named] * 3
    assert not [pod for pod, port in callees if connects(cluster.policies, STRANGER, pod, port, cluster.namespaces)]


def test_llmds_keyless_ui_listener_admits_its_namespaces_ui_alone():
    """webui.backend llmd: the UI calls LlmdStack's keyless listener (`ui_listener`), so no pod but llm-d's own
    Open-WebUI may reach it: not llm-d's other pods (vLLM, the picker, the pool gateway, the Jobs, an unlabelled one),
    not a pod labelled open-webui in another namespace (Ollama's namespace, a client namespace), not the Gateways.
    And the UI, holding no key, no longer reaches the keyed listener."""
    plan = plan_for("llmd", CLIENT_NAMESPACES)  # `apps` named: the keyed listener admits it, the UI one must not
    cluster, pods = Cluster(plan), named_pods(plan)
    router, ui = pods["llm-d/router"], pods["llm-d/open-webui"]
    others = [pod for name, pod in pods.items() if pod is not ui and pod is not router] + [
        Pod("llm", {"app.kubernetes.io/name": "open-webui"}), Pod("apps", {"app.kubernetes.io/name": "open-webui"})]
    assert any(name.startswith("llm-d/open-webui-migrate") for name in pods)  # the UI's Jobs were candidates
    assert connects(cluster.policies, ui, router, ROUTER_UI_PORT, cluster.namespaces)
    assert not [p for p in others if connects(cluster.policies, p, router, ROUTER_UI_PORT, cluster.namespaces)]
    assert not connects(cluster.policies, ui, router, ROUTER_PORT, cluster.namespaces)
    # the keyed listener still admits the namespaces named (with the key), the listener of the Gateways theirs
    assert connects(cluster.policies, Pod("apps", {}), router, ROUTER_PORT, cluster.namespaces)
    assert not connects(cluster.policies, Pod("apps", {}), router, ROUTER_UI_PORT, cluster.namespaces)
