"""What the pinned llm-d picker, vLLM and istiod do with the llm-d stack, read from their sources (tests/upstream):
the picker refuses at start an unknown flag, a deprecated metric flag, an unknown field anywhere in its
EndpointPickerConfig or in a plugin's parameters, and an unregistered feature gate; it scores on vLLM metrics it finds
by name; istiod serves an InferencePool backend only with its flag on and only of the group/version it watches.
A mock accepts all of these: each test here reads the vendored upstream facts (tests/upstream/SOURCES.md)."""

import csv
from collections import defaultdict
from typing import Any

import pytest
import yaml
from llmplatform.llmd_specs import epp_plugins
from llmplatform.pd_specs import pd_plugins

from tests.components.test_container_settings import settings_list
from tests.components.test_llmd_stack import rendered_inference_pool
from tests.conftest import upstream_dir, variant
from tests.metric_catalog import extract_list

LLMD_VARIANTS = ("llmd", "llmd-pd")
NS = "llm-d"
RELEASE = "llmd"


def rows(*path: str) -> list[list[str]]:
    text = (upstream_dir().joinpath(*path)).read_text().splitlines()
    return list(csv.reader((line for line in text if line and not line.startswith("#")), delimiter="\t"))


def router_release(plan) -> Any:
    [release] = [r for r in plan.helm_releases() if r.inputs["chart"].endswith("llm-d-router-gateway")]
    return release


def picker_config(plan) -> dict[str, Any]:
    epp = router_release(plan).inputs["values"]["router"]["epp"]
    return yaml.safe_load(epp["pluginsCustomConfig"][epp["pluginsConfigFile"]])


# ---- the picker's flags ------------------------------------------------------------------------------------------

def rendered_epp_args(release: str, namespace: str, values: dict[str, Any]) -> list[str]:
    """The EPP container's args the chart renders from our values: a transcription of routerlib's
    templates/_deployment.yaml (llm-d/llm-d-router v0.10.0, pool mode, no GKE preferred backends, no agentgateway
    proxy), flags in `router.epp.flags` rendered `--key=value` in key order as Go templates range over a map."""
    router = values["router"]
    epp = router["epp"]
    assert router["inferencePool"].get("create", True) is not False, "transcribed for pool mode only"
    args = ["--pool-name", release, "--pool-namespace", namespace, "--pool-group", "inference.networking.k8s.io",
            "--zap-encoder", "json", "--config-file", f"/config/{epp.get('pluginsConfigFile', 'default-plugins.yaml')}"]
    if int(epp.get("replicas", 1)) > 1:
        args.append("--ha-enable-leader-election")
    args += ["--grpc-health-port", str(epp.get("grpcHealthPort", 9003))]
    args += [f"--{k}={v}" for k, v in sorted((epp.get("flags") or {}).items())]
    args.append("--tracing=true" if router.get("tracing", {}).get("enabled") else "--tracing=false")
    if not router.get("monitoring", {}).get("prometheus", {}).get("auth", {}).get("enabled", True):
        args.append("--metrics-endpoint-auth=false")
    return args


def unknown_flags(args: list[str]) -> list[str]:
    known = settings_list("llm-d-epp").names
    return [a for a in args if a.startswith("-") and a.split("=", 1)[0] not in known]


@pytest.mark.parametrize("name", LLMD_VARIANTS)
def test_every_flag_the_chart_passes_the_picker_from_our_values_is_one_the_pinned_picker_defines(name):
    values = router_release(variant(name)).inputs["values"]
    args = rendered_epp_args(RELEASE, NS, values)
    assert "--ha-enable-leader-election" in args and "--metrics-endpoint-auth=false" in args  # two replicas, no auth
    assert not unknown_flags(args), (
        f"{unknown_flags(args)}: the picker exits on a flag it does not define, or on a deprecated metric flag "
        f"(tests/upstream/settings/llm-d-epp.txt)")


