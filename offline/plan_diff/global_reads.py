"""What a regional stack's change does to the global stack, which reads the regional stack's outputs through a
StackReference (config/global_stack.py REQUIRED_OUTPUTS: the gateway's address or hostname for Front Door's origin,
the cluster's ID for its Fleet member, the Key Vault the edge writes its key set into, the region's location). The
global stack reads them when it runs, so a regional `pulumi up` that changes one leaves the global stack's Front
Door origin, Fleet member or secrets on the old until `pulumi up -s <global stack>` runs; one that replaces the
object an unchanged output names (the cluster made again under its ID, which takes its Fleet membership with it;
the vault made again, without the secrets the global stack wrote) leaves nothing the global stack's `pulumi up`
sees: the same inputs, no change, unless `--refresh` reads first that the member or secret is gone.

A note, never a failure (docs/decisions.md, "The global stack after a regional change"): the regional run is what
the check gates, and what replaces the cluster or the vault is already blocked there (stateful) until allowed. Only
for a regional stack (its plan exports `location` or `clusterId`, as only one behind a global stack does), and only
of what its global stack reads of it: by the global stack's plan where one is beside this one, else by the global
stack's and the regions' stack files (`_what_global_reads`, as config/global_stack.py reads them: the workflow plans
one stack a job).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from llmplatform.testing.stand_ins import arm_id, provider_outputs

from .documents import read_json
from .leaves import leaf_items
from .stand_in_ids import earlier_kit_pairs, same_stand_in
from .urns import short_urn

# The outputs the global stack reads of each regional stack, and why (config/global_stack.py's, which a test holds
# equal: importing it here would load the gateway's component for a dict)
READ_BY_GLOBAL = {
    "gatewayExternalAddress": "Front Door's origin over plain HTTP",
    "gatewayHostname": "Front Door's origin over HTTPS",
    "clusterId": "the Fleet Manager member",
    "location": "its `regions` output alone",  # no resource: Fleet's update stages are named after the member
    "keyVaultName": "the Key Vault the edge writes its API key set into",
    "resourceGroupName": "the resource group of that Key Vault",
    "llmdPort": "Front Door's /llmd route",
}


def read_outputs(folder: Path) -> dict[str, Any]:
    """A plan's stack outputs (resources.json `outputs`; {} for a plan without them)."""
    path = folder / "resources.json"
    document = read_json(path) if path.exists() else {}
    outputs = document.get("outputs") if isinstance(document, dict) else None
    return outputs if isinstance(outputs, dict) else {}


def global_plan(near: Path, stack: str) -> Optional[tuple[Path, dict[str, Any]]]:
    """A plan of a global stack reading `stack` beside the folder `near` (`make plan STACK=global` writes its
    regions' plans and its own into one build folder): (its folder, its document), its `regions` output naming
    `stack`. None when there is none; of several (`build/global` and a what-if of it, `build/global.what-if`), the
    one in the folder named as its stack, else none. A sibling folder that does not read, or holds another kind of
    file, is passed over: it is no plan of this check's, and never fails it."""
    found: list[tuple[Path, dict[str, Any]]] = []
    try:
        siblings = sorted(p for p in near.parent.iterdir() if p.is_dir() and p != near)
    except OSError:
        return None
    for folder in siblings:
        path = folder / "resources.json"
        try:
            document = json.loads(path.read_text()) if path.is_file() else None
        except (OSError, ValueError):
            continue
        if not isinstance(document, dict):
            continue
        outputs = document.get("outputs")
        regions = outputs.get("regions") if isinstance(outputs, dict) else None
        if isinstance(regions, dict) and stack in regions and isinstance(document.get("resources"), list):
            found.append((folder, document))
    if len(found) > 1:
        found = [(f, d) for f, d in found if f.name == d.get("stack")]
    return found[0] if len(found) == 1 else None


# why the global stack does not read an output of a regional stack it lists, by what its files say
_NOT_READ = {
    "gatewayExternalAddress": "Front Door reaches the regions over HTTPS, at `gatewayHostname` (every listed region "
                              "sets gateway.tls)",
    "gatewayHostname": "Front Door reaches the regions over plain HTTP, at `gatewayExternalAddress` (a listed region "
                       "sets no gateway.tls)",
    "clusterId": "this stack's file sets `edge.fleet: false`: the cluster upgrades itself and is no Fleet member",
    "llmdPort": "its `global.llmdRegions` does not list this stack",
}


