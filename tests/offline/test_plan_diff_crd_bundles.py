"""The CRDs of the yaml/v2 ConfigFiles (Gateway API, Inference Extension): `make plan` records them
(build/<stack>/crd-bundles.json, read from the vendored copy of each release URL) and the PR check compares base and
head. pulumi-kubernetes registers each object of the file as the ConfigFile's child `<resourcePrefix>:<name>`
(94977969 provider/pkg/provider/yaml/v2/yaml.go `register`), so a CRD the new file lacks is deleted, and the API server
deletes every object of its kind with it.

The edits are real ones: a copy of the vendored bundle with a CRD taken out or a version no longer served, which the
head plan's ConfigFile reads (its `file` pointed at the copy, as a stack whose bundle is a path would), recorded by
the same code `make plan` runs."""
import contextlib
import copy
import io
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from offline import crd_bundles, plan
from offline import plan as plan_cli
from offline.plan_diff import main as plan_diff_main
from offline.plan_diff.crd_bundles import RECORD, read_record
from offline.plan_diff.documents import PlanError

from tests.conftest import variant, variant_or_stack

GATEWAY_BUNDLE = crd_bundles.ROOT / "tests/upstream/crd-bundles/gateway-api-v1.6.1-standard-install.yaml"
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


@pytest.fixture(scope="module")
def llmd_doc() -> dict:
    """The llm-d stack's plan (both bundles: Gateway API and Inference Extension), as resources.json lists it."""
    return plan.resources_document(variant("llmd"))


def _gateway_file(doc: dict) -> dict:
    return next(r for r in doc["resources"] if r["type"] == crd_bundles.CONFIG_FILE
                and r["name"].endswith("-gateway-api-crds"))


def _docs(text: str) -> list[str]:
    return text.split("\n---\n")


def _without(text: str, crd: str) -> str:
    return "\n---\n".join(d for d in _docs(text) if f"\n  name: {crd}\n" not in d)


def _edit_crd(text: str, crd: str, edit) -> str:
    """The bundle with one CRD's document loaded, edited and written back (the rest byte for byte)."""
    out = []
    for part in _docs(text):
        if f"\n  name: {crd}\n" in part:
            obj = yaml.safe_load(part)
            edit(obj)
            part = yaml.safe_dump(obj, sort_keys=False)
        out.append(part)
    return "\n---\n".join(out)


def _pointed_at(doc: dict, bundle: Path) -> dict:
    """The plan with its Gateway API ConfigFile reading `bundle`."""
    new = copy.deepcopy(doc)
    _gateway_file(new)["inputs"]["file"] = str(bundle)
    return new


def _folders(tmp_path: Path, base: dict, head: dict, base_record: bool = True) -> list[str]:
    folders = []
    for name, doc, recorded in (("base", base, base_record), ("head", head, True)):
        folder = tmp_path / name
        folder.mkdir(parents=True)
        (folder / "resources.json").write_text(json.dumps(doc))
        if recorded:  # what make plan writes beside it
            (folder / RECORD).write_text(json.dumps(crd_bundles.record(doc["resources"])))
        folders.append(str(folder))
    return folders