def test_an_unknown_or_deprecated_picker_flag_is_caught():
    values = router_release(variant("llmd")).inputs["values"]
    for flag in ("verbosity", "kv-cache-usage-percentage-metric"):  # a misspelling; refused by Options.Validate
        planted = {**values, "router": {**values["router"], "epp": {**values["router"]["epp"], "flags": {flag: 1}}}}
        assert unknown_flags(rendered_epp_args(RELEASE, NS, planted)) == [f"--{flag}=1"]


# ---- the picker's configuration, decoded strictly -----------------------------------------------------------------

def config_schema() -> tuple[set[str], set[str], dict[str, str], dict[str, dict[str, str]]]:
    """(apiVersions, feature gates, plugin type -> parameters struct, struct -> {json field: Go type})."""
    api_versions, gates, plugins = set(), set(), {}
    fields: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows("recipes", "llm-d-router-epp-config-fields.tsv"):
        if row[0] == "apiversion":
            api_versions.add(row[1])
        elif row[0] == "featuregate":
            gates.add(row[1])
        elif row[0] == "plugin":
            plugins[row[1]] = row[2]
        elif row[0] == "field":
            fields[row[1]][row[2]] = row[3]
    return api_versions, gates, plugins, fields


def strict_problems(config: dict[str, Any]) -> list[str]:
    """What the pinned picker's strict decoding refuses in an EndpointPickerConfig: an unknown field at any depth of
    the config or of a plugin's parameters, an apiVersion or feature gate it does not register, parameters for a
    plugin whose decoding the extract does not cover (vendor it before relying on it)."""
    api_versions, gates, plugin_params, fields = config_schema()
    found: list[str] = []

    def walk(value: Any, go_type: str, where: str) -> None:
        base = go_type.lstrip("*[]")
        if base not in fields:  # a scalar, a Duration, a Quantity, raw parameters
            return
        if go_type.startswith(("[]", "*[]")):
            for i, item in enumerate(value or []):
                walk(item, base, f"{where}[{i}]")
            return
        if not isinstance(value, dict):
            found.append(f"{where}: {value!r} is not an object ({base})")
            return
        for key, item in value.items():
            if key not in fields[base]:
                found.append(f"{where}.{key}: no such field in {base}")
            else:
                walk(item, fields[base][key], f"{where}.{key}")

    walk(config, "EndpointPickerConfig", "config")
    if config.get("apiVersion") not in api_versions:
        found.append(f"config.apiVersion {config.get('apiVersion')!r} is not one of {sorted(api_versions)}")
    found += [f"featureGates: {g!r} is not registered" for g in config.get("featureGates") or [] if g not in gates]
    for plugin in config.get("plugins") or []:
        if plugin.get("parameters") is None:
            continue
        struct = plugin_params.get(plugin["type"])
        if struct is None:
            found.append(f"plugin {plugin['type']}: parameters whose decoding is not vendored")
        else:
            walk(plugin["parameters"], struct, f"plugin {plugin['type']}.parameters")
    return found


@pytest.mark.parametrize("name", LLMD_VARIANTS)
def test_the_picker_config_we_write_decodes_strictly_in_the_pinned_picker(name):
    assert not strict_problems(picker_config(variant(name)))


def test_flow_control_and_the_pd_profiles_decode_strictly_whatever_the_inputs():
    # the flow-control block is ours alone (no upstream recipe to compare it with); the P/D profiles with any context
    for config in (epp_plugins(4096), epp_plugins(4096, 600), pd_plugins(131072)):
        assert not strict_problems(yaml.safe_load(config))
    assert yaml.safe_load(epp_plugins(4096, 600))["flowControl"] == {"defaultRequestTTL": "600s"}


