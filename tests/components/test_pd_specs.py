"""Prefill/decode disaggregation (components/llmplatform/pd_specs.py, in LlmdStack; the llmd-pd variant: llmd on an ND96
H100 pool with llmd.prefillDecode, its images from a mirror registry): every expectation comes from the vendored upstream files (llm-d-router v0.10.0's
P/D environment and EPP registry, the Network Operator v26.4.1 chart, CRD and release, containerd/nri's
ulimit-adjuster, llm-d's AKS guide)."""

import csv

import pytest
import yaml
from llmplatform.gpu_node_pool import gpu_operator_values
from llmplatform.images import mirrored, mirrored_repository
from llmplatform.pd_specs import memlock_annotation, nic_cluster_policy_spec, pd_plugins, sidecar_args

from offline import runner as offline

from tests.conftest import MIRROR, upstream_dir, variant
from tests.validation import chart_values, unknown_values_keys, validate_custom


NS = "llm-d"
REGISTRY = MIRROR["imageRegistry"]  # the variant pulls every image from this mirror


@pytest.fixture(scope="module")
def pd():
    return variant("llmd-pd")


def objects(plan, kind, namespace=NS):
    return {r.inputs["metadata"]["name"]: r for r in plan.kubernetes_objects()
            if r.inputs["kind"] == kind and r.inputs["metadata"].get("namespace") == namespace}


def recipe(name):
    return yaml.safe_load((upstream_dir() / "recipes" / name).read_text())


def epp_plugin_types() -> dict[str, str]:
    """type -> registered | deprecated, as llm-d-router v0.10.0's runner registers them (vendored extract)."""
    rows = (upstream_dir() / "recipes" / "llm-d-router-epp-plugin-types.tsv").read_text().splitlines()
    return {row[0]: row[1] for row in csv.reader((r for r in rows if not r.startswith("#")), delimiter="\t")}


