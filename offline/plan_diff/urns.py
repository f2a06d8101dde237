"""URNs as the engine writes them, and aliases: how the engine matches a new URN to an old one."""

from typing import Any, Optional


def provider_urn(reference: Optional[str]) -> str:
    """A provider reference is `<provider URN>::<provider ID>`; the URN alone names the provider resource."""
    reference = reference or ""
    return reference.rsplit("::", 1)[0] if reference.count("::") > 3 else reference


def short_urn(urn: str) -> str:
    return "::".join(urn.split("::")[-2:])


def engine_urns(resources: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each resource's URN as the engine writes it (the type chain of every ancestor, no root-stack prefix), from a
    document whose URNs may follow the SDK mock's scheme (offline plans): the URN `pulumi stack --show-urns`,
    `pulumi state unprotect` and `--target-replace` take."""
    out: dict[str, str] = {}

    def engine(urn: str) -> str:
        if urn not in out:
            res = resources.get(urn)
            if res is None:  # the root stack or a resource outside the document: as written
                return urn
            parent = res.get("parent") or ""
            stack, project, chain, name = _urn_parts(urn)
            out[urn] = engine_urn(engine(parent) if parent else "", res.get("type") or chain.split("$")[-1],
                                   res.get("name") or name, stack, project)
        return out[urn]
    for urn in resources:
        engine(urn)
    return out


def _urn_parts(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, qualified type, name) of `urn:pulumi:<stack>::<project>::<type chain>::<name>`."""
    head, project, qualified, name = urn.split("::", 3)
    return head[len("urn:pulumi:"):], project, qualified, name


ROOT_STACK = "pulumi:pulumi:Stack"


def engine_urn(parent: str, type_: str, name: str, stack: str, project: str) -> str:
    if not parent or _urn_parts(parent)[2].split("$")[-1] == ROOT_STACK:
        return f"urn:pulumi:{stack}::{project}::{type_}::{name}"
    return f"{parent[:parent.rindex('::')]}${type_}::{name}"


def _mock_urn(parent: str, type_: str, name: str, stack: str, project: str) -> str:
    """The SDK mock monitor's scheme (pulumi/runtime/mocks.py make_urn): only the parent's last type is kept."""
    prefix = _urn_parts(parent)[2].split("$")[-1] + "$" if parent else ""
    return f"urn:pulumi:{stack}::{project}::{prefix}{type_}::{name}"


def urn_scheme(resources: dict[str, dict[str, Any]]) -> Any:
    """The rule that reproduces the document's own URNs from parent, type and name: the engine's, or the SDK mock's
    (offline plans), so an alias is resolved to the URN the same runner would have given the old resource."""
    with_parent = [r for r in resources.values() if r.get("parent")]
    for scheme in (engine_urn, _mock_urn):
        if all(scheme(r["parent"], r["type"], r["name"], *_urn_parts(r["urn"])[:2]) == r["urn"]
               for r in with_parent):
            return scheme
    return engine_urn


def generate_aliases(name: str, type_: str, parent: str, specs: list[dict[str, Any]], parent_alias: Optional[str],
                     stack: str, project: str, matched: Optional[dict[str, str]] = None, make: Any = None,
                     root: str = "") -> list[str]:
    """The URNs the engine tries, in its order, for a resource's old one after its own (pulumi/pulumi 1b5949891b
    `pkg/resource/deploy/step_generator.go` `generateAliases`): each alias collapsed to a URN (`collapseAliasToUrn`:
    an unset part is the resource's own, an unset parent its *new* parent, a parent given that matched through its
    own alias taken at its old URN, no parent under the root stack), then, when the parent matched through an alias
    (`parent_alias`, its old URN), the resource itself and each collapsed alias under that old parent, a name that
    starts with the parent's name starting with the old parent's instead (`inheritedChildAlias`, in this stack and
    project). `matched`: new URN -> old URN of what matched through an alias so far; `make`: the URN scheme (the
    engine's, or the SDK mock's for an offline plan, whose root stack is `root`)."""
    make = make or engine_urn
    matched = matched or {}
    found: list[str] = []

    def add(urn: str) -> None:
        if urn not in found:
            found.append(urn)

    def collapse(alias: dict[str, Any]) -> str:
        if alias.get("urn"):
            return alias["urn"]
        spec = alias.get("spec", {})
        at = matched.get(spec["parentUrn"], spec["parentUrn"]) if spec.get("parentUrn") else parent
        if spec.get("noParent") or (at and _urn_parts(at)[2].split("$")[-1] == ROOT_STACK):
            at = root if make is _mock_urn else ""
        return make(at, spec.get("type") or type_, spec.get("name") or name, spec.get("stack") or stack,
                    spec.get("project") or project)

    def inherited(child_type: str, child_name: str, old_parent: str) -> str:
        parent_name = _urn_parts(parent)[3]
        if child_name.startswith(parent_name):
            child_name = _urn_parts(old_parent)[3] + child_name[len(parent_name):]
        _, _, rest = make(old_parent, child_type, child_name, stack, project).split("::", 2)
        return f"urn:pulumi:{stack}::{project}::{rest}"

    for alias in specs:
        add(collapse(alias))
    if parent and parent_alias:
        add(inherited(type_, name, parent_alias))
        for alias in specs:
            child = collapse(alias)
            add(inherited(_urn_parts(child)[2].split("$")[-1], _urn_parts(child)[3], parent_alias))
    return found


def alias_matches(old_res: dict[str, dict[str, Any]], new_res: dict[str, dict[str, Any]],
                  conflicts: Optional[dict[str, str]] = None) -> dict[str, str]:
    """new URN -> old URN for every new resource the engine would match to an old one through its aliases. The
    engine takes the first alias (`generate_aliases`' order) that names an old resource (pulumi/pulumi
    `pkg/resource/deploy/step_generator.go` `getOldResource` at 1b5949891b) and refuses the resource when that old
    resource is also what another resource of the program is (its URN, or its alias too): "Duplicate resource alias"
    (diag 2008) or "Duplicate resource URN ... conflicting with alias" (2016), an error that ends the update. Each
    such resource goes into `conflicts` (new URN -> why), unmatched."""
    make = urn_scheme(new_res)
    root = next((r["parent"] for r in new_res.values() if r.get("parent")
                 and _urn_parts(r["parent"])[2].split("$")[-1] == ROOT_STACK), "")
    matched: dict[str, str] = {}

    def depth(urn: str) -> int:
        parent = (new_res.get(urn) or {}).get("parent")
        return 1 + depth(parent) if parent in new_res else 0

    for urn in sorted(new_res, key=depth):  # parents first, as the engine registers them
        res = new_res[urn]
        specs = res.get("options", {}).get("aliases") or []
        parent = res.get("parent") or ""
        if urn in old_res or (not specs and parent not in matched):
            continue
        stack, project = _urn_parts(urn)[:2]
        candidates = generate_aliases(res["name"], res["type"], parent, specs, matched.get(parent), stack, project,
                                      matched, make, root)
        found = next((c for c in candidates if c in old_res), None)
        other = found if found in new_res else next((u for u, o in matched.items() if o == found), None)
        if found and other and conflicts is not None:
            conflicts[urn] = (f"its alias names `{short_urn(found)}`, which `{short_urn(other)}` also is in this "
                              "program: the engine refuses both (\"Duplicate resource alias\") and the update "
                              "stops; drop the alias or give the other resource another name")
        elif found and not other:
            matched[urn] = found
    return matched
