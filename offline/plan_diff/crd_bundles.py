"""The CRDs of the yaml/v2 ConfigFiles, compared: `crd-bundles.json` of each plan (offline/crd_bundles.py).

pulumi-kubernetes registers each object of a ConfigFile's file as the ConfigFile's child, named
`<resourcePrefix>:<metadata.name>` (94977969 provider/pkg/provider/yaml/v2/yaml.go `register`), so a CRD the base's
file holds and the head's does not is a child the program no longer registers: the engine deletes it at the end of
the `pulumi up`, and "When you delete a CustomResourceDefinition, the server will uninstall the RESTful API endpoint
and delete all custom objects stored in it" (Kubernetes, "Extend the Kubernetes API with CustomResourceDefinitions"),
in every namespace, whoever made them. Such a child is listed as a deletion of the stateful type
`rules.STATEFUL[CRD_TYPE]` (blocked unless allowed), a new one as an add, and one kept whose versions change as a
check before merging: a version no longer served answers no client ("Versions in CustomResourceDefinitions"), and a
storage version changed leaves the objects already written at the old one (`status.storedVersions`, which
spec.versions may not drop while it lists them).

A base plan made before crd-bundles.json existed is read from this checkout's vendored copies of its ConfigFiles'
URLs (a release's asset does not change); where none is vendored, the `file` change keeps its general line. So is a
plan without it on either side that the testing kit wrote for a program of one's own (resources.json alone, as
docs/components/key-vault-and-postgres.md shows): the head's CRDs went uncompared, with advice to `make plan` that
such a program has no way to follow. A head file that could not be read is no evidence a CRD left: the base's CRDs
under it are not listed as deleted, and the check says they were not compared.
"""
from pathlib import Path
from typing import Any, Optional

from llmplatform.testing.records import REDACTED  # a secret input as resources.json shows it

from .. import crd_bundles as plan_bundles
from .documents import PlanError, read_json
from .urns import ROOT_STACK, _urn_parts, engine_urn, engine_urns, generate_aliases, short_urn, urn_scheme

CRD_TYPE = plan_bundles.CRD_TYPE
CONFIG_FILE = plan_bundles.CONFIG_FILE
RECORD = plan_bundles.RECORD
# in the general line offline/plan_diff/chart_bumps.py `crd_bundle_findings` writes for a changed `file`
GENERAL = "a CustomResourceDefinition the old file holds and the new one does not"


def _problem(entry: Any) -> Optional[str]:
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), (str, type(None))):
        return "is not an object with a `file`"
    crds = entry.get("crds")
    if crds is None:
        return None if isinstance(entry.get("unread"), str) else "has no `crds` and no `unread`"
    if not isinstance(crds, list):
        return "has `crds` that is not a list"
    for crd in crds:
        if not (isinstance(crd, dict) and all(isinstance(crd.get(k), str) for k in ("name", "group", "kind",
                                                                                     "resource"))
                and all(isinstance(crd.get(k), list) and all(isinstance(v, str) for v in crd[k])
                        for k in ("served", "versions"))
                and isinstance(crd.get("storage"), (str, type(None)))):
            return ("has a CRD without name, group, kind, resource (texts), served and versions (lists of texts) and "
                    "storage")
    return None


def read_record(folder: Path) -> Optional[dict[str, dict[str, Any]]]:
    """The plan's `crd-bundles.json` (ConfigFile URN -> entry), or None for a plan made before it existed."""
    path = folder / RECORD
    if not path.exists():
        return None
    doc = read_json(path)
    bundles = doc.get("bundles") if isinstance(doc, dict) else None
    if not isinstance(bundles, dict):
        raise PlanError(f"{path}: not the CRD record make plan writes (an object whose `bundles` maps each "
                        "ConfigFile's URN to its file's CRDs)")
    for urn, entry in bundles.items():
        problem = _problem(entry)
        if problem:
            raise PlanError(f"{path}: the entry of {str(urn)[:120]} {problem}")
    return bundles


