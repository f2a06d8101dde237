"""Volume claims a deletion takes with it that Pulumi does not register: a Helm release's (its chart's template, or
a StatefulSet's volumeClaimTemplates made by a controller) and every claim of a deleted namespace.

- A Release's delete is a Helm uninstall (pulumi/pulumi-kubernetes at 9497796, provider/pkg/provider/helm_release.go
  `Delete`: `action.NewUninstall`), and its replacement installs the new release first and uninstalls the old one
  after (its Diff answers `DeleteBeforeReplace: false`). Helm uninstalls every object of the release's manifest but
  those annotated `helm.sh/resource-policy` (helm/helm v3.20.2, pkg/action/uninstall.go `deleteRelease` and
  pkg/action/resource_policy.go `filterManifestsToKeep`: a manifest with the annotation is left out of the deletion
  whatever its value; `keep` is the documented one), so a claim the chart templates goes with it.
- A claim a StatefulSet's controller makes from its volumeClaimTemplates is in no manifest: deleting the StatefulSet
  leaves it unless the StatefulSet's `persistentVolumeClaimRetentionPolicy.whenDeleted` is `Delete`
  (kubernetes/kubernetes pkg/apis/apps/v1/defaults.go `SetDefaults_StatefulSet`: Retain when unset).
- Deleting a namespace deletes every object in it (kubernetes/kubernetes pkg/controller/namespace/deletion/
  namespaced_resources_deleter.go: the namespace controller deletes all content before the namespace goes), claims
  made by Pulumi, by a chart or by a controller alike.

Which claims a chart makes is read from the release's values over the vendored chart defaults
(offline/deploy_model/charts.py `chart_values`), per chart below; a chart not listed makes none (the charts the
program installs were read: only kube-prometheus-stack's make claims)."""
from typing import Any, Callable, NamedTuple, Optional

from llmplatform.images import values_at

from .documents import object_name
from .values import grafana_renders_claim


HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"
STATEFUL_SETS = ("kubernetes:apps/v1:StatefulSet",)
KEEP_ANNOTATION = "helm.sh/resource-policy"


class Claim(NamedTuple):
    """A volume claim a release makes: whose, what it holds, what makes it, and whether its uninstall deletes it."""

    who: str
    holds: str
    made_by: str
    uninstall_deletes: bool


def _deleted_with_its_owner(policy: Any) -> bool:
    """A StatefulSet's `persistentVolumeClaimRetentionPolicy` deletes its claims with it (`whenDeleted: Delete`;
    Retain when unset)."""
    return isinstance(policy, dict) and str(policy.get("whenDeleted")) == "Delete"


def _operator_claim(values: dict[str, Any], enabled: str, spec: str, storage: str, who: str, holds: str,
                    retention: bool = True) -> Optional[Claim]:
    """A claim prometheus-operator makes for a Prometheus, Alertmanager or ThanosRuler the chart templates: the chart
    copies `<spec>.<storage>` into the resource's `storage` when it is set (kube-prometheus-stack-88.5.3, ea930bae,
    templates/prometheus/prometheus.yaml, alertmanager/alertmanager.yaml, thanos-ruler/ruler.yaml), and the operator
    turns a storage that is neither `emptyDir` nor `ephemeral` into its StatefulSet's volumeClaimTemplates
    (prometheus-operator v0.93.0, f8fafd47, pkg/prometheus/server/statefulset.go, pkg/alertmanager/statefulset.go),
    with the resource's `persistentVolumeClaimRetentionPolicy` where the chart passes one (not for ThanosRuler)."""
    if values_at(values, enabled) is False:
        return None
    settings = values_at(values, spec)
    given = settings.get(storage) if isinstance(settings, dict) else None
    if not isinstance(given, dict) or not given or given.get("emptyDir") is not None or \
            given.get("ephemeral") is not None:
        return None
    policy = settings.get("persistentVolumeClaimRetentionPolicy") if retention else None
    return Claim(who, holds, f"made by its StatefulSet from `{spec}.{storage}`", _deleted_with_its_owner(policy))


def _grafana_claims(inputs: dict[str, Any], values: dict[str, Any]) -> list[Claim]:
    """Grafana's claim: templated by its chart (templates/pvc.yaml: `grafana_renders_claim`), or a StatefulSet's
    volumeClaimTemplates (templates/statefulset.yaml at grafana-12.11.1, 864f7794: the StatefulSet with
    `useStatefulSet` or persistence type sts/StatefulSet/statefulset without existingClaim, its claim template with
    `persistence.enabled`, its retention policy `persistence.persistentVolumeClaimRetentionPolicy`)."""
    holds = "its dashboards, users and settings"
    grafana = values.get("grafana")
    if not isinstance(grafana, dict) or not isinstance(grafana.get("persistence"), dict):
        return []
    persistence = grafana["persistence"]
    annotations = persistence.get("annotations")
    if grafana_renders_claim(inputs):
        kept = isinstance(annotations, dict) and KEEP_ANNOTATION in annotations
        return [Claim("Grafana's", holds, "templated by the chart from `grafana.persistence`", not kept)]
    stateful = grafana.get("useStatefulSet") is True or (
        not persistence.get("existingClaim") and persistence.get("type") in ("sts", "StatefulSet", "statefulset"))
    if stateful and persistence.get("enabled") is True:
        policy = persistence.get("persistentVolumeClaimRetentionPolicy")
        return [Claim("Grafana's", holds, "made by its StatefulSet from `grafana.persistence`",
                      _deleted_with_its_owner(policy))]
    return []