def _run(folders: list[str], *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = plan_diff_main([*folders, *args])
    return code, out.getvalue(), err.getvalue()


def _engine_urn(stack_doc: dict, crd: str) -> str:
    config_file = _gateway_file(stack_doc)
    return (f"urn:pulumi:{stack_doc['stack']}::{stack_doc['project']}::llmplatform:index:GatewayAccess"
            f"$kubernetes:yaml/v2:ConfigFile${CRD}::{config_file['name']}:{crd}")


def test_the_record_holds_each_bundles_crds_as_the_provider_registers_them(llmd_doc):
    """Both bundles are read from their vendored copies; each CRD is named as pulumi-kubernetes names the child
    (`<resourcePrefix>:<metadata.name>`, the prefix the ConfigFile's name: yaml/v2/configfile_test.go expects
    `...ConfigFile$kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition::prefixed:crontabs.stable.example.com`
    of a ConfigFile given resourcePrefix "prefixed")."""
    record = crd_bundles.record(llmd_doc["resources"])["bundles"]
    by_name = {urn.rsplit("::", 1)[1]: entry for urn, entry in record.items()}
    gateway = by_name["gateway-gateway-api-crds"]
    assert gateway["source"] == "tests/upstream/crd-bundles/gateway-api-v1.6.1-standard-install.yaml"
    crds = {c["name"]: c for c in gateway["crds"]}
    assert len(crds) == 10 and crds["httproutes.gateway.networking.k8s.io"] == {
        "name": "httproutes.gateway.networking.k8s.io", "group": "gateway.networking.k8s.io", "kind": "HTTPRoute",
        "versions": ["v1", "v1beta1"], "served": ["v1", "v1beta1"], "storage": "v1",
        "resource": "gateway-gateway-api-crds:httproutes.gateway.networking.k8s.io"}
    assert crds["referencegrants.gateway.networking.k8s.io"]["storage"] == "v1beta1"
    assert crds["tlsroutes.gateway.networking.k8s.io"]["versions"] == ["v1", "v1alpha2", "v1alpha3"]
    assert crds["tlsroutes.gateway.networking.k8s.io"]["served"] == ["v1"]
    inference = by_name["gateway-inference-extension-crds"]
    assert [(c["name"], c["served"]) for c in inference["crds"]] == [
        ("inferencepoolimports.inference.networking.x-k8s.io", ["v1alpha1"]),
        ("inferencepools.inference.networking.k8s.io", ["v1"])]


def test_the_fast_reader_reads_what_a_full_load_reads():
    """The plan reads libyaml's events and skips the schemas (a fifth of a full load's time); it must take what a
    full load takes, and fall back to one for what it does not follow (an anchor, a List)."""
    for rel in crd_bundles.vendored().values():
        text = (crd_bundles.ROOT / rel).read_text()
        full = [c for c in map(crd_bundles._crd, crd_bundles._objects(yaml.safe_load_all(text))) if c]
        assert crd_bundles.crds_in(text) == full and full
    listed = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [yaml.safe_load(_docs(
        GATEWAY_BUNDLE.read_text())[1])]})
    assert [c["name"] for c in crd_bundles.crds_in(listed)] == ["backendtlspolicies.gateway.networking.k8s.io"]
    anchored = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.c}\n"
                "spec:\n  group: b.c\n  names: {kind: A}\n  versions:\n  - &v {name: v1, served: true, storage: true}\n"
                "  - {name: v2, served: false, storage: false, schema: *v}\n")
    assert crd_bundles.crds_in(anchored) == [{"name": "a.b.c", "group": "b.c", "kind": "A", "versions": ["v1", "v2"],
                                              "served": ["v1"], "storage": "v1"}]


def test_every_pinned_bundle_url_is_vendored_with_its_checksum():
    """A pin bump (pins.json's crds_url) without its vendored copy would leave the plan unable to say which CRDs the
    new release drops."""
    pins = json.loads((crd_bundles.ROOT / "components/llmplatform/data/pins.json").read_text())
    sources = (crd_bundles.ROOT / "tests/upstream/SOURCES.md").read_text()
    index = crd_bundles.vendored()
    for key in ("gateway_api", "inference_extension"):
        rel = index[pins[key]["crds_url"]]
        assert (crd_bundles.ROOT / rel).is_file()
        assert re.search(rf"^[0-9a-f]{{64}}  {re.escape(rel.removeprefix('tests/upstream/'))}$", sources, re.M), rel


def test_make_plan_writes_the_record(tmp_path):
    """`make plan` writes crd-bundles.json beside resources.json: the record of the plan's own ConfigFiles."""
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "dev" / RECORD).read_text())
    resources = json.loads((tmp_path / "dev" / "resources.json").read_text())["resources"]
    assert written == crd_bundles.record(resources) and written["bundles"]
    assert all(entry["crds"] for entry in written["bundles"].values())


def test_a_crd_the_new_bundle_lacks_is_a_blocked_deletion_unless_allowed(tmp_path, llmd_doc):
    bundle = tmp_path / "standard-install.yaml"
    bundle.write_text(_without(GATEWAY_BUNDLE.read_text(), "grpcroutes.gateway.networking.k8s.io"))
    folders = _folders(tmp_path, llmd_doc, _pointed_at(llmd_doc, bundle))
    code, out, err = _run(folders)
    urn = _engine_urn(llmd_doc, "grpcroutes.gateway.networking.k8s.io")
    assert code == 1, out
    assert "**0 to add, 1 to update, 0 to replace, 1 to delete**" in out
    assert (f"`{urn.split('::', 2)[2]}` deleted: a CustomResourceDefinition: the API server deletes every object of "
            "its kind with it, in every namespace, whoever made them  \n  `" + urn + "`") in out
    assert (f"CRD `grpcroutes.gateway.networking.k8s.io` (GRPCRoute, served v1; storage v1): the head's file "
            f"(`{bundle}`) does not hold it") in out
    assert "Check before merging" not in out  # the `file` line is replaced by what it removes
    allow = tmp_path / "allow-replace.txt"
    allow.write_text(urn + "\n")
    code, out, err = _run(folders, "--allow-file", str(allow))
    assert code == 0 and ":warning: **allowed** by `allow-replace.txt` (a CustomResourceDefinition" in out
    code, out, _ = _run(folders, "--allow-stateful")
    assert code == 0 and "**allowed** by the `allow-stateful-replace` label" in out


