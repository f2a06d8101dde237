"""docs/operations.md's day-2 procedures as an operator follows them, against the plans: what a targeted destroy
takes (the engine's closure of dependents), the figures the text gives, the config its examples set, and what the
offline diff says of an edit the text describes."""
from __future__ import annotations

import json
import re
import shlex
from types import SimpleNamespace

import pytest
import yaml

from config.advisories import advisories
from config.loader import parse_config
from config.reader import ConfigError
from llmplatform.gpu_skus import find_gpu_sku
from llmplatform.testing.records import DEPLOYER
from offline import plan, plan_diff
from offline.runner import Plan, Registration

from tests.conftest import PLANNED, PROJECT_DIR, plan_for, planned
from tests.config.test_loader import stack_raw
from tests.offline.plan_diff_cli import check

OPERATIONS = (PROJECT_DIR / "docs" / "operations.md").read_text()
NUMBERS = {2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight"}


def section(title: str) -> str:
    """The text of one `#`-heading of operations.md up to the next heading of any level (code blocks' comment lines
    start with `# ` inside a fence, so headings are told by the fence state)."""
    out, inside, fence = [], False, False
    for line in OPERATIONS.splitlines():
        if line.startswith("```"):
            fence = not fence
        heading = not fence and re.match(r"#+ ", line)
        if heading:
            if inside:
                break
            inside = line.lstrip("#").strip() == title
            continue
        if inside:
            out.append(line)
    assert out, f"no section {title!r} in docs/operations.md"
    return "\n".join(out)


def target_dependents(p: Plan, targets: set[str]) -> list[Registration]:
    """What `pulumi destroy --target ... --target-dependents` deletes: the targets and, transitively, every resource
    depending on one (its dependencies), deleted with one (`deletedWith`), a child of one, or one using it as its
    provider (pulumi/pulumi 1b5949891b pkg/resource/deploy/step_generator.go getTargetDependents:
    `dg.DependingOn(next, targets, true)`, children included; graph/dependency_graph.go `DependingOn`). Without `--target-dependents` the engine refuses to delete a dependent that is not a target
    (GetResourceWillBeDestroyedButWasNotSpecifiedInTargetList in determineAllowedResourcesToDeleteFromTargets)."""
    gone, grew = set(targets), True
    while grew:
        grew = False
        for r in p.resources:
            if r.urn in gone:
                continue
            provider = plan_diff.provider_urn(r.options.get("provider"))
            if gone & set(r.dependencies) or r.parent in gone or provider in gone \
                    or r.options.get("deletedWith") in gone:
                gone.add(r.urn)
                grew = True
    return [r for r in p.resources if r.urn in gone]


def test_the_ui_wipe_destroys_the_database_with_what_depends_on_it_and_nothing_stateful(prod):
    """The wipe's `pulumi destroy --target "$DB"` alone is refused: the bootstrap Job's role assignment and
    SecretProviderClass, both Jobs and the UI's Deployment depend on the database. With `--target-dependents` they
    go and `pulumi up` creates them again, which re-runs the Job that gives the new database to the UI's role."""
    text = section("Wiping Open-WebUI's data only")
    db = next(r for r in prod.resources if r.type == "azure-native:dbforpostgresql:Database")
    others = [r for r in target_dependents(prod, {db.urn}) if r.urn != db.urn]
    assert others, "nothing depends on the database: the text need not name --target-dependents"
    destroys = [line for line in text.splitlines() if line.startswith("pulumi destroy")]
    assert destroys and all("--target-dependents" in line for line in destroys), destroys
    assert f"{NUMBERS[len(others)]} resources depend on the `Database` resource" in " ".join(text.split())
    assert not [r.name for r in others if r.options.get("protect")]
    kinds = {r.type.rsplit(":", 1)[-1] for r in others}
    assert kinds == {"RoleAssignment", "SecretProviderClass", "Job", "Deployment"}, kinds  # no claim, no share
    jobs = {r.name for r in others if r.type.endswith("batch/v1:Job")}
    assert jobs == {"inference-webui-db-bootstrap", "inference-webui-migrate"}
    assert "--target-replace" not in text.split("```")[1]  # the Jobs run again as they are created again


def test_removing_the_in_cluster_layer_takes_the_objects_the_text_counts(dev, prod):
    text = " ".join(section("Removing the in-cluster layer, keeping Azure").split())
    stated = re.search(r"the (\d+) \(dev\) / (\d+) \(prod\) Kubernetes objects and Helm releases and the Gateway API "
                       r"CRD bundle, and three Azure resources", text)
    assert stated, "the sentence naming what goes changed: update this test"
    for p, count in ((dev, int(stated.group(1))), (prod, int(stated.group(2)))):
        provider = next(r for r in p.resources if r.type == "pulumi:providers:kubernetes" and r.name == "platform-k8s")
        gone = [r for r in target_dependents(p, {provider.urn}) if r.urn != provider.urn]
        bundles = [r for r in gone if r.type == "kubernetes:yaml/v2:ConfigFile"]
        objects = [r for r in gone if r.type.startswith("kubernetes:") and r not in bundles]
        azure = sorted(r.type for r in gone if not r.type.startswith("kubernetes:"))
        assert (len(objects), len(bundles)) == (count, 1), (p.stack, len(objects), len(bundles))
        assert azure == ["azure-native:managedidentity:FederatedIdentityCredential"] * 3, (p.stack, azure)
        # prod protects the users' uploads: the destroy's preview refuses it until its protect is lifted, as the
        # text's first step does once the files are copied out
        held = [r.name for r in gone if r.options.get("protect")]
        assert held == (["inference-webui-uploads"] if p is prod else []), (p.stack, held)
    commands = text.split("```")[1] if "```" in text else ""
    assert "pulumi state unprotect" in commands and "tar -C /app/backend/data -cf -" in commands, commands


# How "What `protect` blocks" names each stateful type (offline/plan_diff/rules.py STATEFUL) a stack may protect
STATEFUL_WORDS = {"azure-native:resources:ResourceGroup": "resource groups", "azure-native:keyvault:Vault": "Key Vault",
                  "azure-native:dbforpostgresql:Server": "PostgreSQL server",
                  "azure-native:dbforpostgresql:Database": "database",
                  "azure-native:storage:StorageAccount": "model store's account", "azure-native:storage:FileShare":
                  "share", "azure-native:network:PublicIPAddress": "public IP",
                  "azure-native:operationalinsights:Workspace": "Log Analytics workspace",
                  "azure-native:monitor:AzureMonitorWorkspace": "Azure Monitor workspace",
                  "azure-native:dashboard:Grafana": "Managed Grafana",
                  "azure-native:containerservice:ManagedCluster": "AKS cluster",
                  "azure-native:cdn:Profile": "Front Door profile", "azure-native:cdn:AFDEndpoint": "the endpoint",
                  "kubernetes:core/v1:PersistentVolumeClaim": "uploads claim"}


def test_what_protect_blocks_names_every_stateful_resource_prod_protects(prod, global_plan):
    """The section lists what prod protects: an operator reads there what a config change or a procedure cannot
    delete or replace without `pulumi state unprotect`. It named no monitoring store once AzureMonitoring's two
    workspaces and Managed Grafana took the stack's protect, nor the config changes that now stop on them."""
    text = " ".join(section("What `protect` blocks, and removing a stack").split())
    listed = text.split("- **What it blocks**")[0]
    protected = {r.type for p in (prod, global_plan) for r in p.resources
                 if r.options.get("protect") and r.type in plan_diff.STATEFUL}
    assert protected <= set(STATEFUL_WORDS), protected - set(STATEFUL_WORDS)
    assert [STATEFUL_WORDS[t] for t in sorted(protected) if STATEFUL_WORDS[t] not in listed] == []
    blocks = text.split("- **What it blocks**")[1].split("- **What it does not block**")[0]
    for change in ("`observability.managedGrafana` off", "`observability.grafanaName`"):
        assert change in blocks, change


def test_the_uploads_tier_move_lifts_the_claims_protect_after_the_copy_and_before_its_up(prod):
    """Prod protects the uploads claim, which a new `webui.uploadsTier` replaces: `pulumi up` stops on it while the
    state and the program both protect it (pulumi/pulumi 1b5949891b step_generator.go `new.Protect && old.Protect`),
    and goes through once `pulumi state unprotect` has lifted the state's, the new claim protected by the same up.
    The procedure's commands copy the files out, then lift it, then run the up; without the lift the up stopped."""
    import copy
    base = plan_diff.resources_by_urn(plan.resources_document(prod))
    moved = plan_diff.resources_by_urn(plan.resources_document(plan_for("prod", {"webui": {
        "uploadsTier": "standard"}})))
    result = plan_diff.diff_documents(base, moved)
    claim = next(u for u in result["replaced"] if base[u]["name"] == "inference-webui-uploads")
    assert result["protected"] == [claim] and moved[claim]["options"]["protect"] is True
    lifted = copy.deepcopy(base)
    lifted[claim]["options"]["protect"] = False  # `pulumi state unprotect`
    assert plan_diff.diff_documents(lifted, moved)["protected"] == []
    commands = section("Moving the UI's uploads to another tier").split("```")[1].splitlines()
    def at(prefix, words=""):
        return next(i for i, line in enumerate(commands) if line.startswith(prefix) and words in line)
    assert at("kubectl", "tar -C /app/backend/data -cf") < at("pulumi state unprotect", "open-webui-data claim") < \
        at("pulumi up"), commands


def test_removing_a_stack_keeps_first_the_users_files_prod_protects(prod):
    """Step 4 lifts every protect (`pulumi state unprotect --all`), and the destroy then deletes the uploads claim
    with its share (reclaim policy `Delete`): the users' files, which prod protects like the database. Step 2, what to
    keep first, named the database and the vault's name alone."""
    assert [r.options["protect"] for r in prod.of_type("kubernetes:core/v1:PersistentVolumeClaim")
            if r.name == "inference-webui-uploads"] == [True]
    text = " ".join(section("What `protect` blocks, and removing a stack").split())
    keep = text.split("2. Keep what you want to keep:")[1].split(" 3. ")[0]
    assert "uploads" in keep and "tar -C /app/backend/data -cf" in keep, keep


CENTRAL_WORKSPACE = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-central/providers/"
                     "Microsoft.OperationalInsights/workspaces/log-central")