def _listed(raw: Optional[dict[str, Any]], stack: str) -> bool:
    """A stack file's config (regions.region_file) is a global stack's whose `global.regions` lists `stack`."""
    section = raw.get("global") if isinstance(raw, dict) else None
    listed = section.get("regions") if isinstance(section, dict) else None
    return isinstance(listed, list) and stack in listed


def _what_global_reads(stack: str, project: str, project_dir: Path) -> tuple[Optional[str], Optional[set[str]]]:
    """(the global stack the regional stack's own file names, `edge.globalStack`, or else the one whose file lists it
    in `global.regions`; the outputs that global stack reads of it, as the program does: config/global_stack.py
    regional_origins, fleet_members, and `regions`). The outputs are None where a file does not tell (missing,
    unreadable, `global.regions` left to an ESC environment): then every output it can read counts. An empty set:
    the global stack's `global.regions` does not list this stack."""
    from config import regions as r
    files = r.project_stack_files(project_dir)
    own = r.region_file(files, stack, project)
    edge = own.get("edge") if isinstance(own, dict) else None
    name = edge.get("globalStack") if isinstance(edge, dict) else None
    if not isinstance(name, str) or not name:
        # a change that takes the stack from behind its global stack (edge.globalStack unset): the global stack
        # file that still lists it is the one to run (config refuses two listing one region)
        listing = [other for other in files if other != stack
                   and _listed(r.region_file(files, other, project), stack)]
        if len(listing) != 1:
            return None, None
        name = listing[0]
    raw = r.region_file(files, name, project)
    section = raw.get("global") if isinstance(raw, dict) else None
    if not isinstance(section, dict):
        return name, None
    listed = section.get("regions")
    if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
        return name, None
    if stack not in listed:
        return name, set()
    read = {"location", "keyVaultName", "resourceGroupName"}
    # over HTTPS unless a listed region sets no TLS (config/regions.py regions_without_tls, origin_tls): a region
    # whose file does not read leaves it open
    tls: list[Optional[bool]] = []
    for region in listed:
        region_raw = r.region_file(files, region, project)
        tls.append(None if region_raw is None else r.serves_tls(region_raw))
    read |= {"gatewayHostname"} if all(t is True for t in tls) else \
        {"gatewayExternalAddress"} if False in tls else {"gatewayHostname", "gatewayExternalAddress"}
    # a Fleet member unless the region's own file sets edge.fleet false (config/regions.py leaves_fleet)
    if not r.leaves_fleet(own):
        read.add("clusterId")
    # the /llmd route's origin only for a region global.llmdRegions lists (unset: none); an odd value leaves it open
    llmd = section.get("llmdRegions")
    if llmd is not None and (not isinstance(llmd, list) or stack in llmd):
        read.add("llmdPort")
    return name, read


def _refreshes_always(project_dir: Path) -> bool:
    """The project's Pulumi.yaml in `project_dir` sets `options.refresh: always` (every `pulumi up` refreshes)."""
    from offline.ignored_inputs import refreshes_always
    try:
        import yaml
        return refreshes_always(yaml.safe_load((project_dir / "Pulumi.yaml").read_text()))
    except (OSError, ValueError, yaml.YAMLError):
        return False


def _renewed(result: dict[str, Any], old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
             made: Any, values: set[Any]) -> list[tuple[str, frozenset[str], set[str]]]:
    """(urn, the values its create makes, its ARM ID and Azure name) of each Azure resource this change replaces or
    deletes: a value of the first kind is new after the run (a public IP's address), one of the second the same,
    naming a new object or none."""
    out = []
    for urn in sorted(set(result["replaced"]) | set(result["removed"])):
        now, was = new_res.get(urn), old_res.get(urn)
        resource = now or was
        if not resource or not resource["type"].startswith("azure-native:") or not resource.get("custom", True):
            continue
        rid, name = arm_id(resource["type"], resource.get("name") or "", resource["inputs"])
        names = {rid.lower()} | ({name} if resource["inputs"].get(_own_name_input(resource)) == name else set())
        outputs = {v for _, v in leaf_items(provider_outputs(resource["type"], resource.get("name") or "",
                                                             resource["inputs"]))}
        # what its create makes, for a resource with an output of those values only (the check runs on 100
        # replacements of a rebuilt cluster)
        out.append((urn, made(resource, was if now else None) if outputs & values else frozenset(), names))
    return out