def test_a_version_no_longer_served_or_listed_is_a_check_before_merging(tmp_path, llmd_doc):
    def unserve(crd):
        crd["spec"]["versions"][1]["served"] = False  # v1beta1

    def drop(crd):
        del crd["spec"]["versions"][1]
    text = _edit_crd(GATEWAY_BUNDLE.read_text(), "httproutes.gateway.networking.k8s.io", unserve)
    text = _edit_crd(text, "gateways.gateway.networking.k8s.io", drop)
    bundle = tmp_path / "standard-install.yaml"
    bundle.write_text(text)
    code, out, _ = _run(_folders(tmp_path, llmd_doc, _pointed_at(llmd_doc, bundle)))
    assert code == 0, out  # a check, not a refusal
    assert "0 to add, 1 to update, 0 to replace, 0 to delete" in out
    assert ("CustomResourceDefinition::gateway-gateway-api-crds:httproutes.gateway.networking.k8s.io`: CRD "
            "`httproutes.gateway.networking.k8s.io` no longer serves `v1beta1` (base: served v1, v1beta1; storage v1; "
            "head: served v1; storage v1): a client, manifest or controller that reads or writes HTTPRoute at v1beta1 "
            "is refused from this `pulumi up` on\n") in out
    [gateways] = [line for line in out.splitlines() if "gateway-gateway-api-crds:gateways." in line]
    assert gateways.startswith("- Check before merging: ")
    assert ("CRD `gateways.gateway.networking.k8s.io` no longer serves `v1beta1` (base: served v1, v1beta1; storage "
            "v1; head: served v1; storage v1)") in gateways
    assert ("CRD `gateways.gateway.networking.k8s.io` no longer lists `v1beta1` in spec.versions: the API server "
            "refuses the CRD update, and this `pulumi up` fails there, while `status.storedVersions` holds one of "
            "them") in gateways


def test_a_storage_version_change_is_a_check_before_merging(tmp_path, llmd_doc):
    def flip(crd):
        for version in crd["spec"]["versions"]:
            version["storage"] = version["name"] == "v1"
    bundle = tmp_path / "standard-install.yaml"
    bundle.write_text(_edit_crd(GATEWAY_BUNDLE.read_text(), "referencegrants.gateway.networking.k8s.io", flip))
    code, out, _ = _run(_folders(tmp_path, llmd_doc, _pointed_at(llmd_doc, bundle)))
    assert code == 0, out
    assert ("CRD `referencegrants.gateway.networking.k8s.io` stores ReferenceGrant at `v1`, not `v1beta1` (base: "
            "served v1, v1beta1; storage v1beta1; head: served v1, v1beta1; storage v1): the objects already written "
            "stay stored at `v1beta1` until each is written again") in out


def test_a_crd_the_new_bundle_adds_is_an_add(tmp_path, llmd_doc):
    older = tmp_path / "older.yaml"
    older.write_text(_without(GATEWAY_BUNDLE.read_text(), "listenersets.gateway.networking.k8s.io"))
    code, out, _ = _run(_folders(tmp_path, _pointed_at(llmd_doc, older), llmd_doc))
    assert code == 0, out
    assert "**1 to add, 1 to update, 0 to replace, 0 to delete**" in out
    assert (f"- Add: `llmplatform:index:GatewayAccess$kubernetes:yaml/v2:ConfigFile${CRD}::"
            "gateway-gateway-api-crds:listenersets.gateway.networking.k8s.io`") in out


def test_the_same_crds_in_another_file_say_so(tmp_path, llmd_doc):
    copied = tmp_path / "copy.yaml"
    shutil.copy(GATEWAY_BUNDLE, copied)
    code, out, _ = _run(_folders(tmp_path, llmd_doc, _pointed_at(llmd_doc, copied)))
    assert code == 0, out
    assert (f"`file` '{_gateway_file(llmd_doc)['inputs']['file']}' -> '{copied}': the two files' CRDs compared "
            "(crd-bundles.json): none leaves or arrives, none loses a served or storage version") in out


def test_a_config_file_deleted_deletes_its_crds(tmp_path, llmd_doc):
    """The inference extension turned off: its ConfigFile goes, and its CRDs with it (InferencePool's objects)."""
    head = copy.deepcopy(llmd_doc)
    head["resources"] = [r for r in head["resources"] if not r["name"].endswith("-inference-extension-crds")]
    code, out, _ = _run(_folders(tmp_path, llmd_doc, head))
    assert code == 1
    assert ("CRD `inferencepools.inference.networking.k8s.io` (InferencePool, served v1; storage v1): its ConfigFile "
            "`llmplatform:index:GatewayAccess$kubernetes:yaml/v2:ConfigFile::gateway-inference-extension-crds` is "
            "deleted") in out
    assert out.count(":x:") == 2  # InferencePool and InferencePoolImport


