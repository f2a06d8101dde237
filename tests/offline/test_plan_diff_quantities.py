"""A Kubernetes quantity spelled anew (`cpu: 4` -> `4000m`) through the pull request's check: the API server stores
one form (apimachinery pkg/api/resource quantity.go `CanonicalizeBytes`), pulumi-kubernetes' Diff compares that form
(provider.go `Diff` -> clients.Normalize), so no update and no restart; one value in another form (`32Gi` ->
`34359738368`) is an update a Deployment rolls out to no pod (it compares templates by value), a StatefulSet to every
pod (its revision compares the stored bytes). docs/decisions.md, "Quantities the API server stores alike"."""
import copy

import pytest

from llmplatform.rules import canonical_quantity, parse_quantity

from tests.conftest import plan_for
from tests.offline.plan_diff_cli import check, plan_document

OLLAMA = "Deployment::inference-ollama"
CONTAINER = "spec.template.spec.containers[0]"
ROLLS = "; its pods restart: a new pod template, each running pod replaced by its rolling update"


def _lines(out: str, start: str, name: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(start) and f"{name}`" in line]


@pytest.mark.parametrize("spelled, stored", [
    # quantity_test.go's own canonical forms (apimachinery eed236ce pkg/api/resource)
    ("1000m", "1"), ("0.5", "500m"), ("1.5", "1500m"), ("1024Mi", "1Gi"), ("16384Mi", "16Gi"), ("1.5Gi", "1536Mi"),
    ("0.5Gi", "512Mi"), ("1.5Ki", "1536"), ("1000", "1k"), ("1000k", "1M"), ("1073741824", "1073741824"),
    ("1e3", "1e3"), ("1.5e3", "1500"), ("0m", "0"), ("0.1m", "100u"), ("0.1n", "1n"), ("-1000m", "-1"),
    ("1023Ki", "1023Ki"), ("4", "4"), ("x", None)])
def test_a_quantity_is_written_back_in_the_api_servers_one_form(spelled, stored):
    assert canonical_quantity(spelled) == stored


@pytest.mark.parametrize("spelled, stored", [
    # what apimachinery eed236ce's ParseQuantity then String (MarshalJSON, ToUnstructured) gave for each, run here:
    # its int64 path keeps the spelling it takes for canonical (a `+`, leading zeros, `1.`, fraction digits in threes,
    # `E`, `e+3`, a binary one not a multiple of 8) ...
    ("+4", "+4"), ("01", "01"), ("010", "010"), ("1.", "1."), ("2.500", "2.500"), ("1.010", "1.010"),
    ("12.345M", "12.345M"), ("1E3", "1E3"), ("1e+3", "1e+3"), ("1e03", "1e03"), ("1E-3", "1E-3"), ("01Ki", "01Ki"),
    ("+1Ki", "+1Ki"), ("1.Ki", "1.Ki"), ("010Ki", "010Ki"),
    # ... and writes the others canonical, however long or large
    ("4.000", "4"), ("0.500", "500m"), ("+1000m", "1"), ("08Ki", "8Ki"), ("+.01Ei", "11529215046068469760m"),
    ("1e71", "100e69"), ("1e1000", "10e999"), ("1234567890123456789012345678901", "1234567890123456789012345678901"),
    ("-1234567890123456789012345678901.5", "-1234567890123456789012345678901500m"), ("1000E", None)])
def test_a_spelling_the_api_servers_parser_keeps_is_stored_as_spelled(spelled, stored):
    """`1000E` is stored `1` (its exponent 21 has no suffix and is dropped): not taken for the same as `1`."""
    assert canonical_quantity(spelled) == stored


def test_a_kept_spelling_is_an_update_of_the_same_value(tmp_path, prod):
    """`cpuRequest: "+4"` for prod's `4`: the API server keeps `+4`, so pulumi-kubernetes' Diff sees `4` -> `+4`, an
    update, which the Deployment rolls out to no pod."""
    code, out = check(tmp_path, plan_document(prod),
                      plan_document(plan_for("prod", {"inference": {"resources": {"cpuRequest": "+4"}}})))
    [line] = _lines(out, "- Update:", OLLAMA)
    assert code == 0 and "resources.requests.cpu" in line and line.endswith("the same ReplicaSet, no pod restarts"), out
    assert not _lines(out, "- Spelled anew", OLLAMA), out


