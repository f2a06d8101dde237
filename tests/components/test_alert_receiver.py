"""Observability's `alert_receiver`: the in-cluster Alertmanager sends every alert to a receiver whose URL or key
it reads as a file that the Secrets Store CSI driver mounts from Key Vault (workload identity), never as plain
text; without it, kube-prometheus-stack's default config sends everything to the receiver `null`."""
from __future__ import annotations

import csv
import functools
import re
from typing import Any

import pulumi
import pytest
import yaml

import llmplatform as P
from llmplatform.choices import ALERT_RECEIVER_KINDS
from llmplatform.inference_specs import SECRETS_MOUNT
from llmplatform.observability import ALERT_RECEIVER_KINDS as RECEIVER_FIELDS, alertmanager_config
from llmplatform.rules import WITHHELD
from llmplatform.testing import run
from llmplatform.testing.stand_ins import identity_ids
from offline.plan_diff.leaves import leaf_items
from offline.deploy_model.charts import chart_values
from tests.admission import Read, crd_refusals, release_objects
from tests.conftest import UPSTREAM
from llmplatform.testing.network_policy import Outside, Pod, connects

SECRET = "alerts-teams-url"
NETWORK = {"vnet_cidr": "10.0.0.0/16", "node_subnet_cidr": "10.0.0.0/20", "endpoints_subnet_cidr": "10.0.16.0/24",
           "postgres_subnet_cidr": "10.0.17.0/24", "pod_cidr": "192.168.0.0/16", "service_cidr": "172.16.0.0/16",
           "dns_service_ip": "172.16.0.10"}


def _program(receiver: dict[str, str]) -> None:
    pool = {"vm_size": "Standard_D4s_v5", "min_count": 1, "max_count": 2}
    aks = P.AksCluster("aks", {"cluster_name": "aks-obs", "resource_group_name": "rg-obs", "location": "westeurope",
                               "network": NETWORK, "system_pool": {"name": "system", **pool},
                               "workload_pool": {"name": "cpu", **pool}})
    vault = P.KeyVault("vault", {"cluster": aks.cluster, "vault_name": "kv-obs-llm"})
    P.Observability("obs", {"cluster": aks.cluster, "key_vault": vault.vault, "app_namespace": "llm",
                            "keda": False, "alert_receiver": receiver},
                    pulumi.ResourceOptions(providers=[aks.provider]))


@functools.lru_cache(maxsize=None)
def _plan(kind: str = "msteams"):
    return run(lambda: _program({"kind": kind, "secret": SECRET}))


def _release(plan) -> dict[str, Any]:
    return next(r.inputs for r in plan.helm_releases() if r.inputs["chart"] == "kube-prometheus-stack")


def _merged_config(release: dict[str, Any]) -> dict[str, Any]:
    """`alertmanager.config` as Helm hands it to the chart's secret.yaml: the chart's default deep-merged with ours
    (maps merged, lists replaced: chart_values)."""
    return Read(chart_values(release))("alertmanager.config")


@functools.lru_cache(maxsize=None)
def _upstream_keys() -> dict[tuple[str, str], set[str]]:
    keys: dict[tuple[str, str], set[str]] = {}
    text = (UPSTREAM / "recipes" / "alertmanager-receiver-keys.tsv").read_text()
    for reader, section, key in csv.reader((l for l in text.splitlines() if not l.startswith("#")), delimiter="\t"):
        keys.setdefault((reader, section), set()).add(key)
    return keys


def _unknown_keys(config: dict[str, Any]) -> list[str]:
    """The keys of our route and receivers that the deployed Alertmanager or the operator's strict unmarshal does
    not know (the receiver lists' entries take NotifierConfig's fields inline in Alertmanager)."""
    known = _upstream_keys()
    wrong = []
    for reader in ("alertmanager", "prometheus-operator"):
        def check(section: str, entry: dict[str, Any], extra: set[str] = set()) -> None:
            wrong.extend(f"{reader} {section}.{k}" for k in entry
                         if k not in known.get((reader, section), set()) | extra)
        routes = [config["route"], *config["route"].get("routes", [])]
        for route in routes:
            check("route", route)
        for receiver in config["receivers"]:
            check("receiver", receiver)
            for section, entries in receiver.items():
                for entry in entries if isinstance(entries, list) else []:
                    check(section, entry, known.get(("alertmanager", "NotifierConfig"), set())
                          if reader == "alertmanager" else set())
    return wrong


def _matches(matcher: str, labels: dict[str, str]) -> bool:
    name, op, value = re.fullmatch(r'\s*(\w+)\s*(=|!=)\s*"?([^"]*)"?\s*', matcher).groups()
    return (labels.get(name, "") == value) == (op == "=")