def test_a_base_plan_without_the_record_is_read_from_the_vendored_copies(tmp_path, llmd_doc):
    """A base plan by a commit before crd-bundles.json: its URLs' CRDs come from this checkout's vendored copies,
    and the check says so; a URL with no copy keeps the general line, with why."""
    bundle = tmp_path / "standard-install.yaml"
    bundle.write_text(_without(GATEWAY_BUNDLE.read_text(), "grpcroutes.gateway.networking.k8s.io"))
    code, out, err = _run(_folders(tmp_path, llmd_doc, _pointed_at(llmd_doc, bundle), base_record=False))
    assert code == 1 and "gateway-gateway-api-crds:grpcroutes.gateway.networking.k8s.io` deleted" in out
    assert ("note: the base plan has no crd-bundles.json (a plan by an earlier commit, or a testing-kit plan of a "
            "program of your own): the CRDs of its ConfigFiles are read from this checkout's vendored copies of their "
            "URLs (offline/data/crd_bundles.json)") in err
    unknown = copy.deepcopy(llmd_doc)
    _gateway_file(unknown)["inputs"]["file"] = "https://example.com/v0.1.0/standard-install.yaml"
    code, out, err = _run(_folders(tmp_path / "unvendored", unknown, _pointed_at(llmd_doc, bundle),
                                   base_record=False))
    assert code == 0 and "Traceback" not in err
    assert ("compare the two files' CRD names (`metadata.name` of each `kind: CustomResourceDefinition`) before "
            "merging (the check could not read the files' CRDs: base: no vendored copy of "
            "https://example.com/v0.1.0/standard-install.yaml") in out


def test_two_kit_plans_of_a_program_of_ones_own_compare_their_crds(tmp_path, monkeypatch, llmd_doc):
    """A consumer's two testing-kit plans, each `resources.json` alone (docs/components/key-vault-and-postgres.md:
    `resources_document(plan)`, no crd-bundles.json): the head's ConfigFile moves to a Gateway API release whose file
    drops GRPCRoute. Both sides are read from the vendored copies, and the deletion blocks. The head's CRDs went
    uncompared (exit 0), with a note to `make plan`, which such a program has no way to run (a stranger's upgrade
    of a consumer program from 0.22.0 to 0.28.1)."""
    newer = "https://github.com/kubernetes-sigs/gateway-api/releases/download/v9.9.9/standard-install.yaml"
    bundle = tmp_path / "standard-install.yaml"
    bundle.write_text(_without(GATEWAY_BUNDLE.read_text(), "grpcroutes.gateway.networking.k8s.io"))
    monkeypatch.setattr(crd_bundles, "vendored", lambda index=crd_bundles.vendored(): {**index, newer: str(bundle)})
    head = copy.deepcopy(llmd_doc)
    _gateway_file(head)["inputs"]["file"] = newer
    folders = _folders(tmp_path, llmd_doc, head, base_record=False)
    (Path(folders[1]) / RECORD).unlink()  # the kit's plan: resources.json alone
    code, out, err = _run(folders)
    assert code == 1 and "gateway-gateway-api-crds:grpcroutes.gateway.networking.k8s.io` deleted" in out, out
    assert "plan it again" not in err and ("note: the head plan has no crd-bundles.json (a testing-kit plan of a "
                                           "program of your own") in err, err
    # the same release on both sides: nothing of the CRDs to say
    folders = _folders(tmp_path / "same", llmd_doc, llmd_doc, base_record=False)
    (Path(folders[1]) / RECORD).unlink()
    code, out, _ = _run(folders)
    assert code == 0 and "CustomResourceDefinition" not in out, out


def test_a_base_plan_without_config_files_or_the_record_is_compared_without_a_note(tmp_path):
    """The global stack installs no bundle: a base plan of it by an earlier commit (no crd-bundles.json) has nothing
    to read from the vendored copies, and the check says nothing of them."""
    edge = plan.resources_document(variant_or_stack("global"))
    assert not any(r["type"] == crd_bundles.CONFIG_FILE for r in edge["resources"])
    code, out, err = _run(_folders(tmp_path, edge, edge, base_record=False))
    assert code == 0 and RECORD not in err and "0 to add, 0 to update, 0 to replace, 0 to delete" in out


def test_a_malformed_record_is_named_not_a_traceback(tmp_path, llmd_doc):
    folders = _folders(tmp_path, llmd_doc, llmd_doc)
    (Path(folders[1]) / RECORD).write_text(json.dumps({"bundles": {"urn:x": {"file": "f", "crds": [{"name": 1}]}}}))
    code, _, err = _run(folders)
    assert code == 2 and err.startswith(f"cannot read a plan: {folders[1]}/{RECORD}: the entry of urn:x has a CRD "
                                        "without name"), err