# config changes that delete or replace what prod protects since the uploads claim and the edge's stores took it, and
# how "What it blocks" names each
MEETS_PROTECT = [
    ("prod", {"webui": {"uploadsTier": "standard"}}, "a new `webui.uploadsTier`", {"inference-webui-uploads"}),
    ("prod", {"namespace": "llm2"}, "a new `namespace`", {"inference-webui-uploads"}),
    ("prod", {"webui": {"enabled": False}}, "`webui.enabled` off deletes Open-WebUI's secrets, its uploads claim",
     {"inference-webui-uploads", "postgres-db"}),
    ("prod", {"webui": {"backend": "llmd"}, "llmd": {"enabled": True}}, "`webui.backend` switched deletes the old UI's",
     {"inference-webui-uploads", "inference-webui-secret-key"}),
    ("global", {"global": {"logAnalyticsWorkspaceId": CENTRAL_WORKSPACE, "logRetentionDays": None}},
     "`global.logAnalyticsWorkspaceId` set deletes the edge's own workspace", {"edge-logs"}),
]


@pytest.mark.parametrize("stack, overrides, words, held", MEETS_PROTECT, ids=[m[2][:40] for m in MEETS_PROTECT])
def test_what_protect_blocks_names_the_config_changes_that_meet_it(stack, overrides, words, held):
    """Each change's offline diff lists what `pulumi up` stops on ("Protected"), and the section names the change: an
    operator reading it learned that `webui.enabled` off stops on the database, not on the users' files, and nothing
    of a tier move, a backend switch, a new namespace or the edge's switch to a central workspace."""
    base = plan_diff.resources_by_urn(plan.resources_document(plan_for(stack)))
    new = plan_diff.resources_by_urn(plan.resources_document(plan_for(stack, overrides)))
    protected = {base[u]["name"] for u in plan_diff.diff_documents(base, new)["protected"]}
    assert held <= protected, protected
    text = " ".join(section("What `protect` blocks, and removing a stack").split())
    blocks = text.split("- **What it blocks**")[1].split("- **What it does not block**")[0]
    assert words in blocks, words


def test_the_kubernetes_version_the_upgrade_example_pins_is_one_config_accepts():
    """The example's first pin: prod with the channel off and that version (config refuses a minor off AKS's support
    calendar, so an example past it fails the operator's first `make plan`)."""
    pinned = re.findall(r"pulumi config set --path cluster\.kubernetesVersion (\S+)",
                        section("Upgrading Kubernetes"))
    assert pinned
    for version in pinned:
        parse_config(stack_raw("prod", {"cluster": {"upgradeChannel": "none", "kubernetesVersion": version}}),
                     "p", "prod")