def test_the_strict_decoding_check_catches_a_misplaced_field_an_unknown_gate_and_a_bad_parameter():
    config = yaml.safe_load(epp_plugins(4096, 600))
    config["flowControl"]["requestTTL"] = "600s"
    config["featureGates"].append("flowcontrol")
    config["plugins"][2]["parameters"]["maxPrefixTokens"] = 4096
    config["schedulingProfiles"][0]["plugins"][0]["weigth"] = 1
    assert strict_problems(config) == [
        "config.schedulingProfiles[0].plugins[0].weigth: no such field in SchedulingPlugin",
        "config.flowControl.requestTTL: no such field in FlowControlConfig",
        "featureGates: 'flowcontrol' is not registered",
        "plugin approx-prefix-cache-producer.parameters.maxPrefixTokens: no such field in config"]
    pd = yaml.safe_load(pd_plugins(4096))
    handler = next(p for p in pd["plugins"] if p["type"] == "disagg-profile-handler")
    handler["parameters"]["deciders"]["prefil"] = handler["parameters"]["deciders"].pop("prefill")
    assert strict_problems(pd) == [
        "plugin disagg-profile-handler.parameters.deciders.prefil: no such field in disaggDecidersParameters"]


# ---- the vLLM metrics the picker scores on ------------------------------------------------------------------------

def vllm_series() -> dict[str, frozenset[str]]:
    """series -> labels, of the pinned vLLM (its metrics list and its cache-config info gauge)."""
    return {**extract_list("vllm").series, **extract_list("vllm-cache-config-info").series}


@pytest.mark.parametrize("name", LLMD_VARIANTS)
def test_the_metrics_the_picker_reads_from_our_vllm_pods_are_ones_the_pinned_vllm_exposes(name):
    plan = variant(name)
    extract = rows("recipes", "llm-d-router-engine-metrics.tsv")
    [engine_label] = [r[1] for r in extract if r[0] == "engine-label"]
    [default_engine] = [r[1] for r in extract if r[0] == "default-engine"]
    values = router_release(plan).inputs["values"]["router"]
    selector = values["modelServers"]["matchLabels"]
    pods = [r.inputs["spec"]["template"]["metadata"]["labels"] for r in plan.kubernetes_objects()
            if r.inputs["kind"] == "Deployment" and r.inputs["metadata"].get("namespace") == NS
            and selector.items() <= r.inputs["spec"]["template"]["metadata"]["labels"].items()]
    assert pods, "the pool selects our vLLM pods"
    # every pool pod is read as vLLM: no engine label, or vllm (the chart's modelServers.type names the same)
    engines = {labels.get(engine_label, default_engine) for labels in pods}
    assert engines == {values["modelServers"]["type"]} == {"vllm"}
    exposed = vllm_series()
    wanted = [r[3] for r in extract if r[0] == "metric" and r[1] == "vllm"]
    assert len(wanted) == 5 and not [m for m in wanted if m not in exposed], (
        f"{[m for m in wanted if m not in exposed]}: the picker would score every pod as idle and empty")
    info = [r[3] for r in extract if r[0] == "metric" and r[1] == "vllm" and r[3].endswith("_info")]
    labels = {r[2] for r in extract if r[0] == "info-label" and r[1] == "vllm"}
    assert labels <= exposed["vllm:cache_config_info"] and "vllm:cache_config_info" in info


def test_the_metric_check_sees_a_renamed_vllm_metric():
    assert "vllm:gpu_cache_usage_perc" not in vllm_series()  # vLLM V0's name, renamed kv_cache_usage_perc
    assert "vllm:kv_cache_usage_perc" in vllm_series()


# ---- istiod and the InferencePool ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", LLMD_VARIANTS)
def test_istiod_serves_our_pool_route_the_flag_it_reads_is_on_and_it_watches_the_pools_version(name):
    plan = variant(name)
    extract = rows("recipes", "istio-inference-extension.tsv")
    [(env, on)] = [(r[1], r[2]) for r in extract if r[0] == "env"]
    [(watched, kind)] = [(r[1], r[2]) for r in extract if r[0] == "watches"]
    istiod = plan.one("kubernetes:helm.sh/v3:Release", "gateway-istiod")
    assert istiod.inputs["values"]["env"].get(env) == on, f"istiod refuses every InferencePool backend without {env}"
    pool = rendered_inference_pool(RELEASE, NS, router_release(plan).inputs["values"])
    assert (pool["apiVersion"], pool["kind"]) == (watched, kind), "the chart's pool is of a version istiod ignores"
    group, version = watched.split("/")
    [route] = [r.inputs for r in plan.kubernetes_objects() if r.inputs["kind"] == "HTTPRoute"
               and r.inputs["metadata"]["name"] == "llmd-pool"]
    refs = [ref for rule in route["spec"]["rules"] for ref in rule["backendRefs"]]
    assert refs and all((ref["group"], ref["kind"]) == (group, kind) for ref in refs)
    # the CRD bundle the platform installs (the pinned inference extension) serves that version
    crd = yaml.safe_load((upstream_dir() / "crds" / group / f"{kind}.yaml").read_text())
    assert crd["spec"]["group"] == group and version in [v["name"] for v in crd["spec"]["versions"] if v["served"]]