def test_a_config_file_renamed_with_an_alias_keeps_its_crds(tmp_path, llmd_doc):
    """A ConfigFile renamed with an alias to its old URN: the engine finds each child under the old parent through the
    inherited child alias (the old name's prefix for the new one's), so the CRDs stay; without the alias, every CRD
    of it is deleted (and registered again under the new name)."""
    def renamed(aliased: bool) -> dict:
        head = json.loads(json.dumps(llmd_doc).replace("gateway-gateway-api-crds", "gateway-gwapi-crds"))
        config_file = next(r for r in head["resources"] if r["name"] == "gateway-gwapi-crds")
        if aliased:
            config_file["options"]["aliases"] = [{"urn": _gateway_file(llmd_doc)["urn"]}]
        return head
    code, out, _ = _run(_folders(tmp_path / "aliased", llmd_doc, renamed(True)))
    assert code == 0 and "to delete**" in out and ", 0 to delete**" in out, out
    code, out, _ = _run(_folders(tmp_path / "bare", llmd_doc, renamed(False)))
    assert code == 1 and out.count(":x:") == 10
    assert ("CRD `gateways.gateway.networking.k8s.io` (Gateway, served v1, v1beta1; storage v1): the head registers it "
            f"as `llmplatform:index:GatewayAccess$kubernetes:yaml/v2:ConfigFile${CRD}::gateway-gwapi-crds:"
            "gateways.gateway.networking.k8s.io` (a ConfigFile's name or `resourcePrefix` changed, no alias): the "
            "engine deletes this one at the end of the `pulumi up`, and with it the CRD the new one names") in out


def test_a_crd_of_a_protected_config_file_is_listed_as_protected(tmp_path, llmd_doc):
    """The children take the ConfigFile's protect (the Go SDK's, no Protect of their own): the engine refuses the
    delete, and the check says `pulumi up` stops there."""
    base = copy.deepcopy(llmd_doc)
    _gateway_file(base)["options"]["protect"] = True
    bundle = tmp_path / "standard-install.yaml"
    bundle.write_text(_without(GATEWAY_BUNDLE.read_text(), "udproutes.gateway.networking.k8s.io"))
    code, out, _ = _run(_folders(tmp_path, base, _pointed_at(base, bundle)))
    assert code == 1
    assert ("- Protected (`pulumi up` stops here until `protect` is lifted): `llmplatform:index:GatewayAccess"
            f"$kubernetes:yaml/v2:ConfigFile${CRD}::gateway-gateway-api-crds:udproutes.gateway.networking.k8s.io`"
            ) in out


_ODD_BASE = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: foos.example.com\n"
             "spec:\n  group: example.com\n  names: {kind: Foo, plural: foos}\n  scope: Namespaced\n  versions:\n"
             "  - name: v1\n    served: true\n    storage: true\n  - name: v1beta1\n    served: false\n"
             "    storage: false\n")


@pytest.mark.parametrize("text", [
    # a standard tag on a scalar read: `!!bool true` is the boolean a full load makes, not the text "true"
    _ODD_BASE.replace("served: true", "served: !!bool true", 1),
    _ODD_BASE.replace("storage: true", "storage: !!bool true", 1),
    # a key given twice: a full load keeps the last
    _ODD_BASE.replace("  name: foos.example.com\n", "  name: foos.example.com\n  name: bars.example.com\n"),
    _ODD_BASE.replace("  group: example.com\n", "  group: example.com\n  group: example.org\n"),
    # YAML 1.1's merge key without an anchor: a full load merges it
    _ODD_BASE.replace("spec:\n", "spec:\n  <<: {group: merged.example.com}\n").replace("  group: example.com\n", ""),
    # a plain scalar a document marker would be alone, here a value
    _ODD_BASE.replace("kind: Foo,", "kind: ---,"),
    # the odd but ordinary: flow versions, `--- ` with comments, a BOM, a directive, an end marker
    _ODD_BASE.split("  versions:")[0] + "  versions: [{name: v1, served: true, storage: true}, {name: v2, served: yes}]\n",
    "--- # one\n" + _ODD_BASE + "--- # two\n# a comment\n" + _ODD_BASE.replace("foos.", "bars.") + "...\n",
    "\ufeff" + _ODD_BASE,
    "%YAML 1.1\n---\n" + _ODD_BASE,
])
def test_the_fast_reader_agrees_with_a_full_load_on_odd_valid_yaml(text):
    """What the event reader takes is what yaml.safe_load_all takes, or it falls back to one (a tag it would read as
    text, a key given twice, a merge key: each read differently before)."""
    full = [c for c in map(crd_bundles._crd, crd_bundles._objects(yaml.safe_load_all(text))) if c]
    assert crd_bundles.crds_in(text) == full and full


@pytest.mark.parametrize("inputs, namespace, resource", [
    ({}, None, "crds:foos.example.com"),
    ({"resourcePrefix": "given"}, None, "given:foos.example.com"),
    ({"resourcePrefix": ""}, None, "foos.example.com"),  # configfile.go: a prefix given, and empty: none
    ({}, "kube-system", "crds:kube-system/foos.example.com"),  # yaml.go `register`: a namespace written is kept
    ({"resourcePrefix": ""}, "kube-system", "kube-system/foos.example.com"),
])
def test_each_crd_is_named_as_the_provider_names_its_child(tmp_path, inputs, namespace, resource):
    """pulumi-kubernetes (94977969 provider/pkg/provider/yaml/v2/yaml.go `register`) names a child
    `<namespace>/<name>` when the object carries a namespace (Normalize only fills in one that is missing, so a CRD
    written with a namespace keeps it), then `<prefix>:` before it unless the prefix is empty; configfile.go takes a
    `resourcePrefix` given as "" as no prefix, and the ConfigFile's name when none is given."""
    text = _ODD_BASE if namespace is None else _ODD_BASE.replace(
        "  name: foos.example.com\n", f"  name: foos.example.com\n  namespace: {namespace}\n")
    (tmp_path / "crds.yaml").write_text(text)
    entry = crd_bundles.bundle_entry({"name": "crds", "inputs": {"file": "crds.yaml", **inputs}}, program_dir=tmp_path)
    assert [c["resource"] for c in entry["crds"]] == [resource]