def _receiver_for(config: dict[str, Any], labels: dict[str, str]) -> str:
    """Alertmanager's routing of one alert (dispatch/route.go Match): the first child route whose matchers all
    match, `continue` false, else the root's receiver."""
    for route in config["route"].get("routes", []):
        assert not route.get("continue") and not route.get("routes")  # what this model reads
        if all(_matches(m, labels) for m in route.get("matchers", [])):
            return route["receiver"]
    return config["route"]["receiver"]


def test_the_charts_default_pages_no_one():
    """The finding: without a receiver every alert goes to `null` (kube-prometheus-stack 88.5.3 values.yaml)."""
    config = Read(chart_values({"chart": "kube-prometheus-stack", "values": {}}))("alertmanager.config")
    assert {_receiver_for(config, {"alertname": a}) for a in ("OllamaDown", "Watchdog")} == {"null"}
    assert config["receivers"] == [{"name": "null"}]


@pytest.mark.parametrize("kind", ALERT_RECEIVER_KINDS)
def test_every_alert_but_the_heartbeat_and_the_inhibitor_reaches_the_receiver(kind):
    default = Read(chart_values({"chart": "kube-prometheus-stack", "values": {}}))("alertmanager.config")
    config = _merged_config({"chart": "kube-prometheus-stack", "values": {"alertmanager": {
        "config": alertmanager_config(kind)}}})
    for alert in ("OllamaDown", "GatewayErrorRatioHigh", "VllmDown", "GpuMemoryHigh", "KubePodCrashLooping"):
        assert _receiver_for(config, {"alertname": alert, "severity": "critical"}) == "platform"
    assert _receiver_for(config, {"alertname": "Watchdog"}) == "null"
    assert _receiver_for(config, {"alertname": "InfoInhibitor"}) == "null"
    # the chart's inhibit rules (info muted by InfoInhibitor, warning by critical) and templates still apply
    assert config["inhibit_rules"] == default["inhibit_rules"] and config["templates"] == default["templates"]
    assert config["route"]["group_by"] == ["namespace", "alertname"]
    # the deployed Alertmanager and the operator's strict unmarshal know every key written
    assert _unknown_keys(config) == []
    configs, file_field = RECEIVER_FIELDS[kind]
    (receiver,) = [r for r in config["receivers"] if r["name"] == "platform"]
    # the endpoint or key only as a file: no field of that receiver whose value Alertmanager could read from a file
    # (`<field>_file` beside it upstream) is set in plain text
    fields = _upstream_keys()[("alertmanager", configs)]
    plain = {k.removesuffix("_file") for k in fields if k.endswith("_file")}
    assert [set(entry) for entry in receiver[configs]] == [{file_field, "send_resolved"}]
    assert not any(set(entry) & plain for entry in receiver[configs]) and file_field.removesuffix("_file") in plain


def test_the_kinds_the_config_allows_are_the_kinds_the_component_writes():
    assert set(ALERT_RECEIVER_KINDS) == set(RECEIVER_FIELDS)


def test_the_alertmanager_the_chart_deploys_is_the_version_whose_keys_are_vendored():
    values = yaml.safe_load((UPSTREAM / "charts" / "kube-prometheus-stack" / "values.yaml").read_text())
    header = (UPSTREAM / "recipes" / "alertmanager-receiver-keys.tsv").read_text()
    tag = values["alertmanager"]["alertmanagerSpec"]["image"]["tag"]
    assert f"prometheus/alertmanager tag {tag}," in header