def test_a_key_vault_retention_change_is_blocked_as_the_text_says(prod):
    base = plan_diff.resources_by_urn(plan.resources_document(prod))
    new = plan_diff.resources_by_urn(plan.resources_document(plan_for("prod", {"keyVault": {
        "softDeleteRetentionDays": 30}})))
    blocked = [u for u, _ in plan_diff.blocking(plan_diff.diff_documents(base, new), set(), False)]
    assert [base[u]["type"] for u in blocked] == ["azure-native:keyvault:Vault"]
    text = " ".join(section("Key Vault").split())
    assert "`keyVault.softDeleteRetentionDays` under **Blocked**" in text


def test_renaming_the_inline_system_pool_asks_for_the_pool_to_exist_first(prod):
    """AKS adds no pool through the cluster's PUT, so `cluster.systemPool.name` changes only to a pool created
    beforehand; the diff showed the rename as a plain update, and its advice for the inline pool's fixed settings
    read as a rename in config alone."""
    base = plan_diff.resources_by_urn(plan.resources_document(prod))
    new = plan_diff.resources_by_urn(plan.resources_document(plan_for("prod", {"cluster": {"systemPool": {
        "name": "system2", "vmSize": "Standard_D8ds_v5"}}})))
    result = plan_diff.diff_documents(base, new)
    cluster = next(u for u, r in base.items() if r["type"] == "azure-native:containerservice:ManagedCluster")
    checks = " ".join(result["checks"].get(cluster, []))
    assert "`agentPoolProfiles[0].name`" in checks and "az aks nodepool add --mode System" in checks
    refusals = " ".join(result["refused"].get(cluster, []))
    assert "`agentPoolProfiles[0].vmSize`" in refusals
    assert all("then set cluster.systemPool.name to it" in reason
               for reason in plan_diff.rules()["azureNative"]["refusedInPlace"][
                   "azure-native:containerservice:ManagedCluster"].values() if "move" in reason)


def test_the_system_pools_refusal_sends_the_reader_to_the_procedure_not_to_the_rules_file(tmp_path, prod):
    """A new `cluster.systemPool.vmSize` (or OS disk, max pods, zones) is refused in place, and the PR comment said
    "(see agentPoolProfiles[].name in valueRules)": a key of offline/data/replacement_rules.json, which a reader of
    the comment has no reason to open. It names the operations.md section with the commands; every section a rule's
    text names exists, and no text names the rules file's own keys."""
    base = plan_diff.resources_by_urn(plan.resources_document(prod))
    new = plan_diff.resources_by_urn(plan.resources_document(plan_for("prod", {"cluster": {"systemPool": {
        "name": "system2", "vmSize": "Standard_D8ds_v5"}}})))
    code, out = check(tmp_path, base, new)
    blocked = next(line for line in out.splitlines() if "ManagedCluster::platform-aks` refused in place" in line)
    assert code == 1 and "`agentPoolProfiles[0].vmSize`" in blocked
    assert 'docs/operations.md, "Scaling node pools"' in blocked and "valueRules" not in out
    assert "az aks nodepool add" in section("Scaling node pools")
    texts = json.dumps(plan_diff.rules())
    for title in set(re.findall(r'docs/operations\.md, \\"([^"\\]+)\\"', texts)):
        section(title)  # fails naming the title a rule's text gives and the page lacks
    reasons = [why for by_path in plan_diff.rules()["azureNative"]["refusedInPlace"].values()
               for why in by_path.values()]
    reasons += [rule["why"] for rules in plan_diff.rules()["valueRules"].values() if isinstance(rules, list)
                for rule in rules]
    assert reasons and not [why for why in reasons if re.search(r"\b(valueRules|refusedInPlace)\b", why)]


# `az aks nodepool add` flags for an inline profile's properties (Azure/azure-cli 0088c878
# src/azure-cli/azure/cli/command_modules/acs/_params.py, 'aks nodepool add'; --node-count from the 'aks' context);
# `type` and `osType` are the command's defaults (VirtualMachineScaleSets, Linux)
NODEPOOL_ADD_FLAGS = {"name": "-n", "mode": "--mode", "vmSize": "--node-vm-size", "availabilityZones": "--zones",
                      "osSKU": "--os-sku", "osDiskType": "--node-osdisk-type", "osDiskSizeGB": "--node-osdisk-size",
                      "maxPods": "--max-pods", "enableEncryptionAtHost": "--enable-encryption-at-host",
                      "nodeTaints": "--node-taints", "nodeLabels": "--labels", "vnetSubnetID": "--vnet-subnet-id",
                      "enableAutoScaling": "--enable-cluster-autoscaler", "count": "--node-count",
                      "minCount": "--min-count", "maxCount": "--max-count"}


def test_the_new_system_pools_command_carries_every_setting_the_stack_then_sends_it(prod):
    """The system pool's size changes through a pool made outside the stack; after the rename the cluster's PUT sends
    the stack's inline profile to that pool, and AKS refuses what it fixes at creation (zones, OS disk, max pods,
    encryption at host): the text's `az aks nodepool add` must create the pool the head plan describes, setting for
    setting. The text gave no command: an operator's pool without the taint, zones or ephemeral disk was refused."""
    head = plan_for("prod", {"cluster": {"systemPool": {"name": "system2", "vmSize": "Standard_D8ds_v5"}}})
    profile = head.one("azure-native:containerservice:ManagedCluster").inputs["agentPoolProfiles"][0]
    text = section("Scaling node pools")
    command = " ".join(re.search(r"(az aks nodepool add .*?)\n  az aks", text, re.S).group(1).replace("\\", " ")
                       .split())
    args: dict[str, list[str]] = {}
    flag = ""
    for word in command.split()[4:]:
        if word.startswith("-"):
            flag = word
            args[flag] = []
        else:
            args[flag].append(word)
    assert profile["type"] == "VirtualMachineScaleSets" and profile["osType"] == "Linux"
    for key, value in profile.items():
        if key in ("type", "osType") or value in ([], None, False):
            continue
        assert key in NODEPOOL_ADD_FLAGS, f"the inline pool sets {key}: which flag carries it?"
        given = args.get(NODEPOOL_ADD_FLAGS[key])
        assert given is not None, f"{key} {value!r} is not in the text's command"
        if key == "vnetSubnetID":
            assert given == ['"$SUBNET"']  # read from the old pool
        elif isinstance(value, bool):
            assert given == []
        else:
            assert given == [str(v) for v in (value if isinstance(value, list) else [value])], (key, value, given)
    assert f"`cluster.systemPool.name: {profile['name']}`" in text


def test_adding_a_region_names_every_workflow_that_lists_the_stacks():
    """A new regional stack file must join the workflows' stack matrices (tests/program/test_workflows.py refuses a
    stack file they miss); the procedure named only the stack files to commit."""
    text = " ".join(section("Adding or removing a region").split("Removing one goes the other way")[0].split())
    listing = [p.name for p in sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))
               if "prod-westeurope" in p.read_text()]
    assert listing
    for name in listing:
        assert name in text, name