@pytest.mark.parametrize("text", ['{"bundles": {"https://', '{"bundles": ["a"]}', '[]',
                                  '{"bundles": {"https://github.com/kubernetes-sigs/gateway-api/releases/download/'
                                  'v1.6.1/standard-install.yaml": 3}}'])
def test_a_broken_index_of_vendored_bundles_is_named_not_a_traceback(tmp_path, monkeypatch, llmd_doc, text):
    """offline/data/crd_bundles.json hand-edited (a new release's line) or cut short: make plan records each URL's
    bundle as unread, naming the index, and the check of a base plan without the record says the same; neither
    raises."""
    index = tmp_path / "crd_bundles.json"
    index.write_text(text)
    monkeypatch.setattr(crd_bundles, "INDEX", index)
    entry = crd_bundles.bundle_entry(_gateway_file(llmd_doc))
    assert entry["crds"] is None and "offline/data/crd_bundles.json" in entry["unread"], entry
    bundle = tmp_path / "standard-install.yaml"
    bundle.write_text(_without(GATEWAY_BUNDLE.read_text(), "grpcroutes.gateway.networking.k8s.io"))
    code, out, err = _run(_folders(tmp_path / "plans", llmd_doc, _pointed_at(llmd_doc, bundle), base_record=False))
    assert code == 0 and "Traceback" not in err and "cannot diff" not in err, err
    assert "the check could not read the files' CRDs: base: offline/data/crd_bundles.json" in out, out