def test_alertmanager_reads_the_file_the_csi_mount_provides():
    plan = _plan()
    release = _release(plan)
    config = _merged_config(release)
    (receiver,) = [r for r in config["receivers"] if r["name"] == "platform"]
    path = receiver["msteamsv2_configs"][0]["webhook_url_file"]
    # the Alertmanager the chart renders (its CR, transcribed from the vendored template with our values) and the
    # operator's StatefulSet built from it: the volume, its mount on the alertmanager container, the pod label
    (am,) = [o for o in release_objects(release) if o["kind"] == "Alertmanager"]
    assert crd_refusals(am) == []
    spec = am["spec"]
    (mount,) = [m for m in spec["volumeMounts"] if path.startswith(m["mountPath"] + "/")]
    (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    (spc,) = [r.inputs for r in plan.of_type("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")]
    assert volume["csi"]["driver"] == "secrets-store.csi.k8s.io"
    assert volume["csi"]["volumeAttributes"]["secretProviderClass"] == spc["metadata"]["name"]
    # the CSI provider writes each object as <mount>/<objectAlias, else objectName>
    objects = [yaml.safe_load(o) for o in yaml.safe_load(spc["spec"]["parameters"]["objects"])["array"]]
    assert [f"{mount['mountPath']}/{o.get('objectAlias') or o['objectName']}" for o in objects] == [path]
    assert [o["objectName"] for o in objects] == [SECRET] and mount["mountPath"] == SECRETS_MOUNT
    # workload identity: the pod runs as the federated ServiceAccount and carries the webhook's label
    assert spec["podMetadata"]["labels"]["azure.workload.identity/use"] == "true"
    (account,) = [r.inputs for r in plan.of_type("kubernetes:core/v1:ServiceAccount")
                  if r.inputs["metadata"]["name"] == spec["serviceAccountName"]]
    client_id = account["metadata"]["annotations"]["azure.workload.identity/client-id"]
    assert spc["spec"]["parameters"]["clientID"] == client_id
    (federation,) = plan.of_type("azure-native:managedidentity:FederatedIdentityCredential")
    assert federation.inputs["subject"] == f"system:serviceaccount:monitoring:{spec['serviceAccountName']}"
    # the release waits for the ServiceAccount and the SecretProviderClass: the pods start with both in place
    assert account["metadata"]["namespace"] == "monitoring" == spc["metadata"]["namespace"]


def test_the_identity_reads_that_one_secret_only():
    plan = _plan()
    (identity,) = plan.of_type("azure-native:managedidentity:UserAssignedIdentity")
    client_id, principal_id = identity_ids(identity)
    (grant,) = [g for g in plan.of_type("azure-native:authorization:RoleAssignment")
                if g.inputs["principalId"] == principal_id]
    assert grant.inputs["scope"].endswith(f"/secrets/{SECRET}")
    (spc,) = plan.of_type("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")
    assert spc.inputs["spec"]["parameters"]["clientID"] == client_id


def test_the_receivers_endpoint_is_never_in_the_plan():
    """The program knows the secret's name only, and names it where Key Vault is asked (the grant's scope, the
    SecretProviderClass); no input anywhere carries a receiver's address (Alertmanager reads it from the file)."""
    plan = _plan()
    endpoints = [(r.type, r.name, path) for r in plan.resources for path, value in leaf_items(r.inputs)
                 if isinstance(value, str) and re.search(r"https://\S*(webhook|hooks\.|pagerduty|logic\.azure)", value)]
    assert endpoints == []
    naming = {(r.type, path) for r in plan.resources for path, value in leaf_items(r.inputs)
              if isinstance(value, str) and SECRET in value}
    assert naming == {("azure-native:authorization:RoleAssignment", "scope"),
                      ("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "spec.parameters.objects")}


def test_every_value_set_that_the_alertmanager_template_reads_is_transcribed():
    """tests/offline/test_rendered_crds.py's guard, on the release with a receiver (no planned variant has one)."""
    from tests.offline.test_rendered_crds import _leaves, _template_paths
    release = _release(_plan())
    ours = set(_leaves(release.get("values") or {}))
    read = Read(chart_values(release))
    release_objects(release, read)
    touching = {p for p in _template_paths("kube-prometheus-stack")
                if any(o == p or o.startswith(p + ".") or p.startswith(o + ".") for o in ours)}
    assert touching - read.paths == set()


def test_alertmanager_may_reach_the_receiver_over_https():
    plan = _plan()
    objects = [{"kind": r.type.rsplit(":", 1)[-1], **r.inputs} for r in plan.resources
               if r.type in ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "kubernetes:core/v1:Namespace")]
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    namespaces = {o["metadata"]["name"]: o["metadata"].get("labels") or {} for o in objects
                  if o["kind"] == "Namespace"}
    spec = [o for o in release_objects(_release(plan)) if o["kind"] == "Alertmanager"][0]["spec"]
    # prometheus-operator's pod labels (pkg/alertmanager/statefulset.go) with podMetadata's
    pod = Pod("monitoring", {"app.kubernetes.io/name": "alertmanager", **spec["podMetadata"]["labels"]})
    assert connects(policies, pod, Outside("52.112.0.1"), 443, namespaces)  # a Teams / Workflows address
    assert not connects(policies, pod, Outside("169.254.169.254"), 80, namespaces)  # not the node's identity


def test_a_component_refuses_a_bad_receiver():
    from llmplatform.input_rules import problems_of
    found = problems_of("Observability", {"alert_receiver": {"kind": "email", "secret": "a_b"}})
    assert [(p.path, p.value) for p in found] == [("alert_receiver.kind", "email"),
                                                  ("alert_receiver.secret", WITHHELD)]  # it may be the URL itself