def _feeders(value: Any, renewed: list[tuple[str, frozenset[str], set[str]]]) -> list[tuple[str, str]]:
    """(urn, how) of each resource this change replaces or deletes that the output's unchanged value comes from:
    "new" when the value is one its create makes, "names" when it is its ARM ID or Azure name."""
    if not isinstance(value, str) or not value:
        return []
    return [(urn, "new" if value in made else "names") for urn, made, names in renewed
            if value in made or value in names or value.lower() in names]


def _own_name_input(resource: dict[str, Any]) -> Optional[str]:
    from .rules import rules
    azure = rules()["azureNative"]["types"].get(resource["type"])
    return azure["path"][-1] if azure else None


def _readers(values: list[Any], document: dict[str, Any]) -> list[str]:
    """The URNs of the global plan's resources one of whose inputs is one of the values (the base's or this change's:
    a global plan made before a what-if holds the base's); a region's name at a `location` input is the resource's
    own region (the global stack's group in westeurope), not the output read."""
    wanted = [v for v in values if v is not None and v != ""]
    return [r["urn"] for r in document.get("resources") or [] if isinstance(r, dict) and r.get("custom", True)
            and isinstance(r.get("urn"), str)
            and any(v in wanted and not p.split(".")[-1] == "location" for p, v in leaf_items(r.get("inputs") or {}))]


def _regions_output_holds(values: list[Any], document: dict[str, Any], stack: str) -> bool:
    """The global plan's `regions` output (region stack -> its location, read from its `location` output: no
    resource holds it) holds one of the values for this stack."""
    outputs = document.get("outputs")
    regions = outputs.get("regions") if isinstance(outputs, dict) else None
    return isinstance(regions, dict) and regions.get(stack) in [v for v in values if v not in (None, "")]