def test_prefill_and_decode_are_separate_deployments_with_their_own_replicas_and_gpus(pd):
    deployments = objects(pd, "Deployment")
    assert "vllm" not in deployments and {"vllm-prefill", "vllm-decode"} <= set(deployments)
    config = offline.stack_config("llmd")["aks-llm-platform:llmd"]
    for name, role in (("vllm-prefill", "prefill"), ("vllm-decode", "decode")):
        spec = deployments[name].inputs["spec"]
        pod = spec["template"]["spec"]
        vllm = next(c for c in pod["containers"] if c["name"] == "vllm")
        labels = spec["template"]["metadata"]["labels"]
        # the role label prefill-filter / decode-filter read (bylabel/roles.go, v0.10.0), and the pool's selector
        assert labels["llm-d.ai/role"] == role and labels["llm-d.ai/inferenceServing"] == "true"
        tp = int(vllm["args"][vllm["args"].index("--tensor-parallel-size") + 1])
        assert vllm["resources"]["limits"]["nvidia.com/gpu"] == str(tp)
        # one rdma/ib per pod whatever its GPUs (llm-d's AKS guide, "Verifying Node Resources")
        assert vllm["resources"]["requests"]["rdma/ib"] == vllm["resources"]["limits"]["rdma/ib"] == "1"
        assert "--kv-transfer-config" in vllm["args"]
        assert yaml.safe_load(vllm["args"][vllm["args"].index("--kv-transfer-config") + 1])["kv_connector"] == \
            "NixlConnector"
        env = {e["name"]: e for e in vllm["env"]}
        assert env["VLLM_NIXL_SIDE_CHANNEL_HOST"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
        assert vllm["securityContext"]["capabilities"]["add"] == ["IPC_LOCK"]
    assert deployments["vllm-decode"].inputs["spec"]["replicas"] == config.get("replicas", 1)
    # the InferencePool selects both (it lists the pool's endpoints; the EPP's filters split them by role)
    [release] = [r for r in pd.helm_releases() if r.inputs["chart"].endswith("llm-d-router-gateway")]
    selector = release.inputs["values"]["router"]["modelServers"]["matchLabels"]
    for dep in deployments.values():
        if dep.inputs["metadata"]["name"].startswith("vllm-"):
            assert selector.items() <= dep.inputs["spec"]["template"]["metadata"]["labels"].items()


def test_decode_runs_the_routing_sidecar_as_upstreams_pd_environment_does(pd):
    upstream = recipe("llm-d-router-vllm-decode-deployment.yaml")["spec"]["template"]["spec"]
    patch = recipe("llm-d-router-pd-patch-decode.yaml")["spec"]["template"]["spec"]["initContainers"][0]
    [theirs] = upstream["initContainers"]
    pod = objects(pd, "Deployment")["vllm-decode"].inputs["spec"]["template"]["spec"]
    [ours] = pod["initContainers"]
    # a native sidecar (an init container restarted Always), on the port the pool targets
    assert ours["name"] == theirs["name"] == patch["name"] and ours["restartPolicy"] == theirs["restartPolicy"]
    assert ours["image"] == mirrored("ghcr.io/llm-d/llm-d-router-disagg-sidecar:v0.10.0", REGISTRY)
    # upstream's P/D args, its environment variables filled in: our connector, no data parallelism, no mooncake
    expected = [a.replace("${CONNECTOR_TYPE}", "nixlv2") for a in patch["args"]
                if "${VLLM_DATA_PARALLEL_SIZE}" not in a and "mooncake" not in a]
    assert ours["args"] == expected == sidecar_args()
    their_port = int(next(a for a in patch["args"] if a.startswith("--port=")).split("=")[1])
    assert [p["containerPort"] for p in ours["ports"]] == [their_port]
    [release] = [r for r in pd.helm_releases() if r.inputs["chart"].endswith("llm-d-router-gateway")]
    assert release.inputs["values"]["router"]["modelServers"]["targetPorts"] == [{"number": their_port}]
    # vLLM behind it on upstream's decode port (the sidecar's default model-server port), probed there
    vllm = next(c for c in pod["containers"] if c["name"] == "vllm")
    their_vllm = next(c for c in upstream["containers"] if c["name"] == "vllm")
    their_vllm_port = their_vllm["ports"][0]["containerPort"]
    assert vllm["args"][vllm["args"].index("--port") + 1] == str(their_vllm_port)
    assert vllm["readinessProbe"]["httpGet"]["port"] == their_vllm_port
    # prefill has no sidecar: its vLLM takes the pool's port itself
    prefill = objects(pd, "Deployment")["vllm-prefill"].inputs["spec"]["template"]["spec"]
    assert not prefill.get("initContainers")
    assert next(c for c in prefill["containers"] if c["name"] == "vllm")["ports"][0]["containerPort"] == their_port


def test_the_pickers_pd_profiles_are_upstreams_with_plugins_the_pinned_epp_registers(pd):
    [release] = [r for r in pd.helm_releases() if r.inputs["chart"].endswith("llm-d-router-gateway")]
    epp = release.inputs["values"]["router"]["epp"]
    ours = yaml.safe_load(epp["pluginsCustomConfig"][epp["pluginsConfigFile"]])
    theirs = recipe("llm-d-router-pd-epp-config.yaml")
    assert ours["schedulingProfiles"] == theirs["schedulingProfiles"]
    assert [p["type"] for p in ours["plugins"]] == [p["type"] for p in theirs["plugins"]]

    def sized_apart(plugins):  # every parameter upstream's, but the prefix length (sized to vLLM's context below)
        return [{**p, "parameters": {k: v for k, v in p.get("parameters", {}).items()
                                     if k != "maxPrefixTokensToMatch"}} for p in plugins]
    assert sized_apart(ours["plugins"]) == sized_apart(theirs["plugins"])
    assert ours["apiVersion"] == theirs["apiVersion"] and ours["kind"] == theirs["kind"]
    registered = epp_plugin_types()
    assert all(registered.get(p["type"]) == "registered" for p in ours["plugins"]), registered
    # the brief's pd-profile-handler is deprecated at v0.10.0: its successor handles the profiles
    assert registered["pd-profile-handler"] == "deprecated"
    assert "disagg-profile-handler" in [p["type"] for p in ours["plugins"]]
    # prefix matching over the context vLLM accepts (the recipe's 16384 is its own model's)
    decode = objects(pd, "Deployment")["vllm-decode"].inputs["spec"]["template"]["spec"]["containers"][0]["args"]
    [producer] = [p for p in ours["plugins"] if p["type"] == "approx-prefix-cache-producer"]
    assert producer["parameters"]["maxPrefixTokensToMatch"] == int(decode[decode.index("--max-model-len") + 1])
    assert yaml.safe_load(pd_plugins(4096))["plugins"][0]["parameters"]["maxPrefixTokensToMatch"] == 4096


def test_network_operator_is_pinned_and_its_nic_cluster_policy_passes_the_crd(pd):
    release_reg = pd.one("kubernetes:helm.sh/v3:Release", "llmd-network-operator")
    release = release_reg.inputs
    assert release["chart"] == "network-operator" and release["version"] == "26.4.1"
    assert release["namespace"] == "network-operator"
    values = chart_values(upstream_dir() / "charts" / "network-operator")
    assert list(unknown_values_keys(release["values"], values)) == []
    assert values["nfd"]["enabled"] is True and release["values"]["nfd"]["enabled"] is False  # the GPU Operator's
    [policy] = [r for r in pd.kubernetes_objects() if r.inputs["kind"] == "NicClusterPolicy"]
    validate_custom(policy.inputs, upstream_dir() / "crds")
    assert policy.inputs["metadata"]["name"] == "nic-cluster-policy"
    assert release_reg.urn in policy.dependencies  # its CRD comes with the chart
    spec = policy.inputs["spec"]
    # the release's own component versions (hack/release.yaml, v26.4.1)
    components = recipe("network-operator-release.yaml")
    for key, component in (("ofedDriver", "Mofed"), ("rdmaSharedDevicePlugin", "RdmaSharedDevicePlugin")):
        assert {k: spec[key][k] for k in ("image", "repository", "version")} == {
            **{k: components[component][k] for k in ("image", "version")},
            "repository": mirrored_repository(components[component]["repository"], REGISTRY)}
    # the device plugin advertises InfiniBand NICs as rdma/ib, the resource the pods ask for
    [entry] = yaml.safe_load(spec["rdmaSharedDevicePlugin"]["config"])["configList"]
    assert f"{entry['resourcePrefix']}/{entry['resourceName']}" == "rdma/ib"
    assert entry["selectors"]["vendors"] == ["15b3"]
    # on the nodes the GPU Operator's NFD labels for that vendor (PCI class 0207 whitelisted, vendor as the field)
    nfd = chart_values(upstream_dir() / "charts" / "gpu-operator")["node-feature-discovery"]["worker"]["config"]
    pci = nfd["sources"]["pci"]
    assert "0207" in pci["deviceClassWhitelist"] and pci["deviceLabelFields"] == ["vendor"]
    term = spec["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
    assert term["matchExpressions"] == [{"key": "feature.node.kubernetes.io/pci-15b3.present", "operator": "In",
                                         "values": ["true"]}]


def test_nic_cluster_policy_check_catches_a_misplaced_field():
    import jsonschema
    policy = {"apiVersion": "mellanox.com/v1alpha1", "kind": "NicClusterPolicy",
              "metadata": {"name": "nic-cluster-policy"}, "spec": nic_cluster_policy_spec()}
    validate_custom(policy, upstream_dir() / "crds")
    policy["spec"]["rdmaSharedDevicePlugin"]["resourceName"] = "ib"  # belongs in its config, not the CR
    with pytest.raises(jsonschema.ValidationError):
        validate_custom(policy, upstream_dir() / "crds")


def test_gpu_operator_driver_runs_with_rdma_on_the_infiniband_pool(pd):
    operator = pd.one("kubernetes:helm.sh/v3:Release", "platform-k8s-gpu-operator").inputs["values"]
    # without what the mirror adds (the driver's and its manager's repository: tests/components/test_images.py)
    driver = {k: v for k, v in operator["driver"].items() if k not in ("repository", "manager")}
    assert driver == gpu_operator_values([], True)["driver"] == {"enabled": True, "rdma": {"enabled": True}}
    assert variant("llmd").one("kubernetes:helm.sh/v3:Release", "platform-k8s-gpu-operator").inputs["values"]["driver"][
        "rdma"]["enabled"] is False  # an A100 NC size has no InfiniBand


def test_memlock_is_raised_by_nris_ulimit_adjuster_as_upstream_deploys_it(pd):
    theirs = recipe("nri-ulimit-adjuster-daemonset.yaml")["spec"]["template"]["spec"]
    name = recipe("nri-ulimit-adjuster-daemonset.yaml")["metadata"]["name"]
    [ds] = [r.inputs for r in pd.kubernetes_objects() if r.inputs["kind"] == "DaemonSet"
            and r.inputs["metadata"]["name"] == name]
    ours = ds["spec"]["template"]["spec"]
    [container], [their_container] = ours["containers"], theirs["containers"]
    assert container["args"] == their_container["args"]
    assert container["image"] == mirrored("ghcr.io/containerd/nri/plugins/ulimit-adjuster:v0.10.0", REGISTRY)
    assert container["volumeMounts"][0]["mountPath"] == their_container["volumeMounts"][0]["mountPath"]
    assert ours["volumes"][0]["hostPath"] == theirs["volumes"][0]["hostPath"]
    assert ours["priorityClassName"] == theirs["priorityClassName"]
    # the vLLM pods carry the plugin's annotation: RLIMIT_MEMLOCK up to their memory limit (AKS' default: 64 KiB)
    for name in ("vllm-prefill", "vllm-decode"):
        template = objects(pd, "Deployment")[name].inputs["spec"]["template"]
        [limit] = yaml.safe_load(template["metadata"]["annotations"]["ulimits.noderesource.dev/container.vllm"])
        memory = template["spec"]["containers"][0]["resources"]["limits"]["memory"]
        assert limit == {"type": "RLIMIT_MEMLOCK", "soft": int(memory[:-2]) * 2 ** 30,
                         "hard": int(memory[:-2]) * 2 ** 30}
    assert memlock_annotation("x", 1).keys() == {"ulimits.noderesource.dev/container.x"}


def test_only_the_pool_peers_reach_each_other_on_any_port(pd):
    policies = objects(pd, "NetworkPolicy")
    peers = policies["vllm-peers"].inputs["spec"]
    selector = peers["podSelector"]["matchLabels"]
    assert peers["ingress"] == [{"from": [{"podSelector": {"matchLabels": selector}}]}]
    for dep in objects(pd, "Deployment").values():
        labels = dep.inputs["spec"]["template"]["metadata"]["labels"]
        assert (selector.items() <= labels.items()) == dep.inputs["metadata"]["name"].startswith("vllm-")
    assert "vllm-peers" not in objects(variant("llmd"), "NetworkPolicy")


def test_pd_without_infiniband_or_with_the_aks_driver_or_autoscaling_is_refused():
    import llmplatform
    from llmplatform.checks import ComponentInputError
    from tests.components.test_components_alone import GPU, KEDA, REQUIRED, provider_opts
    ib = {**GPU, "gpus_per_node": 8, "gpu_memory_gib": 80, "rdma": True, "driver": "operator"}

    def stack(gpu, **extra):
        return lambda: llmplatform.LlmdStack("pd", {**REQUIRED["LlmdStack"](), "gpu": gpu, "prefill_decode": True,
                                                    **extra}, provider_opts())
    with pytest.raises(ComponentInputError, match=r"prefill_decode=True.*InfiniBand.*Standard_ND96isr_H100_v5"):
        offline.run_function(stack({**ib, "rdma": False}))
    with pytest.raises(ComponentInputError, match=r"input gpu='driver=aks'.*nvidia-peermem"):
        offline.run_function(stack({**ib, "driver": "aks"}))
    with pytest.raises(ComponentInputError, match=r"autoscaling=True"):
        offline.run_function(stack(ib, autoscaling=True, keda=KEDA))
    with pytest.raises(ComponentInputError, match=r"prefill_tensor_parallel_size=9"):
        offline.run_function(stack(ib, prefill_tensor_parallel_size=9))


@pytest.mark.parametrize("sets, fragment", [
    (["llmd.prefillDecode=true"], "llmd.prefillDecode needs an RDMA (InfiniBand) GPU size (Standard_ND96asr_v4"),
    (["llmd.prefillDecode=true", "gpu.vmSize=Standard_ND96isr_H100_v5"], "llmd.prefillDecode needs llmd.autoscaling"),
    (["llmd.prefillDecode=true", "llmd.autoscaling=false", "gpu.vmSize=Standard_ND96isr_H100_v5", "gpu.driver=aks"],
     "llmd.prefillDecode needs gpu.driver 'operator'"),
    (["llmd.prefillDecode=true", "llmd.autoscaling=false", "gpu.vmSize=Standard_ND96isr_H100_v5",
      "llmd.prefillReplicas=9", "llmd.prefillTensorParallelSize=2"], "(19 GPUs) exceed the 2 x 8 GPU(s)"),
])
def test_bad_pd_config_is_refused_before_anything_registers(sets, fragment):
    with pytest.raises(offline.ProgramError) as refused:
        offline.run("llmd", sets=sets)
    assert fragment in str(refused.value) and refused.value.registered == 0


def test_the_stack_files_recipe_is_the_planned_variant():
    """The `--set`s Pulumi.llmd.yaml documents for turning P/D on are exactly what the llmd-pd variant plans."""
    import re
    from tests.conftest import PROJECT_DIR, VARIANTS
    text = (PROJECT_DIR / "Pulumi.llmd.yaml").read_text()
    documented = dict(pair.split("=", 1) for pair in re.findall(r"--set (\S+=\S+)", text))
    stack, overrides = VARIANTS["llmd-pd"]
    planned = {f"{section}.{key}": str(value).lower() if isinstance(value, bool) else str(value)
               for section, values in overrides.items() if section not in ("cluster", "legacyGlobalNames")
               for key, value in values.items()}
    # the recipe, on a mirror, as a new stack's names (conftest.py VARIANTS)
    assert stack == "llmd" and documented == planned and overrides["cluster"] == MIRROR


def test_the_pd_plan_passes_the_whole_policy_pack(pd):
    """IPC_LOCK rides the pack's documented exemption; the sidecar and the NRI plugin add nothing, have requests,
    memory limits and pinned images."""
    from offline import policy_check
    assert [v for v in policy_check.evaluate(pd) if v.mandatory] == []