def _stale(record: Optional[dict[str, dict[str, Any]]], resources: dict[str, dict[str, Any]], folder: str) -> None:
    """PlanError where the record is not of the plan beside it: an entry whose `file` is not the ConfigFile's `file` in
    resources.json (a crd-bundles.json left in a folder a testing-kit plan, which writes resources.json alone, was
    written into, or a resources.json copied over). Its CRDs are another file's: read as the head's, a CRD the plan's
    file no longer holds went unlisted and the check said the two files were compared. A secret `file` (`[secret]` in
    resources.json) is not compared."""
    for urn, entry in (record or {}).items():
        res = resources.get(urn)
        if not res or res.get("type") != CONFIG_FILE:
            continue
        file = (res.get("inputs") or {}).get("file")
        if isinstance(file, str) and file != REDACTED and entry.get("file") != file:
            raise PlanError(f"the {folder} plan's {RECORD} is not of its resources.json: it reads the `file` of "
                            f"{short_urn(urn)} as {entry.get('file')!r}, resources.json as {file!r} (a {RECORD} left "
                            "from another plan in the folder: plan it again, or, for a testing-kit plan of your own "
                            f"program, which writes resources.json alone, remove the {RECORD})")


def _versions(crd: dict[str, Any]) -> str:
    return f"served {', '.join(crd['served']) or 'none'}; storage {crd['storage'] or 'none'}"