def _kube_prometheus_stack(inputs: dict[str, Any], values: dict[str, Any]) -> list[Claim]:
    found = [
        _operator_claim(values, "prometheus.enabled", "prometheus.prometheusSpec", "storageSpec", "Prometheus'",
                        "its metrics"),
        _operator_claim(values, "alertmanager.enabled", "alertmanager.alertmanagerSpec", "storage", "Alertmanager's",
                        "its silences and notification log"),
        _operator_claim(values, "thanosRuler.enabled", "thanosRuler.thanosRulerSpec", "storage", "Thanos Ruler's",
                        "its rule evaluations", retention=False),
    ]
    return [c for c in found if c] + _grafana_claims(inputs, values)


# chart name -> the claims its values make
CHART_CLAIMS: dict[str, Callable[[dict[str, Any], dict[str, Any]], list[Claim]]] = {
    "kube-prometheus-stack": _kube_prometheus_stack,
}


def release_claims(inputs: dict[str, Any]) -> list[Claim]:
    """The volume claims a Release's chart makes with its values (none for a chart not in CHART_CLAIMS)."""
    # imported here: the deploy model's package takes about a second to import, and most diffs delete no release
    from ..deploy_model.charts import chart_name, chart_values
    finder = CHART_CLAIMS.get(chart_name(inputs))
    return finder(inputs, chart_values(inputs)) if finder else []


def _said(claims: list[Claim]) -> str:
    return ", ".join(f"{c.who} ({c.holds}; {c.made_by})" for c in claims)


def _namespace_of(resource: dict[str, Any]) -> str:
    inputs = resource["inputs"]
    if resource["type"] == HELM_RELEASE:
        return str(inputs.get("namespace") or "")
    return str((inputs.get("metadata") or {}).get("namespace") or "")


def namespace_claims(namespace: str, resources: dict[str, dict[str, Any]]) -> list[str]:
    """What holds claims in the namespace, among the plan's resources: its registered claims, the claims of its Helm
    releases (kept on uninstall or not) and of its StatefulSets' volumeClaimTemplates."""
    found = []
    for resource in sorted(resources.values(), key=lambda r: (r["type"], r.get("name") or "")):
        if not namespace or _namespace_of(resource) != namespace:
            continue
        if resource["type"] == CLAIM:
            found.append(f"claim `{object_name(resource)}`")
        elif resource["type"] == HELM_RELEASE:
            claims = release_claims(resource["inputs"])
            if claims:
                found.append(f"release `{resource['inputs'].get('name') or resource.get('name')}`'s: "
                             + _said(claims))
        elif resource["type"] in STATEFUL_SETS:
            templates = ((resource["inputs"].get("spec") or {}).get("volumeClaimTemplates") or [])
            if templates:
                found.append(f"StatefulSet `{object_name(resource)}`'s volumeClaimTemplates")
    return found


def claims_lost(urn: str, old_res: dict[str, dict[str, Any]],
                gone: frozenset[str] = frozenset()) -> tuple[Optional[str], Optional[str]]:
    """(what goes, what stays) when the resource is deleted or replaced: a namespace holding claims, or a Helm release
    whose uninstall deletes claims (what goes, which makes the deletion stateful); a release whose claims outlive its
    uninstall (what stays, a note, unless its namespace is among the `gone` ones: then that namespace's line tells
    them)."""
    old = old_res[urn]
    if old["type"] == NAMESPACE:
        namespace = object_name(old)
        inside = namespace_claims(namespace, old_res)
        if inside:
            return (f"the namespace `{namespace}` and every volume claim in it (deleting a namespace deletes every "
                    f"object in it): {'; '.join(inside)}"), None
        return None, None
    if old["type"] != HELM_RELEASE:
        return None, None
    claims = release_claims(old["inputs"])
    deleted, kept = [c for c in claims if c.uninstall_deletes], [c for c in claims if not c.uninstall_deletes]
    goes = (f"volume claims its Helm uninstall deletes: {_said(deleted)}") if deleted else None
    stays = (f"its uninstall leaves {_said(kept)} claim(s) in namespace `{old['inputs'].get('namespace')}` (a "
             "StatefulSet's claims are retained, or the chart marks them `helm.sh/resource-policy`): they stay until "
             "deleted by hand or with their namespace") if kept and old["inputs"].get("namespace") not in gone else None
    return goes, stays