def global_stack_lines(result: dict[str, Any], old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
                       old_outputs: dict[str, Any], new_outputs: dict[str, Any], new_folder: Path,
                       project_dir: Optional[Path] = None) -> list[str]:
    """The Markdown lines that tell the global stack's part of this regional change (none when it reads nothing this
    change renews): each output the global stack reads whose value changes, or whose value comes from or names a
    resource this change replaces or deletes; the global resources that read it where a plan of the global stack
    is beside `new_folder`; and the command to run after this stack's `pulumi up`."""
    from .compare import _made_at_create
    stacks = sorted({u.split("::")[0][len("urn:pulumi:"):] for u in new_res if u.startswith("urn:pulumi:")})
    projects = sorted({u.split("::")[1] for u in new_res if u.startswith("urn:pulumi:") and u.count("::") > 1})
    if len(stacks) != 1 or len(projects) != 1:
        return []
    stack, project = stacks[0], projects[0]
    # a regional stack exports `location` and `clusterId` only behind a global stack (edge.globalStack: __main__.py);
    # a stack on its own (dev, prod) exports `keyVaultName` and its gateway's address too, which nothing reads
    if all(old_outputs.get(k) in (None, "") for k in ("location", "clusterId")):
        return []
    read = [k for k in READ_BY_GLOBAL if old_outputs.get(k) not in (None, "")]  # what the global stack reads now
    engine = result.get("engineUrns", {})

    def short(urn: str) -> str:
        return short_urn(engine.get(urn, urn))
    found: list[tuple[str, str, str, list[Any]]] = []  # (output, what befalls it, "new" or "names", its values)
    pairs: Optional[dict[str, str]] = None  # an earlier kit's stand-in ids (a base planned before them)
    renewed: Optional[list[tuple[str, frozenset[str], set[str]]]] = None
    for key in read:
        was, now = old_outputs.get(key), new_outputs.get(key)
        if was != now and pairs is None:
            pairs = earlier_kit_pairs(old_res, new_res)
        if was != now and same_stand_in(was, now, pairs or {}):
            continue  # the same resource's id as another kit gives it: no change for the engine
        if was != now:
            gone = now in (None, "")
            what = f"`{key}` (`{was}`) is no longer an output" if gone else f"`{key}` changes from `{was}` to `{now}`"
            found.append((key, what, "gone" if gone else "new", [was, now]))
            continue
        if renewed is None:
            renewed = _renewed(result, old_res, new_res, _made_at_create,
                               {v for k in read for v in [old_outputs.get(k)] if isinstance(v, str)})
        feeding = _feeders(was, renewed)
        if not feeding:
            continue
        urn, kind = feeding[0]
        verb = "deletes" if urn in result["removed"] else "replaces"
        what = (f"`{key}` gets a new value: it comes from `{short(urn)}`, which this change {verb} (its create makes "
                "another; the plans show the same stand-in)") if kind == "new" else \
            (f"`{key}` keeps its value `{was}`, but it names `{short(urn)}`, which this change {verb}: what the "
             "global stack made on the old one goes with it, and its state still holds it")
        found.append((key, what, kind, [was]))
    if not found:
        return []
    # read only now: the sibling plans are large, and most changes renew nothing the global stack reads
    beside = global_plan(new_folder, stack)
    folder = Path.cwd() if project_dir is None else project_dir
    file_name, file_reads = _what_global_reads(stack, project, folder)
    if not beside and file_reads == set():
        return []  # its global stack does not list it (yet): nothing reads its outputs
    global_name = (beside[1].get("stack") if beside else None) or file_name
    lines: list[str] = []
    refresh = follow = False
    for key, what, kind, values in found:
        # the region's location reaches no resource of the global stack (only `regions`): a resource holding the
        # same word holds the region's short name (`westeurope` of prod-westeurope: its Fleet member, update group)
        readers = ([] if key == "location" else _readers(values, beside[1])) if beside else None
        by_output = beside is not None and key == "location" and _regions_output_holds(values, beside[1], stack)
        if beside and readers == [] and not by_output:
            lines.append(f"- {what}; no resource of the global stack's plan in `{beside[0]}` holds it (it is read "
                         f"for {READ_BY_GLOBAL[key]})")
        elif not beside and file_reads is not None and key not in file_reads:
            # the workflow plans one stack a job: the global stack's and the regions' files say what it reads
            if kind == "gone":
                continue  # an output nothing reads, gone
            lines.append(f"- {what}; the global stack `{global_name}` does not read it from this stack: "
                         f"{_NOT_READ.get(key, 'its files leave it out')}")
        else:
            follow = True
            refresh = refresh or kind == "names"
            held = f"; read by {', '.join(f'`{short_urn(u)}`' for u in readers[:6])}" \
                f"{', ...' if len(readers) > 6 else ''}" if readers else \
                "; read by the global stack's `regions` output" if by_output else \
                f" (the global stack reads it for {READ_BY_GLOBAL[key]})"
            # config/global_stack.py region_output refuses an output a region no longer has
            listing = "global.llmdRegions" if key == "llmdPort" else "global.regions"
            lines.append(f"- {what}{held}" + (
                f"; the global stack stops with an error until its `{listing}` drops this stack or the output "
                "comes back" if kind == "gone" else ""))
        if key == "gatewayExternalAddress" and kind == "new" and new_outputs.get("gatewayHostname"):
            lines.append(f"- and the DNS A record of `gatewayHostname` (`{new_outputs['gatewayHostname']}`) must "
                         "name the new address (outside Pulumi): Front Door reaches the region at that name over "
                         "HTTPS, and its certificate is issued for it")
        address = new_outputs.get("gatewayExternalAddress")
        if key == "gatewayHostname" and kind == "new" and address:
            lines.append(f"- and the DNS A record of `{new_outputs[key]}` must name the gateway's address "
                         f"(`gatewayExternalAddress`, `{address}`) before the global stack's run (outside Pulumi): "
                         "the region's certificate for the new name is issued over Let's Encrypt's HTTP-01 challenge "
                         "at that name, and Front Door checks it")
    if not lines:
        return []
    target = global_name or "<the global stack: this stack's edge.globalStack>"
    # a project whose Pulumi.yaml sets `options.refresh: always` refreshes on every `pulumi up` (this one does)
    refreshes = _refreshes_always(folder)
    command = f"pulumi up -s {target}" + (" --refresh" if refresh and not refreshes else "")
    why = "reads first what went with the replaced object, the Fleet member or the secrets, so the run makes it " \
        "again: without a refresh the same inputs change nothing"
    head = (f"**The global stack reads outputs this change renews**: after `pulumi up -s {stack}`, run "
            f"`{command}`" + ((f" (its refresh, Pulumi.yaml's `options.refresh: always`, {why})" if refreshes else
                               f" (`--refresh` {why})") if refresh else "") + ":") if follow else \
        (f"**Outputs the global stack can read change**, but "
         + ("no resource of its plan holds them" if beside else f"`{target}` does not read them from this stack")
         + f", so `{command}` changes nothing for them:")
    return [head, "", *lines, ""]