# ---- what the llm-d gate lets through to vLLM, and what Front Door's probe asks ----------------------------------

# vLLM's OpenAI-, Anthropic- and pooling-API modules (vllm/entrypoints/{openai,anthropic,pooling}/): inference. The
# rest of vllm/entrypoints/serve/ (admin, debugging, tools), sagemaker/ and FastAPI's docs are not.
VLLM_API_MODULES = ("vllm/entrypoints/openai/", "vllm/entrypoints/anthropic/", "vllm/entrypoints/pooling/")
MODEL_LIST = "/v1/models"  # GET, no body: the one listing route clients (Open-WebUI, the tools) call


def vllm_routes() -> list[tuple[str, str, str, str]]:
    """vLLM 0.19.1's route table: (method, path, module, condition)."""
    return [(r[0], r[1], r[2], r[3]) for r in rows("vllm", "routes.tsv")]


def picker_parses(path: str) -> bool:
    """Whether the pinned picker's default parsers claim a request path (a transcription of
    pkg/epp/framework/common/request/headers.go MatchPathSuffix over the claimed suffixes)."""
    suffixes = [r[2] for r in rows("recipes", "llm-d-router-request-paths.tsv") if r[0] == "parser"]
    return any(path.rstrip("/").endswith(suffix.strip("/")) for suffix in suffixes)


def llmd_gate_conf(plan) -> str:
    from tests.components.test_api_gate import router_conf
    return router_conf(plan, NS)


def gate_forwards(conf: str, path: str) -> bool:
    from tests.components.test_api_gate import nginx_location_for
    uri = "/".join("x1" if part.startswith("{") else part for part in path.split("/"))
    location = nginx_location_for(conf, uri)
    return location is not None and "proxy_pass" in location[2]


@pytest.mark.parametrize("name", LLMD_VARIANTS)
def test_the_llmd_gate_forwards_vllms_inference_routes_the_picker_schedules_and_nothing_else(name):
    """A request without a body reaches a vLLM pod through the picker whatever its path (the `bodiless` row), so
    the gate, not the picker, keeps vLLM's administration routes (`/metrics`, `/scale_elastic_ep`, with
    VLLM_SERVER_DEV_MODE `/sleep`, `/pause`, `/collective_rpc`, ...) from API-key holders: it forwards vLLM's
    inference routes the picker can schedule (a parser claims the path) and the model list, and refuses the rest."""
    conf = llmd_gate_conf(variant(name))
    routes = vllm_routes()
    inference = {path for method, path, module, _ in routes
                 if method == "POST" and module.startswith(VLLM_API_MODULES) and picker_parses(path)}
    assert {"/v1/chat/completions", "/v1/completions", "/v1/messages"} <= inference
    assert ("GET", MODEL_LIST) in {(method, path) for method, path, _, _ in routes}
    wanted = inference | {MODEL_LIST}
    through = {path for _, path, _, _ in routes if gate_forwards(conf, path)}
    assert through == wanted, (sorted(through - wanted), sorted(wanted - through))
    admin = {path for _, path, module, _ in routes if module.startswith("vllm/entrypoints/serve/")}
    assert {"/metrics", "/scale_elastic_ep", "/sleep", "/collective_rpc"} <= admin and not admin & through
    from tests.components.test_api_gate import nginx_location_for
    refused = nginx_location_for(conf, "/scale_elastic_ep")[2]
    assert "return 401" in refused and "return 403" in refused  # the key is checked before the refusal