def test_gpu_replicas_past_the_pools_are_refused_for_llmd_and_a_warning_for_ollama():
    """"Scaling node pools" said config refuses more replicas than `gpu.maxCount` nodes hold, for both servers; only
    llm-d's maximum is refused, Ollama's is a warning."""
    cfg = parse_config(stack_raw("prod", {"autoscaling": {"maxReplicas": 7}}), "p", "prod")  # 4 + 2 nodes of 1 GPU
    assert any("stay Pending" in note for note in advisories(cfg))
    with pytest.raises(ConfigError, match="llmd.maxReplicas"):
        parse_config(stack_raw("llmd", {"llmd": {"maxReplicas": 3}}), "p", "llmd")
    text = " ".join(section("Scaling node pools").split())
    assert "Config refuses an llm-d maximum" in text and "plans with a warning" in text


def test_a_smaller_uploads_share_is_refused_naming_its_own_stack_key(dev):
    """`webui.uploadsSizeGib` down: the API server refuses a smaller claim; the refusal named `modelStore.sizeGib`,
    the key of the other claim the rule covers (whose request is ignored, so the rule never fires for it)."""
    base = plan_diff.resources_by_urn(plan.resources_document(dev))
    new = plan_diff.resources_by_urn(plan.resources_document(plan_for("dev", {"webui": {"uploadsSizeGib": 5}})))
    result = plan_diff.diff_documents(base, new)
    uploads = next(u for u, r in base.items() if r["name"] == "inference-webui-uploads")
    assert [u for u, _ in plan_diff.blocking(result, set(), False)] == [uploads]
    line = " ".join(result["refused"][uploads])
    assert '"10Gi" -> "5Gi" (stack key `webui.uploadsSizeGib`)' in line, line


def _claims_mounted(inputs: dict) -> set[str]:
    spec = (inputs.get("spec") or {}).get("template", {}).get("spec") or {}
    return {v["persistentVolumeClaim"]["claimName"] for v in spec.get("volumes", []) if "persistentVolumeClaim" in v}


def test_a_new_model_share_stops_what_mounts_the_claim_first(prod):
    """A share replacement deletes the claim (delete first); a Deployment that is not replaced and still mounts it
    would hold it: pvc-protection keeps the claim until its pods are gone and pulumi-kubernetes waits for the deletion
    (10 minutes), so the procedure stops each such Deployment through what owns its replica count. The model servers
    wait for the store's Job by `depends_on` alone, so the engine's chain does not take them (a model added replaces
    none of them): the claim's delete waits for their pods unless they are stopped."""
    base = plan_diff.resources_by_urn(plan.resources_document(prod))
    new = plan_diff.resources_by_urn(plan.resources_document(plan_for("prod", {"modelStore": {"protocol": "smb"}})))
    result = plan_diff.diff_documents(base, new)
    claims = {base[u]["inputs"]["metadata"]["name"] for u in result["replaced"]
              if base[u]["type"] == "kubernetes:core/v1:PersistentVolumeClaim"}
    assert claims == {"models"}
    mounting = [r for u, r in base.items() if r["type"] == "kubernetes:apps/v1:Deployment"
                and claims & _claims_mounted(r["inputs"])]
    assert mounting
    assert not any(u in result["replaced"] for u, r in base.items() if r in mounting)  # they stay, holding it
    text = section("The model share")
    for deployment in mounting:
        name = deployment["inputs"]["metadata"]["name"]
        scalers = [r["inputs"]["metadata"]["name"] for r in base.values() if r["type"].endswith(":ScaledObject")
                   and r["inputs"]["spec"]["scaleTargetRef"]["name"] == name]
        assert scalers, name
        for scaler in scalers:
            assert f"annotate scaledobject {scaler} autoscaling.keda.sh/paused-replicas=0" in text
        assert f"scale deployment/{name} --replicas 0" in text  # autoscaling.mode none


def test_grafana_is_named_as_its_subchart_names_it(dev):
    """kube-prometheus-stack's `fullnameOverride: kps` names the parent chart's objects only: the Grafana subchart
    shares the parent's release but not its values, and names its Deployment and Service `grafana.fullname`
    (grafana-community/helm-charts charts/grafana/templates/_helpers.tpl): its own fullnameOverride, else the
    release name when that contains "grafana", else "<release>-grafana". `deploy/kps-grafana` (the Grafana password
    rotation) and `svc/kps-grafana` (the port-forwards, the `grafana` output) named nothing."""
    release = next(r for r in dev.resources if r.type == "kubernetes:helm.sh/v3:Release"
                   and r.inputs["chart"] == "kube-prometheus-stack")
    own, release_name = (release.inputs["values"].get("grafana") or {}).get("fullnameOverride"), release.inputs["name"]
    name = own or (release_name if "grafana" in release_name else f"{release_name}-grafana")
    assert dev.outputs["grafana"] == f"monitoring/{name}"
    docs = OPERATIONS + (PROJECT_DIR / "docs" / "components" / "observability.md").read_text()
    assert set(re.findall(r"(?:svc|deploy)/([a-z0-9-]*grafana[a-z0-9-]*)", docs)) == {name}


# The resource provider namespace of each azure-native module the stacks use: the folder of the REST spec the SDK
# module is generated from (azure-rest-api-specs specification/<service>/resource-manager/<namespace>/). `monitor`
# holds two: the Azure Monitor workspace is Microsoft.Monitor's (monitor/.../Microsoft.Monitor/Accounts), the rest
# microsoft.insights'; Front Door's WAF policy (`frontdoor`) and the private DNS zones are Microsoft.Network's.
NAMESPACES = {"alertsmanagement": "Microsoft.AlertsManagement", "authorization": "Microsoft.Authorization",
              "cdn": "Microsoft.Cdn", "consumption": "Microsoft.Consumption",
              "containerservice": "Microsoft.ContainerService",
              "dashboard": "Microsoft.Dashboard", "dbforpostgresql": "Microsoft.DBforPostgreSQL",
              "frontdoor": "Microsoft.Network", "keyvault": "Microsoft.KeyVault",
              "managedidentity": "Microsoft.ManagedIdentity", "monitor": "Microsoft.Insights",
              "network": "Microsoft.Network", "operationalinsights": "Microsoft.OperationalInsights",
              "privatedns": "Microsoft.Network", "recoveryservices": "Microsoft.RecoveryServices",
              "resources": "Microsoft.Resources", "storage": "Microsoft.Storage"}