def test_an_object_with_an_items_list_is_read_as_its_items_as_the_provider_expands_it():
    """yaml.go `expand` expands every object for which unstructured's `IsList` holds (k8s.io/apimachinery
    `Unstructured.IsList`: an `items` field that is a list, whatever the kind), and again for a list inside a list."""
    crd = yaml.safe_load(_ODD_BASE)
    for doc in ({"apiVersion": "v1", "kind": "Bundle", "items": [crd]},
                {"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "List", "items": [crd]}]}):
        assert [c["name"] for c in crd_bundles.crds_in(yaml.safe_dump(doc))] == ["foos.example.com"], doc


@pytest.mark.parametrize("text", [
    _ODD_BASE.replace("spec:\n", "spec: !custom\n"),
    _ODD_BASE.replace("  scope: Namespaced\n", "  scope: !custom Namespaced\n"),
    _ODD_BASE.replace("  scope: Namespaced\n", "  extra: !custom {a: 1}\n"),
])
def test_a_tag_a_full_load_refuses_is_refused_by_the_fast_reader_too(text):
    """A local tag anywhere (a read field or a skipped one) is one safe_load refuses: the event reader falls back to
    it rather than read what the full load cannot, so both say the same (the bundle unread)."""
    with pytest.raises(yaml.YAMLError):
        list(yaml.safe_load_all(text))
    with pytest.raises(yaml.YAMLError):
        crd_bundles.crds_in(text)


def test_the_vendored_bundles_take_the_fast_path():
    """The event reader reads the vendored bundles without falling back (the point of it: a fifth of a full load)."""
    for rel in crd_bundles.vendored().values():
        assert crd_bundles._fast((crd_bundles.ROOT / rel).read_text())


_GOOD_CRD = {"name": "foos.example.com", "group": "example.com", "kind": "Foo", "resource": "crds:foos.example.com",
             "served": ["v1"], "versions": ["v1", "v1beta1"], "storage": "v1"}


@pytest.mark.parametrize("entry, problem", [
    (3, "is not an object with a `file`"),
    ({"file": 3, "crds": []}, "is not an object with a `file`"),
    ({"file": "f"}, "has no `crds` and no `unread`"),
    ({"file": "f", "crds": None, "unread": 3}, "has no `crds` and no `unread`"),
    ({"file": "f", "crds": {}}, "has `crds` that is not a list"),
    ({"file": "f", "crds": ["foos.example.com"]}, "has a CRD without"),
    *(({"file": "f", "crds": [{**_GOOD_CRD, key: value}]}, "has a CRD without") for key, value in (
        ("name", None), ("group", 1), ("kind", None), ("resource", None), ("served", "v1"), ("versions", None),
        ("served", ["v1", 1]), ("versions", [None]), ("storage", 1))),
])
def test_each_malformed_record_entry_is_named(tmp_path, entry, problem):
    """Each part of an entry's shape is read before the comparison uses it: what is wrong is named (exit 2 with the
    entry's URN), not an AttributeError or TypeError of the comparison."""
    (tmp_path / RECORD).write_text(json.dumps({"bundles": {"urn:x": entry}}))
    with pytest.raises(PlanError) as raised:
        read_record(tmp_path)
    assert str(raised.value).startswith(f"{tmp_path / RECORD}: the entry of urn:x {problem}"), raised.value


@pytest.mark.parametrize("entry", [
    {"file": None, "crds": None, "unread": "its `file` is not a known string in the plan"},
    {"file": "f", "crds": []},
    {"file": "f", "crds": [_GOOD_CRD, {**_GOOD_CRD, "storage": None, "served": [], "versions": []}]},
])
def test_every_record_entry_make_plan_writes_is_read(tmp_path, entry):
    (tmp_path / RECORD).write_text(json.dumps({"bundles": {"urn:x": entry}}))
    assert read_record(tmp_path) == {"urn:x": entry}


@pytest.mark.parametrize("doc", [[], {}, {"bundles": []}, {"bundles": None}])
def test_a_record_that_is_not_an_object_of_bundles_is_named(tmp_path, doc):
    (tmp_path / RECORD).write_text(json.dumps(doc))
    with pytest.raises(PlanError, match="not the CRD record make plan writes"):
        read_record(tmp_path)


def test_a_base_plan_without_the_record_whose_bundle_is_a_path_is_left_unread(tmp_path, llmd_doc):
    """A base plan by an earlier commit whose ConfigFile reads a path: the path is that checkout's file, not this
    one's, so the base's CRDs are not read from it (the check keeps its general line, with why), even where this
    checkout has a file at that path."""
    bundle = tmp_path / "standard-install.yaml"
    bundle.write_text(_without(GATEWAY_BUNDLE.read_text(), "grpcroutes.gateway.networking.k8s.io"))
    code, out, err = _run(_folders(tmp_path / "plans", _pointed_at(llmd_doc, GATEWAY_BUNDLE),
                                   _pointed_at(llmd_doc, bundle), base_record=False))
    assert code == 0 and "Traceback" not in err, err
    assert "grpcroutes.gateway.networking.k8s.io` deleted" not in out
    assert ("(the check could not read the files' CRDs: base: the base plan's `file` is a path of its own program's "
            "folder)"
            in out), out


def test_a_head_plan_without_the_record_says_its_crds_are_not_compared_where_it_has_config_files(tmp_path, llmd_doc):
    """A head plan made before crd-bundles.json (a reviewer's old build/ folder): the CRDs of its ConfigFiles' files
    are not compared, and the check says so; a plan with no ConfigFile (the global stack's) has nothing to say."""
    folders = _folders(tmp_path / "llmd", llmd_doc, llmd_doc)
    (Path(folders[1]) / RECORD).unlink()
    code, out, err = _run(folders)
    assert code == 0 and f"note: the head plan has no {RECORD}" in err, err
    edge = plan.resources_document(variant_or_stack("global"))
    folders = _folders(tmp_path / "global", edge, edge)
    (Path(folders[1]) / RECORD).unlink()
    code, out, err = _run(folders)
    assert code == 0 and RECORD not in err, err


def test_a_config_file_renamed_with_an_alias_and_a_new_file_lists_what_the_file_adds_or_drops(tmp_path, llmd_doc):
    """A ConfigFile renamed with an alias whose file changes too: the CRDs both files hold are found under the old
    parent (kept); one only the new file holds has no child there to be found as, and is an add; one only the old
    file holds is a deletion. Either way the files' CRDs differ, so the check never says none leaves or arrives."""
    older = tmp_path / "older.yaml"
    older.write_text(_without(GATEWAY_BUNDLE.read_text(), "listenersets.gateway.networking.k8s.io"))
    head = json.loads(json.dumps(llmd_doc).replace("gateway-gateway-api-crds", "gateway-gwapi-crds"))
    config_file = next(r for r in head["resources"] if r["name"] == "gateway-gwapi-crds")
    config_file["options"]["aliases"] = [{"urn": _gateway_file(llmd_doc)["urn"]}]
    code, out, err = _run(_folders(tmp_path / "adds", _pointed_at(llmd_doc, older), head))
    assert code == 0 and "**1 to add, " in out and ", 0 to delete**" in out, out + err
    assert (f"- Add: `llmplatform:index:GatewayAccess$kubernetes:yaml/v2:ConfigFile${CRD}::"
            "gateway-gwapi-crds:listenersets.gateway.networking.k8s.io`") in out
    assert "none leaves or arrives" not in out
    dropped = copy.deepcopy(head)
    next(r for r in dropped["resources"] if r["name"] == "gateway-gwapi-crds")["inputs"]["file"] = str(older)
    code, out, err = _run(_folders(tmp_path / "drops", llmd_doc, dropped))
    assert code == 1 and "**0 to add, " in out and ", 1 to delete**" in out, out + err
    assert "gateway-gateway-api-crds:listenersets.gateway.networking.k8s.io` deleted" in out
    assert "none leaves or arrives" not in out


def test_a_config_file_whose_file_cannot_be_read_says_so_once(tmp_path, llmd_doc):
    """A new ConfigFile whose file the plan could not read: the CRDs it adds are not listed, and the check says so.
    One the base had whose new file is unreadable keeps its `file` line, saying why the files were not compared:
    its CRDs are not known to be gone, so none is listed as deleted (before, each was, blocked, "the head's file
    does not hold it")."""
    missing = str(tmp_path / "missing.yaml")
    base = copy.deepcopy(llmd_doc)
    base["resources"] = [r for r in base["resources"] if not r["name"].endswith("-gateway-api-crds")]
    code, out, err = _run(_folders(tmp_path / "new", base, _pointed_at(llmd_doc, Path(missing))))
    assert code == 0, out + err
    assert (f"its file's CRDs could not be read (no file {missing} where the program runs): those it adds are not "
            "listed") in out, out
    code, out, err = _run(_folders(tmp_path / "kept", llmd_doc, _pointed_at(llmd_doc, Path(missing))))
    assert code == 0 and "those it adds are not listed" not in out and ", 0 to delete**" in out, out
    assert f"(the check could not read the files' CRDs: head: no file {missing} where the program runs)" in out, out


def test_a_head_plan_that_could_not_read_an_unchanged_file_lists_no_deletion(tmp_path, monkeypatch, llmd_doc):
    """The same release URL on both sides, read in the base plan and not in the head's (its checkout's index of
    vendored bundles broken): the CRDs are not known to be gone, so none is a deletion; the check says what it could
    not compare."""
    folders = _folders(tmp_path, llmd_doc, llmd_doc)
    index = tmp_path / "crd_bundles.json"
    index.write_text("[]")
    monkeypatch.setattr(crd_bundles, "INDEX", index)
    (Path(folders[1]) / RECORD).write_text(json.dumps(crd_bundles.record(llmd_doc["resources"])))
    code, out, err = _run(folders)
    assert code == 0 and ", 0 to delete**" in out and ":x:" not in out, out
    [line] = [line for line in out.splitlines() if "gateway-gateway-api-crds`" in line]
    assert ("its file's CRDs could not be read (offline/data/crd_bundles.json is not the index of vendored bundles"
            in line and "whether it still holds `backendtlspolicies.gateway.networking.k8s.io`, " in line), line


def test_a_head_record_without_an_entry_for_a_config_file_lists_no_deletion(tmp_path, llmd_doc):
    """A head record (crd-bundles.json) that holds no entry for a ConfigFile the head plans (written by hand, or by
    another commit's `make plan`): nothing is known of its CRDs, so none is a deletion, and the check line says why
    (it raised a KeyError)."""
    folders = _folders(tmp_path, llmd_doc, llmd_doc)
    record = crd_bundles.record(llmd_doc["resources"])
    gateway = next(urn for urn in record["bundles"] if urn.endswith("gateway-gateway-api-crds"))
    del record["bundles"][gateway]
    (Path(folders[1]) / RECORD).write_text(json.dumps(record))
    code, out, err = _run(folders)
    assert code == 0 and ", 0 to delete**" in out and "Traceback" not in err, (out, err)
    [line] = [line for line in out.splitlines() if "gateway-gateway-api-crds`" in line]
    assert f"its file's CRDs could not be read (the head's {RECORD} has no entry for it)" in line, line


@pytest.mark.parametrize("side", ["head", "base"])
def test_a_record_of_another_plan_beside_resources_json_is_refused(tmp_path, llmd_doc, side):
    """A crd-bundles.json whose ConfigFile reads another `file` than resources.json's (one left in the folder a
    testing-kit plan, which writes resources.json alone, was written into; docs/operations.md's kit_plan.py makes
    its folder with exist_ok): its CRDs are another file's. Read as the head's, the CRD the head's file dropped went
    unlisted, exit 0, and the check said "`file` <base URL> -> <base URL>: the two files' CRDs compared ... none
    leaves or arrives". It is refused (exit 2), naming the two `file`s, as a plan the check cannot read."""
    bundle = tmp_path / "standard-install.yaml"
    bundle.write_text(_without(GATEWAY_BUNDLE.read_text(), "httproutes.gateway.networking.k8s.io"))
    head = _pointed_at(llmd_doc, bundle)
    folders = _folders(tmp_path / "plans", llmd_doc, head)
    stale = crd_bundles.record((llmd_doc if side == "head" else head)["resources"])
    (Path(folders[1 if side == "head" else 0]) / RECORD).write_text(json.dumps(stale))
    code, out, err = _run(folders)
    assert code == 2 and "Traceback" not in err and "none leaves or arrives" not in out, (out, err)
    assert f"the {side} plan's {RECORD} is not of its resources.json" in err and str(bundle) in err, err