# the paths Open-WebUI 0.11.0 calls on its OpenAI connection (the PyPI wheel open_webui-0.11.0-py3-none-any.whl,
# open_webui/routers/openai.py: get_models_request `{url}/models`, generate_chat_completion `{url}/chat/completions` or
# `{url}/responses`, generate_openai_embeddings `{url}/embeddings`; its /audio/speech only on api.openai.com's)
WEBUI_OPENAI_CALLS = {"/models", "/chat/completions", "/responses", "/embeddings"}


def test_the_llmd_ui_listener_forwards_what_open_webui_calls_and_nothing_else():
    """The llmd stack's UI listener (no key: llm-d's Open-WebUI pods alone reach it) forwards, of vLLM's routes,
    exactly those Open-WebUI calls under its base URL (the gate's /v1), each forwarded by the keyed listener too;
    every other inference route of the API and vLLM's administration are refused there."""
    from llmplatform.inference_specs import ROUTER_PORT, ROUTER_UI_PORT
    from llmplatform.llmd_specs import OPEN_WEBUI_OPENAI_ROUTES
    from tests.components.test_api_gate import server_block
    conf = llmd_gate_conf(variant("llmd"))
    api, ui = server_block(conf, ROUTER_PORT), server_block(conf, ROUTER_UI_PORT)
    routes = {path for _, path, _, _ in vllm_routes()}
    wanted = {f"/v1{call}" for call in WEBUI_OPENAI_CALLS}
    assert set(OPEN_WEBUI_OPENAI_ROUTES) == wanted and wanted <= routes
    through = {path for path in routes if gate_forwards(ui, path)}
    assert through == wanted, (sorted(through - wanted), sorted(wanted - through))
    assert all(gate_forwards(api, path) for path in through)
    assert not any(gate_forwards(ui, path) for path in ("/", "/healthz/model", "/v1/completions", "/v1/messages"))


def test_the_route_check_sees_an_open_llmd_gate():
    """A gate forwarding every path (the llm-d gate before its allow-list) lets vLLM's administration through."""
    from llmplatform.inference_specs import router_nginx_conf
    conf = router_nginx_conf("llmd-gateway-istio:80", 10, 20, True, ["10.244.0.0/16"], 600)
    assert all(gate_forwards(conf, path) for path in ("/metrics", "/scale_elastic_ep", "/sleep", "/invocations"))


@pytest.mark.parametrize("name", LLMD_VARIANTS)
def test_front_doors_llmd_probe_fails_exactly_when_no_vllm_pod_is_ready(name):
    """The llm-d origin group probes the gate's model-health location: a GET without key, limit or body to the pool
    gateway's /v1/models. The picker sends a bodiless request to a random Ready pod of the pool, whatever the path,
    and answers 500 itself when no pod is Ready (only Ready pods enter its datastore); every vLLM pod registers
    GET /v1/models. So the probe is a 200 while one replica can serve and not a 200 when none can, and Front Door
    fails the region over. The gate's own /healthz, which llm-d probed before, is nginx's 200 either way."""
    from llmplatform.front_door import PROBE_PATHS
    from llmplatform.inference_specs import MODEL_HEALTH_UPSTREAM_PATH
    from tests.components.test_api_gate import nginx_location_for
    conf = llmd_gate_conf(variant(name))
    modifier, _, body = nginx_location_for(conf, PROBE_PATHS["llmd"])
    assert modifier == "=" and f"proxy_pass http://model_server{MODEL_HEALTH_UPSTREAM_PATH};" in body, body
    assert "return 401" not in body and "limit_req" not in body and "limit_except GET" in body
    assert "server llmd-gateway-istio:80;" in conf  # through the pool gateway, so through the picker
    assert ("GET", MODEL_HEALTH_UPSTREAM_PATH, "always") in {(m, p, c) for m, p, _, c in vllm_routes()}
    [(where, none_ready)] = [(r[1], r[2]) for r in rows("recipes", "llm-d-router-request-paths.tsv")
                             if r[0] == "bodiless"]
    assert "Ready pod" in where and none_ready != "200"