TYPE_NAMESPACES = {"azure-native:monitor:AzureMonitorWorkspace": "Microsoft.Monitor"}
# "Registered by default" (azure-docs articles/azure-resource-manager/management/azure-services-resource-providers.md;
# Microsoft.Consumption's row carries the mark at 004ec532)
REGISTERED_BY_DEFAULT = {"Microsoft.Authorization", "Microsoft.Consumption", "Microsoft.Resources"}


NO_RDMA = SimpleNamespace(rdma=False)


def _pools(r: Registration) -> list[dict]:
    if r.type == "azure-native:containerservice:ManagedCluster":
        return list(r.inputs.get("agentPoolProfiles") or [])
    return [r.inputs] if r.type == "azure-native:containerservice:AgentPool" else []


def needs(p: Plan) -> tuple[set[str], set[tuple[str, str]]]:
    """The resource providers a stack's first `pulumi up` writes to, and the subscription features (namespace, name)
    its settings need: each type's namespace; the Azure Policy add-on's Microsoft.PolicyInsights (AKS docs ask to
    register it first); host encryption on any pool needs the Microsoft.Compute feature EncryptionAtHost (AKS
    "Host-based encryption": `az feature register --namespace Microsoft.Compute --name EncryptionAtHost`); a pool of
    an InfiniBand size needs AKSInfinibandSupport, or its nodes are not placed on one InfiniBand network (AKS
    use-amd-gpus.md; Azure/aks-rdma-infiniband website/docs/getting-started/02-prerequisites.md)."""
    providers, features = set(), set()
    for r in p.resources:
        if not r.type.startswith("azure-native:"):
            continue
        module = r.type.split(":")[1]
        assert module in NAMESPACES, f"{r.type}: add its resource provider namespace to NAMESPACES"
        providers.add(TYPE_NAMESPACES.get(r.type, NAMESPACES[module]))
        addons = r.inputs.get("addonProfiles") or {}
        if r.type.endswith(":ManagedCluster") and (addons.get("azurepolicy") or {}).get("enabled"):
            providers.add("Microsoft.PolicyInsights")
        if any(pool.get("enableEncryptionAtHost") for pool in _pools(r)):
            providers.add("Microsoft.Compute")
            features.add(("Microsoft.Compute", "EncryptionAtHost"))
        if any((find_gpu_sku(pool.get("vmSize") or "") or NO_RDMA).rdma for pool in _pools(r)):
            features.add(("Microsoft.ContainerService", "AKSInfinibandSupport"))
    return providers - REGISTERED_BY_DEFAULT, features


def shell(text: str) -> str:
    """A section's shell blocks, each command on one line (continuation lines joined)."""
    return "\n".join(re.sub(r"\\\n\s*", " ", block) for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S))


def registered(text: str) -> tuple[set[str], set[tuple[str, str]], list[str]]:
    """What a section's shell blocks register: the `for ns in ...; do az provider register --namespace $ns` list and
    each `az provider register --namespace X`, each `az feature register --namespace X --name Y`, and the order of the
    `az` lines (a feature takes effect with the provider's registration after it)."""
    code = shell(text)
    providers = {ns for loop in re.findall(r"for ns in ([^;]+); do\s+az provider register --namespace \$ns", code)
                 for ns in loop.split()}
    providers |= set(re.findall(r"az provider register --namespace (Microsoft\.\w+)", code))
    features = set(re.findall(r"az feature register --namespace (Microsoft\.\w+) --name (\w+)", code))
    order = re.findall(r"az (?:provider|feature) register --namespace (?:Microsoft\.\w+|\$ns)(?: --name \w+)?", code)
    return providers, features, order


@pytest.mark.parametrize("stack", PLANNED)
def test_the_first_deploy_registers_what_the_stack_writes_to_and_the_features_it_needs(stack):
    """A fresh subscription: "Deploying for real" registers, before any stack's first `pulumi up`, every resource
    provider the stack's plan writes to and every subscription feature its settings need; the Pulumi provider
    registers none (pulumi/pulumi-azure-native#3479). prod's host encryption without the feature fails the cluster's
    create ("'Microsoft.Compute/EncryptionAtHost' feature is not enabled for this subscription")."""
    p = planned(stack)
    providers, features = needs(p)
    done_providers, done_features, order = registered(section("Once per subscription"))
    assert providers - done_providers == set()
    assert features - done_features == set()
    for namespace, name in features:  # the provider registered again after its feature
        at = order.index(f"az feature register --namespace {namespace} --name {name}")
        assert f"az provider register --namespace {namespace}" in order[at:], order


def test_prod_needs_the_host_encryption_feature_p_and_d_infiniband_and_dev_neither(dev, prod):
    """The check above reads the plans' settings: prod's pools encrypt at the host, P/D's pool is an InfiniBand
    size, dev has neither."""
    assert needs(prod)[1] == {("Microsoft.Compute", "EncryptionAtHost")}
    assert ("Microsoft.ContainerService", "AKSInfinibandSupport") in needs(planned("llmd-pd"))[1]
    assert needs(dev)[1] == set()
    assert {"Microsoft.ContainerService", "Microsoft.Insights", "Microsoft.Monitor"} <= needs(prod)[0]


# Azure's built-in roles a deployer may hold, as Microsoft Learn lists them ("Azure built-in roles for Privileged",
# learn.microsoft.com/azure/role-based-access-control/built-in-roles/privileged): (actions, notActions). ARM matches
# an action against them without case, `*` standing for any run of characters, `/` included.
BUILT_IN_ROLES = {
    "Owner": (["*"], []),
    "Contributor": (["*"], ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                            "Microsoft.Authorization/elevateAccess/Action",
                            "Microsoft.Blueprint/blueprintAssignments/write",
                            "Microsoft.Blueprint/blueprintAssignments/delete",
                            "Microsoft.Compute/galleries/share/action",
                            "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
                            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
                            "Microsoft.Subscription/cancel/action", "Microsoft.Subscription/enable/action"]),
    "User Access Administrator": (["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"], []),
    "Role Based Access Control Administrator": (["Microsoft.Authorization/roleAssignments/write",
                                                 "Microsoft.Authorization/roleAssignments/delete", "*/read",
                                                 "Microsoft.Support/*"], []),
}
# ARM's resource type where the Pulumi type's name is not it; for the others `<namespace>/<Type>` stands in, which
# only the namespace decides for the roles above (no NotAction of Contributor's names a type the plans hold)
ARM_TYPES = {"azure-native:authorization:RoleAssignment": "Microsoft.Authorization/roleAssignments",
             "azure-native:resources:ResourceGroup": "Microsoft.Resources/subscriptions/resourceGroups"}


