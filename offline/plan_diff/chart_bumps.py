"""Chart bumps Helm does not carry out whole (the CRDs a chart ships in its `crds/` folder), CRD bundles whose
new release may leave a CRD out, and an Open-WebUI image bump, whose schema migration only goes forward.

Helm installs a chart's `crds/` on the release's first install and never again: an upgrade reads no `crds/` (Helm
v3.20.2 `pkg/action/install.go` `installCRDs` skips a CRD that exists; `pkg/action/upgrade.go` does not call it),
so a new chart version keeps the CRDs of the first install unless the chart upgrades them itself. Which charts of
ours ship theirs there, and what each does about it, is docs/decisions.md "Deploy model", "where the CRDs come
from" (istio base, keda, keda-add-ons-http and cert-manager template theirs: upgraded with the chart).
"""
import re
from typing import Any, Callable, Optional

from ..deploy_model.charts import chart_name, chart_values

RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
RUNBOOK = 'docs/operations.md, "Upgrading charts and images"'


def _at(values: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        values = values.get(key) if isinstance(values, dict) else None  # type: ignore[assignment]
    return values


def _kube_prometheus_stack(inputs: dict[str, Any], values: dict[str, Any]) -> Optional[str]:
    """prometheus-community/helm-charts kube-prometheus-stack-88.5.3 (ea930bae): the prometheus-operator CRDs are
    the `crds` subchart's `crds/` (condition `crds.enabled`); its pre-upgrade Job applies them only with
    `crds.upgradeJob.enabled` (default false, values.yaml)."""
    if _at(values, "crds.enabled") is False or _at(values, "crds.upgradeJob.enabled") is True:
        return None
    return ("Helm keeps the prometheus-operator CRDs of the first install (the chart's `charts/crds/crds/`; its CRD "
            "upgrade Job, `crds.upgradeJob.enabled`, is off), so an object of a field the new operator added would "
            "meet the old schema: apply the new version's CRDs before this `pulumi up` (`kubectl apply "
            "--server-side --force-conflicts -f charts/crds/crds/` of the new chart; " + RUNBOOK + ")")


def _gpu_operator(inputs: dict[str, Any], values: dict[str, Any]) -> Optional[str]:
    """NVIDIA/gpu-operator values.yaml (vendored): `operator.upgradeCRD: true` runs a pre-upgrade hook that applies
    the new ClusterPolicy, NVIDIADriver and NFD CRDs, and "requires --disable-openapi-validation flag to be passed
    during helm upgrade": Helm validates the rendered ClusterPolicy against the cluster's CRD before any hook runs.
    NVIDIA's upgrade guide applies the CRDs first instead (`crds/` and `charts/node-feature-discovery/crds/`)."""
    hook = _at(values, "operator.upgradeCRD") is not False
    if hook and inputs.get("disableOpenapiValidation") is True:
        return None
    why = ("Helm validates the new ClusterPolicy against the CRD of the first install before the chart's CRD "
           "upgrade hook runs (`operator.upgradeCRD`; its values: it \"requires --disable-openapi-validation\", "
           "which this Release does not set)" if hook else
           "Helm keeps the CRDs of the first install (`operator.upgradeCRD` is off)")
    return (f"{why}: apply the new version's CRDs before this `pulumi up` (`kubectl apply --server-side "
            "--force-conflicts -f` the new chart's `crds/` and `charts/node-feature-discovery/crds/`; " + RUNBOOK + ")")


# chart name -> what a version bump leaves undone (None: nothing)
CRDS_IN_CRDS_FOLDER: dict[str, Callable[[dict[str, Any], dict[str, Any]], Optional[str]]] = {
    "kube-prometheus-stack": _kube_prometheus_stack,
    "gpu-operator": _gpu_operator,
}


def chart_bump_findings(type_: str, old_inputs: dict[str, Any], new_inputs: dict[str, Any],
                        paths: list[str]) -> list[str]:
    """Check lines for a Release whose chart version changes when its chart ships CRDs Helm will not upgrade."""
    if type_ != RELEASE or "version" not in paths:
        return []
    finder = CRDS_IN_CRDS_FOLDER.get(chart_name(new_inputs))
    left = finder(new_inputs, chart_values(new_inputs)) if finder else None
    if not left:
        return []
    return [f"`version` {old_inputs.get('version')!r} -> {new_inputs.get('version')!r} "
            f"(chart {chart_name(new_inputs)}): {left}"]


def crd_bundle_findings(type_: str, old_inputs: dict[str, Any], new_inputs: dict[str, Any],
                        paths: list[str]) -> list[str]:
    """Check lines for a yaml/v2 ConfigFile whose `file` changes (the Gateway API's or the Inference Extension's CRD
    bundle, a new release's URL). Its objects are its children (pulumi-kubernetes' yaml/v2 registers one per object
    of the file), so one the new file lacks is deleted at the end of the `pulumi up`, as the engine deletes whatever
    the program no longer registers; and deleting a CRD deletes every object of its kind ("When you delete a
    CustomResourceDefinition, the server will uninstall the RESTful API endpoint and delete all custom objects stored
    in it", Kubernetes' "Extend the Kubernetes API with CustomResourceDefinitions"). resources.json holds the file's
    URL, not its objects: the CLI replaces this line with what leaves, arrives or loses a version when both plans'
    crd-bundles.json read the two files (offline/plan_diff/crd_bundles.py), and keeps it, with why, where not."""
    if type_ != CONFIG_FILE or "file" not in paths:
        return []
    return [f"`file` {old_inputs.get('file')!r} -> {new_inputs.get('file')!r}: a CustomResourceDefinition the old "
            "file holds and the new one does not is deleted by this `pulumi up`, and Kubernetes deletes every object "
            "of its kind with it (a CRD moved to another API group is such a one): compare the two files' CRD names "
            "(`metadata.name` of each `kind: CustomResourceDefinition`) before merging"]


JOB = "kubernetes:batch/v1:Job"
# OpenWebUi's schema migration Job (llmplatform.open_webui `_migration`: labels("ui-migration", ...)), one per image
MIGRATION_COMPONENT = "ui-migration"


def migration_findings(type_: str, old_inputs: dict[str, Any], new_inputs: dict[str, Any],
                       paths: list[str]) -> list[str]:
    """A check line for Open-WebUI's migration Job run with another image: it upgrades the UI's database to the new
    version's schema (Alembic's `upgrade head`) before the Deployment rolls, and Alembic migrates only forward: an
    older image's Job stops at a revision its scripts do not hold ("Can't locate revision"), so the way back is the
    database restored to the time before the `pulumi up`."""
    labels = (new_inputs.get("metadata") or {}).get("labels") or {}
    if type_ != JOB or labels.get("app.kubernetes.io/component") != MIGRATION_COMPONENT:
        return []
    images = [p for p in paths if p.startswith("spec.template.spec.containers[") and p.endswith("].image")]
    if not images:
        return []

    def image(inputs: dict[str, Any]) -> Any:
        containers = (((inputs.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or [{}]
        return containers[0].get("image")
    if _same_release(image(old_inputs), image(new_inputs)):  # the same migrations: nothing to migrate
        return []
    if _older(_version(image(new_inputs)), _version(image(old_inputs))):  # a bump reverted: the database is ahead
        return [f"`image` {image(old_inputs)!r} -> {image(new_inputs)!r} goes back a version: if the newer one "
                "migrated the database, this Job's `alembic upgrade head` fails on it (\"Can't locate revision\") and "
                "the UI's pods do not roll; restore the database to the time before the newer image's `pulumi up` "
                "first (" + RUNBOOK + ")"]
    return [f"`image` {image(old_inputs)!r} -> {image(new_inputs)!r}: this Job migrates Open-WebUI's database to the "
            "new version's schema before the UI's pods roll (the old pods serve on it meanwhile), and migrations only "
            "go forward: note the time before `pulumi up`, since going back is the database restored to it with the "
            "old image (an older image's migration Job fails on the newer schema; " + RUNBOOK + ")"]


def _version(image: Any) -> Any:
    """The tag of `image` (`registry/repository:tag[@sha256:...]`), the release it runs: a mirror keeps it."""
    if not isinstance(image, str):
        return image
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[1] if ":" in name else None


def _digest(image: Any) -> Any:
    return image.split("@", 1)[1] if isinstance(image, str) and "@" in image else None


# Open-WebUI's release tags: `v0.11.0` (its git tag) and `0.11.0`, one image (.github/workflows/docker-build.yaml at
# 4fd67c48 and 00a21005: `type=ref,event=tag` and `type=semver,pattern={{version}}` of one manifest list); `0.11`
# (`{{major}}.{{minor}}`), `main` and `latest` (each push to main) move
_RELEASE_TAG = re.compile(r"v?([0-9]+)\.([0-9]+)\.([0-9]+)")


def _release(tag: Any) -> Optional[tuple[int, ...]]:
    """Release tag `0.10.2` or `v0.10.2` as (0, 10, 2); None for any other tag."""
    match = _RELEASE_TAG.fullmatch(tag) if isinstance(tag, str) else None
    return tuple(int(part) for part in match.groups()) if match else None


def _same_release(image: Any, other: Any) -> bool:
    """Whether two images run one release: one release tag from any registry (a mirror, `cluster.imageRegistry`),
    digest (`make pin-digests`) or spelling (`v`); else one tag and one digest: a tag that moves is another build
    under another digest."""
    release = _release(_version(image))
    if release is not None:
        return release == _release(_version(other))
    return (_version(image), _digest(image)) == (_version(other), _digest(other))


def _older(tag: Any, than: Any) -> bool:
    """Whether release tag `tag` (`0.10.2`, `v0.10.2`) is older than `than` (False when either is no such tag)."""
    a, b = _release(tag), _release(than)
    return a is not None and b is not None and a < b
