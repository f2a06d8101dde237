"""The four gaps the stranger's pull requests left in the PR check (docs/decisions.md, "A stranger's pull requests
through the PR check", Left; fixed in "The PR check's four left lines"): each stack edit planned on the stack and
with the edit, and judged by the check's command line as the workflow runs it."""
import copy

from tests.conftest import plan_for
from tests.offline.plan_diff_cli import check, plan_document

SMALL_MODEL = {"llmd": {"model": "Qwen/Qwen3-0.6B"}}
NEW_INTERNAL_IP = {"gateway": {"internalIp": "10.40.15.240"}}
PRIVATE_VAULT = {"keyVault": {"publicNetworkAccess": False}}
GPU_ZONE = {"gpu": {"zones": ["1"]}}
CPU_POOL_PODS = {"cluster": {"workloadPool": {"maxPods": 60}}}
SYSTEM_POOL_PODS = {"cluster": {"systemPool": {"maxPods": 50}}}
TWO_ZONES = {"cluster": {"zones": ["1", "2"]}}


def _checks(out: str, name: str) -> str:
    """The check line of the resource named `name` (its URN's last part)."""
    (line,) = [x for x in out.splitlines() if x.startswith("- Check before merging:") and f"::{name}`" in x]
    return line


def _refusals(out: str) -> dict[str, str]:
    """Each blocked resource's name -> its refusal line."""
    return {x.split("`", 2)[1].rsplit("::", 1)[-1]: x for x in out.splitlines() if x.startswith("- :x:")}


def test_a_new_llmd_model_says_clients_of_the_old_served_name_get_404s(tmp_path):
    """`llmd.model` Qwen3-8B -> Qwen3-0.6B read as the vLLM Deployment rolling and two selectors updated: vLLM
    answers only `--served-model-name` (vllm `engine/serving.py` `_check_model`: 404 "The model ... does not exist."),
    which LlmdStack takes from the model, and the picker forwards the client's `model` as sent (llm-d-router v0.10.0
    `director.go`). The line names both names, the key, and the stack output that gives the new name."""
    code, out = check(tmp_path, plan_document(plan_for("llmd")), plan_document(plan_for("llmd", SMALL_MODEL)))
    line = _checks(out, "llmd-vllm")
    assert code == 0
    assert "vLLM serves `qwen3-0.6b` instead of `qwen3-8b` (stack key `llmd.model`" in line, line
    assert "vLLM's 404" in line and "selects no pod until that release's upgrade lands" in line
    assert "`pulumi stack output llmdModel`" in line


def test_a_vllm_deployment_keeping_its_served_name_has_no_such_line(tmp_path):
    """Another tensor-parallel size or context rolls vLLM too, under the same name: no line. Nor does a vLLM
    Deployment of another program naming its model by `--model`, until that name changes (vLLM then serves the model
    under its own id): a line without LlmdStack's key."""
    base = plan_document(plan_for("llmd"))
    same = copy.deepcopy(base)
    vllm = next(u for u in same if u.endswith("::llmd-vllm"))
    container = same[vllm]["inputs"]["spec"]["template"]["spec"]["containers"][0]
    container["args"] = [a if a != "40960" else "32768" for a in container["args"]]
    code, out = check(tmp_path, base, same)
    assert code == 0 and "llmd-vllm" in out and "vLLM serves" not in out
    # a stranger's vLLM under their own component: no `--served-model-name`, so the model id is the name
    mine = copy.deepcopy(base)
    urn = vllm.replace("llmplatform:index:LlmdStack$", "acme:index:Models$")
    mine = {urn if u == vllm else u: r for u, r in mine.items()}
    mine[urn]["urn"] = urn
    spec = mine[urn]["inputs"]["spec"]["template"]["spec"]["containers"][0]
    spec["args"] = ["serve", "--model", "Qwen/Qwen3-8B", "--port", "8000"]
    other = copy.deepcopy(mine)
    other[urn]["inputs"]["spec"]["template"]["spec"]["containers"][0]["args"][2] = "Qwen/Qwen3-0.6B"
    code, out = check(tmp_path, mine, other)
    line = _checks(out, "llmd-vllm")
    assert "vLLM serves `Qwen/Qwen3-0.6B` instead of `Qwen/Qwen3-8B`: " in line and "stack key" not in line, line
    assert "mixed answers during the rolling update" in line


def test_a_new_internal_ip_says_the_old_address_stops_answering(tmp_path, prod):
    """`gateway.internalIp` read as one quiet update of the internal Gateway's annotation. Istio puts it on the
    Service it generates, and cloud-provider-azure (v1.34.13 `isFrontendIPChanged`, `reconcileFrontendIPConfigs`)
    drops the frontend at the old address and adds one at the new address in one load-balancer update."""
    code, out = check(tmp_path, plan_document(prod), plan_document(plan_for("prod", NEW_INTERNAL_IP)))
    line = _checks(out, "gateway-internal")
    assert code == 0
    assert 'address "10.40.15.250" -> "10.40.15.240" (stack key `gateway.internalIp`)' in line, line
    assert "nothing answers at the old address" in line and "Disruptive" in line
    assert "`gatewayInternalAddress`" in line and "kubectl get gateway -n llmp-prod-gateway internal-gateway" in line
    assert "gateway-external" not in "".join(x for x in out.splitlines() if x.startswith("- Check"))