def _permits(roles: set[str], action: str) -> bool:
    """Whether any of the roles grants the action: one of its actions matches and none of its notActions does. A
    `data:` action (on a vault's own endpoint) is none of theirs: the deployer's roles are control-plane roles, and
    the stacks' vaults admit only the node subnet besides."""
    if action.startswith("data:"):
        return False
    def match(patterns: list[str]) -> bool:
        return any(re.fullmatch(re.escape(p.lower()).replace(r"\*", ".*"), action.lower()) for p in patterns)
    return any(match(BUILT_IN_ROLES[r][0]) and not match(BUILT_IN_ROLES[r][1]) for r in roles)


def deployer_actions(p: Plan) -> set[str]:
    """What `pulumi up` and `pulumi destroy` of a plan ask Azure to do: write each of its Azure resources through
    Resource Manager, and delete each one the engine deletes (not one retained on delete: pulumi/pulumi 1b5949891b
    step.go DeleteStep.Apply calls no provider Delete for it), through Resource Manager or, for the kinds
    pulumi-azure-native deletes through the vault (DATA_PLANE_DELETES), as a `data:` action on the vault itself."""
    out = set()
    for r in p.resources:
        if r.type.startswith("azure-native:"):
            module, name = r.type.split(":")[1:]
            arm = ARM_TYPES.get(r.type) or f"{TYPE_NAMESPACES.get(r.type, NAMESPACES[module])}/{name}"
            out.add(f"{arm}/write")
            if not r.options.get("retainOnDelete"):
                out.add(f"data:{DATA_PLANE_DELETES[r.type]}" if r.type in DATA_PLANE_DELETES else f"{arm}/delete")
    return out


def granted_roles(text: str) -> set[str]:
    """The roles a section's shell blocks grant: each `az role assignment create ... --role R`."""
    code = shell(text)
    roles = set()
    for line in code.splitlines():
        if line.startswith("az role assignment create"):
            words = shlex.split(line.split("#")[0])
            roles.add(words[words.index("--role") + 1])
    return roles


@pytest.mark.parametrize("stack", PLANNED)
def test_the_deployer_s_roles_permit_every_write_and_delete_the_stack_makes(stack):
    """A deployer holding only what "Once per subscription" grants runs a stack's `pulumi up` and `pulumi destroy`:
    every stack creates role assignments (the deployer's own cluster admin, the workloads' vault readers), which
    Contributor may not (its NotActions: `Microsoft.Authorization/*/Write`), so Contributor alone stops the first
    `pulumi up` with AuthorizationFailed on `Microsoft.Authorization/roleAssignments/write`."""
    roles = granted_roles(section("Once per subscription"))
    assert roles and roles <= set(BUILT_IN_ROLES), roles
    assert sorted(a for a in deployer_actions(planned(stack)) if not _permits(roles, a)) == []


def test_contributor_alone_cannot_deploy_a_stack(dev):
    """The check above reads the roles: dev's role assignments are what Contributor alone is refused."""
    refused = {a for a in deployer_actions(dev) if not _permits({"Contributor"}, a)}
    assert refused == {"Microsoft.Authorization/roleAssignments/write",
                       "Microsoft.Authorization/roleAssignments/delete"}
    assert not {a for a in deployer_actions(dev) if not _permits({"Owner"}, a)}


# What pulumi-azure-native deletes through a vault's data plane instead of Azure Resource Manager, which has no delete
# for them ("DELETE is implemented via the KeyVault data plane API, because it isn't available via ARM":
# pulumi/pulumi-azure-native provider/pkg/resources/customresources/custom_keyvault.go, `DeleteSecret`/`DeleteKey`
# on https://<vault>.vault.azure.net), with the data action Azure RBAC checks for it, which no control-plane role of
# BUILT_IN_ROLES carries (learn.microsoft.com/azure/role-based-access-control/built-in-roles/security lists the Key
# Vault roles that do). The call meets the vault's firewall: public access, then its network rules.
DATA_PLANE_DELETES = {"azure-native:keyvault:Secret": "Microsoft.KeyVault/vaults/secrets/delete",
                      "azure-native:keyvault:Key": "Microsoft.KeyVault/vaults/keys/delete"}


def test_removing_a_region_asks_nothing_of_a_vault_the_deployer_cannot_reach():
    """Taking a region out of global.regions drops the edge's secrets in that region's vault from the global stack.
    Deleting one would be a data-plane call (DATA_PLANE_DELETES), which the region's vault refuses the deployer (its
    network rules, no data-plane role) and failed `pulumi up -s global` with 403; retained on delete, the engine
    calls no Delete, so the procedure needs no vault opened, and says none."""
    region = "prod-swedencentral"
    vault = plan_for(region).one("azure-native:keyvault:Vault")
    properties = vault.inputs["properties"]
    assert (properties.get("networkAcls") or {}).get("defaultAction") == "Deny"  # the deployer's address is refused
    dropped = [r for r in plan_for("global").resources if r.type in DATA_PLANE_DELETES
               and r.inputs.get("vaultName") == vault.inputs["vaultName"]]
    assert dropped  # the edge's key and key map in the region's vault
    left = SimpleNamespace(resources=dropped)
    assert sorted(a for a in deployer_actions(left) if a.startswith("data:")) == []
    assert not re.search(r"az keyvault (update|network-rule add)", section("Adding or removing a region"))

def test_every_secret_import_the_docs_give_names_the_component_it_belongs_to(global_plan, dev):
    """A retained secret added back is adopted with `pulumi import`, which records the resource under the parent
    `--parent name=urn` names and, without one, under the stack (pulumi/pulumi 1b5949891b
    pkg/cmd/pulumi/operations/import.go `--parent`): the URN then lacks the component's type the program's secret
    carries (every one is a component's child), so the next `pulumi up` still creates the program's secret and fails
    on the existing one."""
    parents = {r.parent.rsplit("::", 2)[-2].split("$")[-1] for p in (global_plan, dev) for r in p.resources
               if r.type == "azure-native:keyvault:Secret"}
    assert parents and all(t.startswith("llmplatform:index:") for t in parents), parents
    text = OPERATIONS
    imports = re.findall(r"`pulumi import azure-native:keyvault:Secret [^`]*`", " ".join(text.split()))
    assert imports and all(" --parent '" in line for line in imports), imports


def _commands(text: str) -> list[list[str]]:
    """The fenced shell commands of a section in their order (backslash-continued lines joined, `&&` chains split,
    comments dropped), each split as the shell splits it (variables and substitutions left as words)."""
    fenced = "\n".join(re.findall(r"```bash\n(.*?)```", text, re.S))
    lines = re.sub(r"\\\n\s*", " ", fenced).splitlines()
    parts = [part.strip() for line in lines if not line.lstrip().startswith("#")
             for part in line.split("  #")[0].split(" && ")]
    return [words for part in parts if part and (words := _words(part))]