def test_a_quantity_past_a_decimals_default_precision_is_told_not_a_traceback(tmp_path, prod):
    """A limit of `1e80` (or a hundred digits): its canonical form is worked out exactly, and the check tells the
    Update."""
    base = plan_document(prod)
    new = copy.deepcopy(base)
    [urn] = [u for u in new if u.endswith(OLLAMA)]
    new[urn]["inputs"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "1e80"
    code, out = check(tmp_path, base, new)
    [line] = _lines(out, "- Update:", OLLAMA)
    assert code == 0 and "resources.limits.cpu" in line and line.endswith(ROLLS), out


def test_a_request_spelled_anew_is_no_update_and_restarts_no_pod(tmp_path, prod):
    """`cpuRequest: "4000m"` and `memoryRequest: 16384Mi` for prod's `4` and `16Gi`: pulumi-kubernetes' Diff finds
    nothing, so the check shows no Update of the Ollama Deployment and says why the plans differ."""
    base = plan_document(prod)
    new = plan_document(plan_for("prod", {"inference": {"resources": {"cpuRequest": "4000m",
                                                                      "memoryRequest": "16384Mi"}}}))
    code, out = check(tmp_path, base, new)
    assert code == 0 and not _lines(out, "- Update:", OLLAMA), out
    [line] = _lines(out, "- Spelled anew, stored as before", OLLAMA)
    assert f"`{CONTAINER}.resources.requests.cpu` `4` -> `4000m`, both stored `4`" in line, line
    assert f"`{CONTAINER}.resources.requests.memory` `16Gi` -> `16384Mi`, both stored `16Gi`" in line, line
    assert "no pod restarts" in line and "its pods restart" not in out, out


def test_a_request_of_a_new_value_still_rolls_the_pods(tmp_path, prod):
    """`4500m` is no `4`: the template changes and the Deployment rolls it out."""
    code, out = check(tmp_path, plan_document(prod),
                      plan_document(plan_for("prod", {"inference": {"resources": {"cpuRequest": "4500m"}}})))
    [line] = _lines(out, "- Update:", OLLAMA)
    assert code == 0 and "resources.requests.cpu" in line and line.endswith(ROLLS), line
    assert not _lines(out, "- Spelled anew", OLLAMA), out


@pytest.mark.parametrize("kind, says", [
    ("Deployment", "; an update Pulumi shows, which changes no value of the pod template (a quantity in another form, "
                   "the Deployment compares by value): the same ReplicaSet, no pod restarts"),
    # a new ControllerRevision, but its pods still match the template generation the DaemonSet keeps
    # (kubernetes pkg/registry/apps/daemonset/strategy.go, pkg/controller/daemon/util `IsPodUpdated`)
    ("DaemonSet", "; an update Pulumi shows, which changes no value of the pod template (a quantity in another form): "
                  "a new ControllerRevision, but the same template generation, which its pods' "
                  "`pod-template-generation` label still matches: no pod restarts"),
    ("StatefulSet", ROLLS)])
def test_one_value_in_another_form_is_an_update_which_a_deployment_rolls_to_no_pod(tmp_path, prod, kind, says):
    """`memoryLimit: "34359738368"` for `32Gi`: stored in its own form (an update Pulumi shows), the same value."""
    base = plan_document(prod)
    new = plan_document(plan_for("prod", {"inference": {"resources": {"memoryLimit": "34359738368"}}}))
    urn = next(u for u in new if u.endswith(OLLAMA))
    shaped = f"{urn.rsplit('kubernetes:apps/v1:Deployment::', 1)[0]}kubernetes:apps/v1:{kind}::inference-ollama"
    for doc in (base, new):
        doc[shaped] = {**doc.pop(urn), "type": f"kubernetes:apps/v1:{kind}"}
        doc[shaped]["inputs"] = {**doc[shaped]["inputs"], "kind": kind}
    code, out = check(tmp_path, base, new)
    [line] = _lines(out, "- Update:", f"{kind}::inference-ollama")
    assert code == 0 and "resources.limits.memory" in line and line.endswith(says), line


@pytest.mark.parametrize("storage, alike", [("102400Mi", True), ("102401Mi", False)])
def test_a_claims_storage_spelled_anew_is_no_update(tmp_path, prod, storage, alike):
    """The uploads claim's `100Gi` as `102400Mi` is no update; `102401Mi` grows it."""
    base = plan_document(prod)
    new = copy.deepcopy(base)
    [claim] = [u for u in new if u.endswith("PersistentVolumeClaim::inference-webui-uploads")]
    new[claim]["inputs"]["spec"]["resources"]["requests"]["storage"] = storage
    code, out = check(tmp_path, base, new)
    assert code == 0 and bool(_lines(out, "- Update:", "inference-webui-uploads")) is not alike, out
    said = f"`spec.resources.requests.storage` `100Gi` -> `{storage}`, both stored `100Gi`"
    assert [said in line for line in _lines(out, "- Spelled anew", "inference-webui-uploads")] == [alike] * alike, out


def test_an_empty_dirs_size_limit_spelled_anew_is_no_update(tmp_path, prod):
    """An emptyDir's sizeLimit is a quantity too (core/v1 EmptyDirVolumeSource): each one of prod's Ollama
    Deployment's volumes written in mebibytes is no update."""
    base = plan_document(prod)
    new = copy.deepcopy(base)
    [urn] = [u for u in new if u.endswith(OLLAMA)]
    limits = [volume["emptyDir"] for volume in new[urn]["inputs"]["spec"]["template"]["spec"]["volumes"]
              if "sizeLimit" in (volume.get("emptyDir") or {})]
    for empty_dir in limits:
        empty_dir["sizeLimit"] = f"{parse_quantity(empty_dir['sizeLimit']) / 2**20:f}Mi"
    code, out = check(tmp_path, base, new)
    [line] = _lines(out, "- Spelled anew", OLLAMA)
    assert code == 0 and limits and not _lines(out, "- Update:", OLLAMA) and "sizeLimit" in line, out


def test_a_request_spelled_anew_beside_a_real_change_leaves_the_update_to_say_what_restarts(tmp_path, prod):
    """`4000m` for `4` beside a memory request grown to `20Gi`: the Update lists the memory alone and rolls the pods;
    the spelled-anew line does not say "no pod restarts" of a Deployment that restarts them."""
    new = plan_document(plan_for("prod", {"inference": {"resources": {"cpuRequest": "4000m",
                                                                      "memoryRequest": "20Gi"}}}))
    code, out = check(tmp_path, plan_document(prod), new)
    [update] = _lines(out, "- Update:", OLLAMA)
    [anew] = _lines(out, "- Spelled anew", OLLAMA)
    assert code == 0 and "resources.requests.memory" in update and "requests.cpu" not in update, update
    assert update.endswith(ROLLS) and "requests.cpu` `4` -> `4000m`" in anew and "no pod restarts" not in anew, out


@pytest.mark.parametrize("storage, replaced", [("102400Mi", False), ("200Gi", True)])
def test_a_claim_templates_storage_spelled_anew_is_no_replacement(tmp_path, prod, storage, replaced):
    """A StatefulSet's volumeClaimTemplates replace it (pulumi-kubernetes' forceNew): `100Gi` as `102400Mi` is stored
    alike, no change; `200Gi` still replaces it."""
    base = plan_document(prod)
    [urn] = [u for u in base if u.endswith(OLLAMA)]
    shaped = urn.replace("apps/v1:Deployment", "apps/v1:StatefulSet")
    base[shaped] = {**base.pop(urn), "type": "kubernetes:apps/v1:StatefulSet"}
    base[shaped]["inputs"] = {**base[shaped]["inputs"], "kind": "StatefulSet"}
    base[shaped]["inputs"]["spec"] = {**base[shaped]["inputs"]["spec"], "volumeClaimTemplates": [
        {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                "resources": {"requests": {"storage": "100Gi"}}}}]}
    new = copy.deepcopy(base)
    new[shaped]["inputs"]["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] = storage
    code, out = check(tmp_path, base, new)
    assert code == 0 and bool(_lines(out, "- Replace:", "StatefulSet::inference-ollama")) is replaced, out
    assert bool(_lines(out, "- Spelled anew", "StatefulSet::inference-ollama")) is not replaced, out