def test_an_internal_address_left_to_azure_keeps_the_one_it_has(tmp_path, prod):
    """An annotation dropped leaves Azure's frontend where it is (`isFrontendIPChanged` is false without an asked
    address): no line; one added where Azure picked moves it, said so."""
    base = plan_document(prod)
    gateway = next(u for u in base if u.endswith("::gateway-internal"))
    picked = copy.deepcopy(base)
    del picked[gateway]["inputs"]["spec"]["infrastructure"]["annotations"][
        "service.beta.kubernetes.io/azure-load-balancer-ipv4"]
    code, out = check(tmp_path, base, picked)
    assert code == 0 and "gateway-internal" in out and "load balancer's address" not in out
    code, out = check(tmp_path, picked, base)
    assert 'the address Azure picked -> "10.40.15.250"' in _checks(out, "gateway-internal")


def test_a_pool_refused_in_place_names_the_key_of_that_pool(tmp_path, prod):
    """A GPU pool's refusal named `gpu.poolName, cluster.workloadPool.name` (and the setting's two keys): the rules
    are per Azure type and every pool the kit makes is an AgentPool (or, the system pool, the cluster's inline
    profile). Each now names its own: the GPU pools theirs, the CPU pool its own, the system pool its own."""
    base = plan_document(prod)
    code, out = check(tmp_path, base, plan_document(plan_for("prod", GPU_ZONE)))
    refused = _refusals(out)
    assert code == 1 and set(refused) == {"gpu-gpu", "gpu-gpuod"}, refused
    for line in refused.values():
        assert "AKS cannot change zones (gpu.zones)" in line and "give the pool a new name (gpu.poolName)" in line
        assert "cluster.workloadPool" not in line and "cluster.zones" not in line
    code, out = check(tmp_path, base, plan_document(plan_for("prod", CPU_POOL_PODS)))
    line = _refusals(out)["platform-cpu"]
    assert "(cluster.workloadPool.maxPods)" in line and "new name (cluster.workloadPool.name)" in line, line
    assert "gpu." not in line
    code, out = check(tmp_path, base, plan_document(plan_for("prod", SYSTEM_POOL_PODS)))
    line = _refusals(out)["platform-aks"]
    assert "(cluster.systemPool.maxPods)" in line and "gpu." not in line and "workloadPool" not in line, line


def test_gpu_pools_following_the_cluster_zones_name_cluster_zones(tmp_path, prod):
    """prod's GPU pools take the cluster's zones (no gpu.zones): `cluster.zones` moves them and the CPU pool alike,
    and their refusal says so."""
    code, out = check(tmp_path, plan_document(prod), plan_document(plan_for("prod", TWO_ZONES)))
    refused = _refusals(out)
    assert code == 1
    assert "zones (cluster.zones)" in refused["platform-cpu"]
    for name in ("gpu-gpu", "gpu-gpuod"):
        assert "zones (cluster.zones, which the GPU pools take while gpu.zones is unset)" in refused[name]
        assert "new name (gpu.poolName)" in refused[name]


def test_a_vault_closed_in_the_run_creating_its_endpoint_names_the_window_and_the_targeted_run(tmp_path, dev):
    """dev with `keyVault.publicNetworkAccess: false`: the vault's update closes it while its private endpoint, made
    from the vault's id, is created after it with its DNS: pods mounting its secrets in between cannot. The line
    names the readers and the targeted run that creates the endpoint, its zone, zone group and link first."""
    new = plan_document(plan_for("dev", PRIVATE_VAULT))
    code, out = check(tmp_path, plan_document(dev), new)
    line = _checks(out, "secrets-vault")
    assert code == 0
    assert "closed to public access (stack key `keyVault.publicNetworkAccess`)" in line, line
    assert "public network access disabled overrides its firewall's rules" in line
    assert "`router`" in line and "`open-webui`" in line and "Secrets Store CSI driver" in line
    targets = [u for u in new if u.rsplit("::", 1)[-1] in ("secrets-pe", "secrets-pe-dns", "secrets-dns",
                                                           "secrets-dns-link")]
    assert len(targets) == 4 and all(f"--target 'urn:pulumi:dev::aks-llm-platform::" in line for _ in targets)
    for name in ("PrivateEndpoint::secrets-pe'", "PrivateDnsZoneGroup::secrets-pe-dns'",
                 "PrivateZone::secrets-dns'", "VirtualNetworkLink::secrets-dns-link'"):
        assert name in line, name
    assert "then run `pulumi up`" in line


def test_a_vault_closed_whose_endpoint_exists_or_waits_has_no_such_line(tmp_path, dev, prod):
    """No window where the endpoint is already there (prod's vault, private from the start, with its firewall edited
    to deny by default with no rule: closed either way), nor where the vault's update waits for the endpoint and its
    DNS (a program that makes the endpoint from the vault's name and orders the vault after it)."""
    base = plan_document(prod)
    edited = copy.deepcopy(base)
    vault = next(u for u in edited if u.endswith("::secrets-vault"))
    edited[vault]["inputs"]["properties"]["networkAcls"]["virtualNetworkRules"] = []
    code, out = check(tmp_path, base, edited)
    assert "secrets-vault" in out and "closed to public access" not in out
    base, new = plan_document(dev), copy.deepcopy(plan_document(plan_for("dev", PRIVATE_VAULT)))
    vault = next(u for u in new if u.endswith("::secrets-vault"))
    endpoint = next(u for u in new if u.endswith("::secrets-pe"))
    new[endpoint]["dependencies"].remove(vault)
    new[vault]["dependencies"] += [u for u in new if u.rsplit("::", 1)[-1] in ("secrets-pe-dns", "secrets-dns-link")]
    code, out = check(tmp_path, base, new)
    assert "secrets-vault" in out and "closed to public access" not in out