def _words(command: str) -> list[str]:
    """`command` as the shell splits it; nothing for a line of a quoted string that spans lines (`share_pod '...`)."""
    try:
        return shlex.split(command)
    except ValueError:
        return []


def test_a_recovered_vault_needs_an_up_for_the_grants_azure_deleted_with_it(prod):
    """Azure deletes the role assignments on a vault (and on its secrets) with the vault and a recovery does not bring
    them back (Microsoft's Key Vault soft-delete overview): the section counts the prod plan's grants whose scope is
    the vault or one of its secrets (a grant added later changes the count and fails here), recovers the vault before
    any Pulumi command, and runs `pulumi up` after it, whose refresh finds them gone and makes them again."""
    vault = next(r.urn for r in prod.resources if r.type == "azure-native:keyvault:Vault")
    grants = [r for r in prod.resources if r.type == "azure-native:authorization:RoleAssignment"
              and vault in r.property_dependencies.get("scope", [])]
    assert len(grants) >= 4
    text = section("Key Vault")
    assert f"the {NUMBERS[len(grants)].lower()} grants on the vault or one of its secrets" in " ".join(text.split())
    steps = [" ".join(c[:3]) for c in _commands(text)]
    assert "az keyvault recover" in steps and "pulumi up" in steps
    assert not any(step.startswith("pulumi") for step in steps[:steps.index("az keyvault recover")])
    assert steps.index("az keyvault recover") < len(steps) - 1 - steps[::-1].index("pulumi up")


# Key Vault's role definition ids (Microsoft's built-in roles, security): the one role the program grants on a vault,
# and the two whose data actions include recovering a deleted secret
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
ROLES_THAT_RECOVER_SECRETS = {"b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
                              "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator"}


def grants_that_let_the_deployer_recover(p: Plan) -> list[str]:
    """The plan's role assignments that would let the deployer recover a soft-deleted secret through a vault's own
    endpoint: a role that recovers secrets at any scope, and any grant on a vault or under one to the deployer or of
    another role than "Key Vault Secrets User"."""
    found = []
    for r in p.of_type("azure-native:authorization:RoleAssignment"):
        role, scope = str(r.inputs.get("roleDefinitionId", "")), str(r.inputs.get("scope", ""))
        if role.rsplit("/", 1)[-1] in ROLES_THAT_RECOVER_SECRETS:
            found.append(f"{r.name}: {ROLES_THAT_RECOVER_SECRETS[role.rsplit('/', 1)[-1]]}")
        elif "/providers/Microsoft.KeyVault/vaults/" in scope and (
                not role.endswith(KEY_VAULT_SECRETS_USER) or r.inputs.get("principalId") == DEPLOYER):
            found.append(f"{r.name}: {role} for {r.inputs.get('principalId')} on {scope}")
    return found


def test_a_grant_that_lets_the_deployer_recover_secrets_is_seen():
    """The check below reads what it should: a deployer made Secrets Officer on a vault, or Secrets User there."""
    vault = "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv"
    def grant(role: str, principal: str, scope: str = vault) -> Registration:
        return Registration(urn=f"urn:{role}:{principal}", type="azure-native:authorization:RoleAssignment",
                            name=f"{role[:8]}-{principal[:8]}", parent="", custom=True, secret_paths=[],
                            dependencies=[], options={}, inputs={"roleDefinitionId": f"/roleDefinitions/{role}",
                                                                  "principalId": principal, "scope": scope})
    officer, user = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", KEY_VAULT_SECRETS_USER
    plan = Plan(project="p", stack="s", resources=[grant(officer, DEPLOYER, "/subscriptions/s"),
                                                   grant(user, DEPLOYER), grant(user, "workload-principal")])
    assert [g.split(":")[0] for g in grants_that_let_the_deployer_recover(plan)] == [
        f"{officer[:8]}-{DEPLOYER[:8]}", f"{user[:8]}-{DEPLOYER[:8]}"]


@pytest.mark.parametrize("stack", PLANNED)
def test_the_deployer_cannot_recover_the_secret_pulumi_azure_native_would(stack):
    """pulumi-azure-native 3.29.0 (#4759) recovers a soft-deleted secret on create through the vault's own endpoint
    when the Resource Manager write answers 409, which needs the secrets' recover permission there. "Key Vault" says
    the create fails from the pipeline all the same (a refused look-up counts as none found; the conflict is
    returned after six tries), as the program grants no such role (only "Key Vault Secrets User", only to the
    workloads) and its vaults refuse the deployer's network: a grant that let the deployer recover would make that
    wrong, and fails here."""
    text = " ".join(section("Key Vault").split())
    assert "pulumi/pulumi-azure-native#4759" in text and "only to the workloads" in text
    p = planned(stack)
    assert grants_that_let_the_deployer_recover(p) == []
    for vault in p.of_type("azure-native:keyvault:Vault"):
        assert vault.inputs["properties"]["networkAcls"]["defaultAction"] == "Deny", vault.name