def version_findings(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Check lines for a CRD both files hold: versions no longer served, a storage version changed."""
    out = []
    lost = [v for v in old["served"] if v not in new["served"]]
    dropped = [v for v in old["versions"] if v not in new["versions"]]
    if lost:
        out.append(f"CRD `{new['name']}` no longer serves {', '.join(f'`{v}`' for v in lost)} (base: "
                   f"{_versions(old)}; head: {_versions(new)}): a client, manifest or controller that reads or "
                   f"writes {new['kind']} at {', '.join(lost)} is refused from this `pulumi up` on")
    if dropped:
        out.append(f"CRD `{new['name']}` no longer lists {', '.join(f'`{v}`' for v in dropped)} in spec.versions: "
                   "the API server refuses the CRD update, and this `pulumi up` fails there, while "
                   "`status.storedVersions` holds one of them (objects were once stored at it): `kubectl get crd "
                   f"{new['name']} -o jsonpath='{{.status.storedVersions}}'` before merging")
    if old["storage"] != new["storage"]:
        out.append(f"CRD `{new['name']}` stores {new['kind']} at `{new['storage']}`, not `{old['storage']}` (base: "
                   f"{_versions(old)}; head: {_versions(new)}): the objects already written stay stored at "
                   f"`{old['storage']}` until each is written again, and `status.storedVersions` keeps "
                   f"`{old['storage']}` until they are migrated; a later file that drops `{old['storage']}` is "
                   "refused until then")
    return out


def _derived(res_of: dict[str, dict[str, Any]], side: str) -> dict[str, dict[str, Any]]:
    """A plan without the record (a base by an earlier commit; either side a testing-kit plan of a program of one's
    own, which writes resources.json alone): its ConfigFiles' URLs read from this checkout's vendored copies (a path is
    its own program's file, read from where that program ran, not from here: left unread)."""
    out = {}
    for urn, res in res_of.items():
        if res.get("type") != CONFIG_FILE:
            continue
        file = (res.get("inputs") or {}).get("file")
        if isinstance(file, str) and not plan_bundles.is_url(file):
            out[urn] = {"file": file, "crds": None,
                        "unread": f"the {side} plan's `file` is a path of its own program's folder"}
        else:
            out[urn] = plan_bundles.bundle_entry({**res, "urn": urn})
    return out


def _or_derived(record: Optional[dict[str, dict[str, Any]]], resources: dict[str, dict[str, Any]], side: str,
                why: str, notes: list[str]) -> dict[str, dict[str, Any]]:
    """A plan's record, or where it has none and has ConfigFiles, the record `_derived` from its resources, with a
    note saying so (`why` it may have none)."""
    if record is None and any(r.get("type") == CONFIG_FILE for r in resources.values()):
        notes.append(f"note: the {side} plan has no {RECORD} ({why}): the CRDs of its ConfigFiles are read from this "
                     "checkout's vendored copies of their URLs (offline/data/crd_bundles.json)")
        return _derived(resources, side)
    return record or {}


def _children(record: dict[str, dict[str, Any]], resources: dict[str, dict[str, Any]],
              engine: dict[str, str]) -> dict[str, tuple[str, dict[str, Any], str]]:
    """offline URN of each CRD child -> (its ConfigFile's URN, the CRD, its engine URN)."""
    make = urn_scheme(resources)
    out = {}
    for parent, entry in record.items():
        if parent not in resources or not entry.get("crds"):
            continue
        stack, project = _urn_parts(parent)[:2]
        for crd in entry["crds"]:
            urn = make(parent, CRD_TYPE, crd["resource"], stack, project)
            out[urn] = (parent, crd, engine_urn(engine.get(parent, parent), CRD_TYPE, crd["resource"], stack,
                                                project))
    return out


def _alias_matches(before: dict[str, Any], after: dict[str, Any], moved: dict[str, str],
                   new_res: dict[str, dict[str, Any]]) -> dict[str, str]:
    """head child -> base child, for the children of a ConfigFile moved through its alias: the engine's inherited
    child alias (urns.generate_aliases) finds the old child under the old parent."""
    make = urn_scheme(new_res)
    root = next((r["parent"] for r in new_res.values() if r.get("parent")
                 and _urn_parts(r["parent"])[2].split("$")[-1] == ROOT_STACK), "")
    out = {}
    for urn, (parent, crd, _) in after.items():
        if urn not in before and parent in moved:
            stack, project = _urn_parts(urn)[:2]
            found = next((c for c in generate_aliases(crd["resource"], CRD_TYPE, parent, [], moved[parent], stack,
                                                      project, dict(moved), make, root) if c in before), None)
            if found:
                out[urn] = found
    return out


def compare(result: dict[str, Any], old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
            old_rec: Optional[dict[str, dict[str, Any]]], new_rec: Optional[dict[str, dict[str, Any]]]) -> list[str]:
    """Adds the ConfigFiles' CRD children to the diff `result` (added; removed, of the stateful type; checks), and
    returns the notes to print on stderr."""
    notes: list[str] = []
    _stale(old_rec, old_res, "base")
    _stale(new_rec, new_res, "head")
    # the head a plan of `make plan` before the record, or the testing kit's plan of a program of one's own
    # (`resources_document` alone, docs/components/key-vault-and-postgres.md): its URLs read as a base's are
    new_rec = _or_derived(new_rec, new_res, "head", "a testing-kit plan of a program of your own, or a `make plan` "
                          "before it existed", notes)
    old_rec = _or_derived(old_rec, old_res, "base", "a plan by an earlier commit, or a testing-kit plan of a program "
                          "of your own", notes)
    engine = {**engine_urns(old_res), **engine_urns(new_res)}
    before, after = _children(old_rec, old_res, engine), _children(new_rec, new_res, engine)
    moved = result.get("moved") or {}
    head_of = {old: new for new, old in moved.items()}  # a base ConfigFile's URN in the head
    same = {u: u for u in after if u in before} | _alias_matches(before, after, moved, new_res)
    checks, notes_of = result.setdefault("checks", {}), result.setdefault("notes", {})
    compared = []  # ConfigFiles whose `file` changed and whose two files were both read
    for parent, old_entry in old_rec.items():
        head_parent = head_of.get(parent, parent)
        new_entry = new_rec.get(head_parent)
        lines = checks.get(head_parent) or []
        if not new_entry or not any(GENERAL in line for line in lines):
            continue
        unread = [f"{side}: {entry['unread']}" for side, entry in (("base", old_entry), ("head", new_entry))
                  if entry.get("crds") is None]
        if unread:
            lines[:] = [f"{line} (the check could not read the files' CRDs: {'; '.join(unread)})" if GENERAL in line
                        else line for line in lines]
        else:
            compared.append((parent, head_parent))
            lines[:] = [line for line in lines if GENERAL not in line]
            if not lines:
                del checks[head_parent]
    for parent, entry in new_rec.items():
        if parent in new_res and entry.get("crds") is None and parent not in set(moved) and parent not in old_rec:
            checks.setdefault(parent, []).append(f"its file's CRDs could not be read ({entry['unread']}): those it "
                                                 "adds are not listed")
    for urn, (parent, crd, full) in sorted(after.items()):
        result["types"][urn] = CRD_TYPE
        result.setdefault("engineUrns", {})[urn] = full
        if urn in same:
            found = version_findings(before[same[urn]][1], crd)
            if found:
                checks.setdefault(urn, []).extend(found)
        else:
            result["added"].append(urn)
    kept = set(same.values())
    not_read: dict[str, list[str]] = {}  # a head ConfigFile whose file was not read -> the base's CRDs not compared
    for urn, (parent, crd, full) in sorted(before.items()):
        if urn in kept:
            continue
        head_parent = head_of.get(parent, parent)
        entry = new_rec.get(head_parent) or {}
        if head_parent in new_res and entry.get("crds") is None:  # not known to be gone: its file was not read
            not_read.setdefault(head_parent, []).append(crd["name"])
            continue
        result["types"][urn] = CRD_TYPE
        result.setdefault("engineUrns", {})[urn] = full
        result["removed"].append(urn)
        again = next((u for u, (_, c, _) in after.items() if c["name"] == crd["name"] and u not in same), None)
        if again:
            why = (f"the head registers it as `{short_urn(after[again][2])}` (a ConfigFile's name or `resourcePrefix` "
                   "changed, no alias): the engine deletes this one at the end of the `pulumi up`, and with it the "
                   "CRD the new one names")
        elif head_parent not in new_res:
            why = f"its ConfigFile `{short_urn(engine.get(parent, parent))}` is deleted"
        else:
            why = f"the head's file (`{entry.get('file')}`) does not hold it"
        notes_of.setdefault(urn, []).append(f"CRD `{crd['name']}` ({crd['kind']}, {_versions(crd)}): {why}")
        if old_res[parent]["options"].get("protect"):  # the child took its parent's (Go SDK context.go, protect nil)
            result.setdefault("protected", []).append(urn)
    for head_parent, names in not_read.items():
        lines = checks.setdefault(head_parent, [])
        if not any(GENERAL in line for line in lines):  # the `file` line says so already, with why
            why = (new_rec.get(head_parent) or {}).get("unread") or f"the head's {RECORD} has no entry for it"
            lines.append(f"its file's CRDs could not be read ({why}): whether it still "
                         f"holds {', '.join(f'`{name}`' for name in names)} of the base's is not checked (a CRD its "
                         "file no longer holds is deleted, and every object of its kind with it)")
    result["added"].sort()
    result["removed"].sort()
    result["protected"] = sorted(result.get("protected") or [])
    touched = {children[u][0] for children in (after, before) for u in [*result["added"], *result["removed"], *checks]
               if u in children}
    for parent, head_parent in compared:
        if parent not in touched and head_parent not in touched:
            checks.setdefault(head_parent, []).append(
                f"`file` {old_rec[parent]['file']!r} -> {new_rec[head_parent]['file']!r}: the two files' CRDs "
                f"compared ({RECORD}): none leaves or arrives, none loses a served or storage version")
    return notes
