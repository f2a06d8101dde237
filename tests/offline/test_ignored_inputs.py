"""Every Pulumi.yaml here (the stack program's and the examples') is a project file the CLI accepts, checked with the
schema it embeds (tests/upstream/pulumi/project.json, `ValidateProject`), and each refreshes before every operation:
an update of an autoscaled pool or an auto-upgraded cluster sends the fields it ignores from the state
(offline/ignored_inputs.py), so only a refresh sends what Azure runs."""
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from offline import ignored_inputs

from tests.conftest import PROJECT_DIR, upstream_dir

PROJECT_FILES = sorted([PROJECT_DIR / "Pulumi.yaml", *PROJECT_DIR.glob("examples/*/Pulumi.yaml")])


def _problems(project: object) -> list[str]:
    schema = json.loads((upstream_dir() / "pulumi" / "project.json").read_text())
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in jsonschema.Draft202012Validator(schema).iter_errors(
        project)]


@pytest.mark.parametrize("path", PROJECT_FILES, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_each_project_file_is_one_the_cli_accepts_and_refreshes_first(path: Path):
    project = yaml.safe_load(path.read_text())
    assert _problems(project) == []
    assert isinstance(project.get("name"), str) and project["name"]  # checked by hand in ValidateProject
    assert ignored_inputs.refreshes_always(project)


def test_the_schema_refuses_what_the_cli_refuses():
    """The vendored schema is the CLI's: a refresh value other than `always`, a misspelt option (a top-level key it
    does not know passes: the schema leaves the top level open)."""
    good = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    for options in ({"refresh": "yes"}, {"refesh": "always"}, {"refresh": True}):
        assert _problems({**good, "options": options}), options


def test_without_a_refresh_every_autoscaled_pool_and_the_cluster_are_named(prod):
    """What an update of prod sends from the state: each pool's count and version, the cluster's inline pool's and
    its own version; nothing when the project refreshes first, as this one does."""
    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    assert ignored_inputs.refresh_warning(prod, project) is None
    stale = dict(ignored_inputs.sent_from_state(prod))
    pools = {r.name for r in prod.resources if r.type == "azure-native:containerservice:AgentPool"}
    cluster = next(r.name for r in prod.resources if r.type == "azure-native:containerservice:ManagedCluster")
    assert len(pools) >= 3 and set(stale) == pools | {cluster}
    assert all("count" in stale[pool] for pool in pools) and "agentPoolProfiles[0].count" in stale[cluster]
    del project["options"]
    warning = ignored_inputs.refresh_warning(prod, project)
    assert warning and all(name in warning for name in stale) and "pulumi up --refresh" in warning


@pytest.mark.parametrize("options", [None, {}, {"refresh": "always"}, {"refresh": True}, {"refresh": "true"},
                                     {"refresh": "never"}, {"refresh": False}, {"refesh": "always"},
                                     {"refresh": "always", "refesh": "always"}, "always", ["refresh"]])
def test_the_plan_names_options_the_cli_refuses_as_the_schema_does(dev, options):
    """A stranger's guess at the option (`refresh: true`, a misspelt key) makes the CLI refuse Pulumi.yaml, so no
    `pulumi` command runs: the plan says that, naming the value, exactly when the CLI's own schema refuses it (not
    only "does not set refresh: always", which reads as advice)."""
    project = {**yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text()), "options": options}
    refused = ignored_inputs.refused_options(project)
    assert bool(refused) == bool(_problems(project))
    warning = ignored_inputs.refresh_warning(dev, project)
    if refused:
        assert warning and "the Pulumi CLI refuses this project file" in warning
        assert all(part in warning for part in refused)
    if options == {"refresh": True}:
        assert refused == ["`options.refresh` is true, and the only value it takes is `always`"]


def test_without_a_refresh_the_cluster_features_a_policy_turns_on_are_named_too(dev):
    """dev turns none of Defender, the Azure Policy add-on, Container Insights or managed Prometheus on, so the
    cluster ignores them for whoever does: without a refresh first, the update would send them as the state last
    held them (off), turning off what a policy turned on. The warning names them with the cluster."""
    from llmplatform.aks_cluster import OTHERS_TURN_ON
    stale = dict(ignored_inputs.sent_from_state(dev))
    cluster = next(r.name for r in dev.resources if r.type == "azure-native:containerservice:ManagedCluster")
    assert {path for paths in OTHERS_TURN_ON.values() for path in paths} <= set(stale[cluster])
    project = {k: v for k, v in yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text()).items() if k != "options"}
    warning = ignored_inputs.refresh_warning(dev, project)
    assert warning and "securityProfile.defender" in warning and "a policy turned on" in warning


def test_an_ignored_paths_reason_goes_to_the_paths_under_it_and_no_other():
    """The PR check gives a changed path the reason of the ignored path it lies under (a key, then `.` or `[`): a
    sibling whose name merely starts the same (`countX`, `spec.replicasFoo`, another add-on) gets none, and an add-on
    in the casing AKS may return (`omsAgent`) gets the policy reason as the lowercase key does."""
    from offline.plan_diff.rules import IGNORED_WHY, ignored_hints
    policy = IGNORED_WHY["addonProfiles.omsagent"]
    assert ignored_hints(["addonProfiles.omsAgent.config.logAnalyticsWorkspaceResourceID"]) == [policy]
    assert ignored_hints(["addonProfiles.azurePolicy.enabled", "azureMonitorProfile.metrics.enabled",
                          "securityProfile.defender.securityMonitoring.enabled"]) == [policy]
    assert ignored_hints(["addonProfiles.omsagentX.enabled", "addonProfiles.azureKeyvaultSecretsProvider.enabled",
                          "azureMonitorProfileX", "securityProfile.defenderX", "securityProfile.workloadIdentity",
                          "countX", "agentPoolProfiles[0].countX", "spec.replicasFoo", "spec.replicas2"]) == []
    assert ignored_hints(["agentPoolProfiles[0].count", "spec.replicas", "spec.replicas[0]"]) == [
        IGNORED_WHY["count"], IGNORED_WHY["spec.replicas"]]