def test_the_revived_server_takes_the_network_and_backup_redundancy_prod_gives_its_server(prod):
    """`az postgres flexible-server revive-dropped` sends no network without `--subnet`/`--private-dns-zone` and the
    backup redundancy it is given (azure-cli 2.91.0 `flexible_server_revivedropped`), and Azure changes neither on an
    existing server: the section's command names the delegated subnet, the private zone and the geo-redundancy the
    prod plan gives the server, or every `pulumi up` after the revive would ask Azure for a change it refuses. No
    Pulumi command comes before it (its refresh would drop the deleted server, and the `up` make an empty one)."""
    server = next(r for r in prod.resources if r.type == "azure-native:dbforpostgresql:Server")
    commands = _commands(section("PostgreSQL: Open-WebUI's accounts, chats, settings and vectors"))
    at = next(i for i, c in enumerate(commands) if c[:4] == ["az", "postgres", "flexible-server", "revive-dropped"])
    given = dict(zip(commands[at][4::2], commands[at][5::2]))
    rg, name = server.inputs["resourceGroupName"], server.inputs["serverName"]
    network = server.inputs["network"]
    vnet = network["delegatedSubnetResourceId"].split("/virtualNetworks/")[1].split("/")[0]
    prefix, environment = vnet.split("-", 2)[1:]
    subscription = network["delegatedSubnetResourceId"].split("/")[2]
    net = f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.Network"
    assert commands[at - 1] == [  # NET as the line before sets it
        "NET=/subscriptions/$(az account show --query id -o tsv)/resourceGroups/$RG/providers/Microsoft.Network"]

    def filled(value: str) -> str:
        value = value.replace("${NET%/Microsoft.Network}", net.removesuffix("/Microsoft.Network"))
        return (value.replace("$NET", net).replace("$RG", rg).replace("$PG", name)
                .replace("<prefix>", prefix).replace("<environment>", environment))

    assert filled(given["--subnet"]) == network["delegatedSubnetResourceId"]
    assert filled(given["--private-dns-zone"]) == network["privateDnsZoneArmResourceId"]
    assert given["--geo-redundant-backup"] == server.inputs["backup"]["geoRedundantBackup"]
    assert filled(given["--source-server"]) == network["delegatedSubnetResourceId"].split("/providers/")[0] + \
        f"/providers/Microsoft.DBforPostgreSQL/flexibleServers/{name}"
    assert given["--name"] == "$PG" and given["--resource-group"] == "$RG"
    # the region its backups are in: the command names its group's, which the plan gives the server too
    assert given["--location"] == "$(az group show --name $RG --query location -o tsv)"
    [group] = [r for r in prod.resources if r.type == "azure-native:resources:ResourceGroup"
               and r.inputs["resourceGroupName"] == rg]
    assert server.inputs["location"] == group.inputs["location"]
    assert commands[at + 1][:2] == ["pulumi", "up"]


def test_a_lost_regional_cluster_is_followed_by_the_global_stack_its_file_names():
    """A regional stack's cluster deleted outside Pulumi takes its Fleet Manager membership with it (Azure/fleet#881)
    and no pull-request check runs for the rebuild: the section's commands, after the region's `up` and the new
    kubeconfig, run the global stack the regional stack files name in `edge.globalStack` (with `edge.fleet` on)."""
    named = set()
    for path in sorted(PROJECT_DIR.glob("Pulumi.*.yaml")):
        edge = (yaml.safe_load(path.read_text()).get("config") or {}).get("aks-llm-platform:edge") or {}
        if edge.get("globalStack") and edge.get("fleet", True):
            named.add(edge["globalStack"])
    assert named == {"global"}
    commands = _commands(section("The cluster lost (deleted outside Pulumi, or its region's AKS gone)"))
    stacks = [c[c.index("--stack") + 1] for c in commands if c[:2] == ["pulumi", "up"]]
    kubeconfig = [i for i, c in enumerate(commands) if c[:3] == ["pulumi", "stack", "output"] and "kubeconfig" in c]
    assert stacks == ["$STACK", *sorted(named)]
    assert kubeconfig and kubeconfig[0] < len(commands) - 1


# `az storage share-rm create` flag -> the FileShare input it sets (azure-cli storage `_params.py`: `--quota` is
# share_quota; `--enabled-protocols`, `--root-squash` their properties)
SHARE_CREATE_INPUTS = {"--name": "shareName", "--quota": "shareQuota", "--enabled-protocols": "enabledProtocols",
                       "--root-squash": "rootSquash"}
SHARE_PATH_INPUTS = ("resourceGroupName", "accountName")


def test_a_share_deleted_outside_pulumi_comes_back_in_azure_as_the_program_has_it(prod):
    """pulumi-azure-native (3.11.0 on) reads a 404 as "gone" only with an error code on its list, and a deleted
    share's `ShareNotFound` was not on it (pulumi/pulumi-azure-native#4841): every refresh, so every `pulumi up`,
    fails until the share exists again. The section brings it back in Azure before any command that refreshes,
    made with what the prod plan gives the share, so the `up`'s refresh reads it and pulumi-azure-native's diff
    (tests/azure_put.py: its Read, then its Diff) leaves the share as it is, nothing force-new; and it stops Ollama
    (the ScaledObject and pods the plan makes) before that `up`, which replaces the preload Job, and starts it after."""
    from tests.azure_put import diff, maintained_paths, refresh

    share = next(r for r in prod.resources if r.type == "azure-native:storage:FileShare")
    text = section("The model share")
    commands = _commands(text[text.index("A share deleted outside Pulumi"):text.index("That mends only")])
    words = [" ".join(c[:4]) for c in commands]
    create = words.index("az storage share-rm create")
    given = dict(zip(commands[create][4::2], commands[create][5::2]))
    assert given.pop("--storage-account") == "$ACCOUNT" and "modelStorageAccount" in prod.outputs
    assert ["ACCOUNT=$(pulumi", "stack", "output", "modelStorageAccount)"] in commands[:create]
    made = {key: share.inputs[key] for key in SHARE_PATH_INPUTS}  # the share as Azure then has it, input-shaped
    made.update({SHARE_CREATE_INPUTS[flag]: int(value) if flag == "--quota" else value
                 for flag, value in given.items()})
    program = dict(share.inputs)
    stored = refresh(program, program, made, maintained_paths(share.type))
    changes = diff(stored, program, list(share.options.get("ignoreChanges") or []))
    assert changes == {}, f"the `up` after the doc's share-rm create changes the share: {changes}"

    restore = words.index("az storage share-rm restore")
    up = next(i for i, c in enumerate(commands) if c[:2] == ["pulumi", "up"])
    assert restore < create < up  # a restore needs the name free; no refresh before the share exists
    assert not any(c[0] == "pulumi" for c in commands[:create])
    assert commands[up][2] == "--replace" and commands[up][3].endswith("batch/v1:Job::models-preload')")
    [scaler] = [r for r in prod.resources if r.type == "kubernetes:keda.sh/v1alpha1:ScaledObject"
                and r.inputs["spec"]["scaleTargetRef"]["name"] == "ollama"]
    pause = ["kubectl", "-n", scaler.inputs["metadata"]["namespace"], "annotate", "scaledobject",
             scaler.inputs["metadata"]["name"]]
    paused = commands.index([*pause, "autoscaling.keda.sh/paused-replicas=0", "--field-manager=ops"])
    resumed = commands.index([*pause, "autoscaling.keda.sh/paused-replicas-", "--field-manager=ops"])
    [ollama] = [r for r in prod.resources if r.type == "kubernetes:apps/v1:Deployment"
                and r.inputs["metadata"]["name"] == "ollama"]
    pod_labels = ollama.inputs["spec"]["template"]["metadata"]["labels"]
    gone = next(i for i, c in enumerate(commands) if c[:4] == ["kubectl", "-n", "llm", "wait"])
    label = commands[gone][commands[gone].index("-l") + 1]
    assert dict([label.split("=")]).items() <= pod_labels.items(), label
    assert paused < gone < up < resumed
