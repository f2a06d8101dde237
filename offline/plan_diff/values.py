"""Values: what the cloud refuses or cannot undo, by comparing the base's value with the change's."""
import json
import re

from typing import Any, Iterator, Optional

from llmplatform import postgres_options
from config.quantities import parse_quantity

from .rules import RULES_FILE, indexless, rules, under


def _number(value: Any) -> Optional[float]:
    """An int, or a Kubernetes quantity such as `512Gi` / `100G` (bytes, as the API server reads it: the components'
    parse_quantity), as a number; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    quantity = parse_quantity(str(value))
    return None if quantity is None else float(quantity)


def _version(value: Any) -> Optional[tuple[int, ...]]:
    """`1.34`, `1.34.2`, `17` -> a tuple of ints; None for anything else (an unset version is AKS's default)."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return tuple(int(p) for p in text.split(".")) if re.fullmatch(r"\d+(\.\d+){0,2}", text) else None


def _below(after: tuple[int, ...], before: tuple[int, ...]) -> bool:
    """A lower major or minor, or a lower patch where both give one: AKS reads a minor alone as that minor's newest
    patch, and a cluster or pool at `1.34.x` given `1.34` is not upgraded (AgentPool.orchestratorVersion, Azure REST
    API reference: "1.14.x -> 1.14 will not trigger an upgrade"), so neither is below the other."""
    return after[:2] < before[:2] or (after[:2] == before[:2] and len(after) > 2 and len(before) > 2 and after < before)


# Auto-upgrade channels that move a cluster's minor version (AksCluster then ignores `kubernetesVersion`): the base's
# value is a floor, not what runs, and `pulumi up` diffs against what runs (Pulumi.yaml `refresh: always`: a refresh
# puts Azure's version in the state). MicrosoftDocs/azure-aks-docs articles/aks/auto-upgrade-cluster.md at fb060abe:
# `stable` moves to the latest patch of minor N-1, `rapid` to the latest supported minor.
CHANNELS_MOVING_THE_MINOR = ("stable", "rapid")
# and `patch`, which moves it to the newest patch of its minor (the same page: "keeping the minor version the same"):
# a channel under which the cluster runs past the base's `kubernetesVersion`
CHANNELS_MOVING_THE_VERSION = ("patch", *CHANNELS_MOVING_THE_MINOR)
DOWNGRADE = "a downgrade"
RUNNING_VERSION = "`az aks show -g <group> -n <cluster> --query currentKubernetesVersion -o tsv`"
RUNNING_POOL_VERSION = ("`az aks nodepool show -g <group> --cluster-name <cluster> -n <pool> --query "
                        "currentOrchestratorVersion -o tsv`")


class Unsure(str):
    """A finding the base cannot settle (the version the cluster runs is not in it): a check line, never a refusal."""


def _patch_of_a_minor_alone(before: tuple[int, ...], after: tuple[int, ...]) -> bool:
    """A patch pinned of the minor the base gives alone (`1.34` -> `1.34.1`): the base runs the patch AKS chose when
    it was set, which the plan does not hold (the same rule as _below: a minor alone given again upgrades nothing)."""
    return len(before) == 2 and len(after) > 2 and after[:2] == before[:2]


def _minor_alone_check(old: Any, running: str) -> Unsure:
    return Unsure(f"the base's {_shown(old)} is a minor alone: it runs the patch AKS chose when it was set (that "
                  f"minor's newest then; the minor given again upgrades nothing) or an `az aks upgrade` gave it, "
                  f"which the plan does not hold: check with {running} that this is not below it")


def _base_channel(base_inputs: dict[str, Any]) -> str:
    profile = base_inputs.get("autoUpgradeProfile")
    return str((profile if isinstance(profile, dict) else {}).get("upgradeChannel") or "").lower()


def _kubernetes_upgrade(old: Any, new: Any, base_channel: str) -> Optional[str]:
    before, after = _version(old), _version(new)
    if after is None:
        return None
    if before is not None and _below(after, before):
        return DOWNGRADE  # below the base's value is below what runs too: a channel only moves up
    check = (f"check with {RUNNING_VERSION} that this is neither below the version it runs (AKS never downgrades) "
             "nor more than one minor above it")
    if base_channel in CHANNELS_MOVING_THE_MINOR:
        since = "" if before is None else f", so it may run a newer minor than the base's {_shown(old)}"
        return Unsure(f"the base's `{base_channel}` auto-upgrade channel moves the cluster's minor version, and its "
                      f"`kubernetesVersion` was ignored under it{since}: {check}")
    if before is None:
        return Unsure(f"the base gives no version (the cluster runs the one AKS chose at creation, or `az aks "
                      f"upgrade`'s): {check}")
    if len(after) > 1 and len(before) > 1 and after[0] == before[0] and after[1] > before[1] + 1:
        return f"skips {after[1] - before[1] - 1} minor version(s)"
    if base_channel == "patch" and len(after) > 2 and after[:2] == before[:2]:
        return Unsure(f"the base's `patch` auto-upgrade channel moves the cluster's patch version, and its "
                      f"`kubernetesVersion` was ignored under it, so it may run a newer patch of {after[0]}.{after[1]} "
                      f"than the base's {_shown(old)}: {check}")
    if _patch_of_a_minor_alone(before, after):
        return _minor_alone_check(old, RUNNING_VERSION)
    return None


def _connection_limit_kept(old: Any, new: Any) -> Optional[str]:
    """A PostgreSQL compute size change: the server keeps the max_connections of the size it was created at (the
    base's size, unless resized before); None when both sizes have the same or either is not in Microsoft's
    table."""
    before, after = (postgres_options.max_connections(str(v)) if isinstance(v, str) else None for v in (old, new))
    if before is None or after is None or before == after:
        return None
    return (f"the server keeps the max_connections it was created with ({before} if at {old}, the base's size); "
            f"a server created at {new} has {after}")


def _finding(check: str, old: Any, new: Any, inputs: dict[str, Any], base_inputs: dict[str, Any]) -> Optional[str]:
    """What is wrong with changing `old` to `new` under the named check, or None."""
    if check == "kubernetesUpgrade":
        return _kubernetes_upgrade(old, new, _base_channel(base_inputs))
    if check == "noDowngrade":
        before, after = _version(old), _version(new)
        if before and after and _patch_of_a_minor_alone(before, after):
            return _minor_alone_check(old, RUNNING_POOL_VERSION)
        return DOWNGRADE if before and after and _below(after, before) else None
    if check == "upgrade":
        before, after = _version(old), _version(new)
        return "an upgrade" if before and after and after > before else None
    if check == "noDecrease":
        was, now = _number(old), _number(new)
        return "smaller" if was is not None and now is not None and now < was else None
    if check == "staticClaimGrowth":
        was, now = _number(old), _number(new)
        grows = was is not None and now is not None and now > was
        return "grows a claim bound to a pre-created volume" if grows and (
            (inputs.get("spec") or {}).get("storageClassName") == "") else None
    if check == "noTurnOff":
        return "turned off" if old is True and new is not True else None
    if check == "turnOn":
        return "turned on" if old is not True and new is True else None
    if check == "minorMovingChannel":  # how far each channel moves the minor: stable to N-1, rapid to N
        reach = {"stable": 1, "rapid": 2}
        channel = str(new or "").lower()
        return f"AKS now moves the minor version ({channel})" if reach.get(channel, 0) > reach.get(
            str(old or "").lower(), 0) else None
    if check == "zoneRedundancy":
        def zonal(sku: Any) -> bool:
            return "ZRS" in str(sku).rsplit("_", 1)[-1]
        return "changes zone redundancy" if old is not None and new is not None and zonal(old) != zonal(new) else None
    if check == "changed":
        return "changed" if old != new else None
    if check == "connectionLimitAtCreate":
        return _connection_limit_kept(old, new)
    raise ValueError(f"unknown value check {check!r} in {RULES_FILE.name}")


def _at(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for a rule path, `[]` standing for every list index; absent values are None."""
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        items = value.get(head[:-2]) if isinstance(value, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            for sub, found in (_at(item, rest) if rest else [("", item)]):
                yield f"{head[:-2]}[{i}]" + (f".{sub}" if sub else ""), found
        return
    inner = value.get(head) if isinstance(value, dict) else None
    if not rest:
        yield head, inner
    else:
        yield from ((f"{head}.{sub}", found) for sub, found in _at(inner, rest))


def _shown(value: Any) -> str:
    return "(unset)" if value is None else json.dumps(value)


def _stack_key(rule: dict[str, Any], inputs: dict[str, Any]) -> str:
    """The stack key that sets the input: the rule's, or the object's own (by metadata.name) where one rule covers
    several Kubernetes objects set by different keys (the model store's claim, Open-WebUI's uploads claim)."""
    config = rule["config"]
    if isinstance(config, str):
        return config
    name = (inputs.get("metadata") or {}).get("name")
    return config.get(name) or " or ".join(sorted(set(config.values())))


def grafana_renders_claim(inputs: dict[str, Any]) -> bool:
    """Whether kube-prometheus-stack's values make Grafana's chart render its own claim: grafana-community/helm-charts
    charts/grafana/templates/pvc.yaml at grafana-12.11.1 (864f7794) renders it `if and (not .Values.useStatefulSet)
    .Values.persistence.enabled (not .Values.persistence.existingClaim) (eq .Values.persistence.type "pvc")`, and
    kube-prometheus-stack's Chart.yaml only with `grafana.enabled` (the defaults: persistence.enabled false, type pvc,
    useStatefulSet false, grafana.enabled true: tests/upstream/charts/kube-prometheus-stack)."""
    values = inputs.get("values")
    grafana = values.get("grafana") if isinstance(values, dict) else None
    if not isinstance(grafana, dict) or grafana.get("enabled") is False or grafana.get("useStatefulSet") is True:
        return False
    persistence = grafana.get("persistence")
    return isinstance(persistence, dict) and persistence.get("enabled") is True and \
        not persistence.get("existingClaim") and persistence.get("type", "pvc") == "pvc"


# A valueRules entry's `onlyIf`: the rule holds only when this is true of both the base's and the new inputs (a
# claim the chart renders before and after: one it stops rendering is not patched, one it starts rendering is new)
ONLY_IF = {"grafanaRendersClaim": grafana_renders_claim}


def _reaches(path: str, rule_path: str) -> bool:
    """A changed path at or inside the rule's path, or holding it: changed_keys gives a list whose length changed (or
    an object added) as one path, so `spec.dnsNames` with a name added holds `spec.dnsNames[]`'s changes."""
    return under(path, rule_path) or under(rule_path, indexless(path))


def value_findings(type_: str, old_inputs: dict[str, Any], new_inputs: dict[str, Any],
                   paths: list[str]) -> tuple[list[str], list[str]]:
    """(refusals, checks) for the changed paths of one resource: each names the input, the stack key that sets it,
    both values, and why (offline/data/replacement_rules.json `valueRules`)."""
    refusals: list[str] = []
    checks: list[str] = []
    for rule in rules()["valueRules"].get(type_, []):
        if not any(_reaches(p, rule["path"]) for p in paths):
            continue
        if rule.get("onlyIf") and not (ONLY_IF[rule["onlyIf"]](old_inputs) and ONLY_IF[rule["onlyIf"]](new_inputs)):
            continue
        before = dict(_at(old_inputs, rule["path"]))
        for where, after in _at(new_inputs, rule["path"]):
            old = before.get(where)
            problem = _finding(rule["check"], old, after, new_inputs, old_inputs) if old != after else None
            if problem:
                key = _stack_key(rule, new_inputs)
                line = f"`{where}` {_shown(old)} -> {_shown(after)} (stack key `{key}`): {problem}; {rule['why']}"
                (refusals if rule["blocks"] and not isinstance(problem, Unsure) else checks).append(line)
    return refusals, checks


# Auto-upgrade channels that never move a cluster's minor version: MicrosoftDocs/azure-aks-docs
# articles/aks/auto-upgrade-cluster.md at fb060abe (2026-08-21): `patch` "keeping the minor version the same",
# `node-image` upgrades node images only; AKS itself moves only a cluster at N-3 about to fall to N-4 (to N-2).
CHANNELS_KEEPING_THE_MINOR = {
    "patch": "it moves patches only, 'keeping the minor version the same'",
    "node-image": "it upgrades node images only, never the Kubernetes version",
}


def ignored_findings(type_: str, old_inputs: dict[str, Any], new_inputs: dict[str, Any],
                     ignored: list[str]) -> list[str]:
    """Check lines for ignored paths whose edit nothing else carries out: a new minor of `kubernetesVersion` under an
    auto-upgrade channel that keeps the minor, or a new patch under `node-image` (the Ignored line alone reads as if
    AKS would make the upgrade)."""
    if type_ != "azure-native:containerservice:ManagedCluster" or "kubernetesVersion" not in ignored:
        return []
    channel = str((new_inputs.get("autoUpgradeProfile") or {}).get("upgradeChannel") or "").lower()
    old, new = old_inputs.get("kubernetesVersion"), new_inputs.get("kubernetesVersion")
    before, after = _version(old), _version(new)
    if channel not in CHANNELS_KEEPING_THE_MINOR or after is None:
        return []
    # a new patch is `patch`'s to make, and `node-image` makes none: told there, as a new minor is under both
    if before is not None and before[:2] == after[:2] and (channel == "patch" or not _below(before, after)):
        return []
    unknown = "" if before is not None else (
        "the base gives no version, so the cluster runs the one AKS chose at creation (`az aks show -g <group> -n "
        "<cluster> --query currentKubernetesVersion -o tsv`): nothing to do if that is this minor; if this minor is "
        "newer, ")
    return [f"`kubernetesVersion` {_shown(old)} -> {_shown(new)} (stack key `cluster.kubernetesVersion`): ignored, "
            f"and {unknown}the `{channel}` auto-upgrade channel never makes this upgrade "
            f"({CHANNELS_KEEPING_THE_MINOR[channel]}: "
            "MicrosoftDocs/azure-aks-docs articles/aks/auto-upgrade-cluster.md): the cluster stays on the version it "
            "runs. To upgrade, set `cluster.upgradeChannel: none` with the version it runs, then raise it one minor "
            "a change (docs/operations.md, \"Upgrading Kubernetes\"), or run `az aks upgrade` (the stack's value "
            "stays ignored)"]


def channel_exit_findings(type_: str, old_inputs: dict[str, Any], new_inputs: dict[str, Any],
                          paths: list[str]) -> list[str]:
    """A check line for a cluster leaving a channel that moved its version (CHANNELS_MOVING_THE_VERSION) for `none`
    with `kubernetesVersion` as the base wrote it: AksCluster ignored the value under the channel, the cluster runs
    past it, and `pulumi up` now sends it, diffing against what runs (Pulumi.yaml `refresh: always`), which AKS
    refuses as a downgrade. A changed pin is the kubernetesUpgrade rule's."""
    if type_ != "azure-native:containerservice:ManagedCluster" or "kubernetesVersion" in paths:
        return []
    base, now, version = _base_channel(old_inputs), _base_channel(new_inputs), new_inputs.get("kubernetesVersion")
    pinned = _version(version)
    # under `patch` a minor alone (`1.34`) stays what runs: the channel moves only the patch
    if base not in CHANNELS_MOVING_THE_VERSION or now != "none" or pinned is None or (
            base == "patch" and len(pinned) < 3):
        return []
    return [f"`autoUpgradeProfile.upgradeChannel` {_shown(base)} -> \"none\" with `kubernetesVersion` "
            f"{_shown(version)} kept (stack keys `cluster.upgradeChannel`, `cluster.kubernetesVersion`): AksCluster "
            f"ignored that version under the `{base}` channel, which moved the cluster past it, and `pulumi up` now "
            f"sends it: check with {RUNNING_VERSION} that it is not below the version the cluster runs (AKS never "
            "downgrades), else set `cluster.kubernetesVersion` to that version in this change"]


def update_findings(type_: str, new_inputs: dict[str, Any], paths: list[str]) -> list[str]:
    """Check lines for any in-place update of a resource whose live state may have moved past its inputs: a
    PostgreSQL server with storage auto-grow, which Azure grows (doubling a Premium SSD disk) while the update
    pulumi-azure-native sends carries the stack's size."""
    if type_ != "azure-native:dbforpostgresql:Server" or not paths:
        return []
    storage = new_inputs.get("storage") or {}
    if str(storage.get("autoGrow") or "").lower() != "enabled":
        return []
    return [f"`storage.autoGrow` is Enabled, so Azure may have grown the server past the "
            f"{_shown(storage.get('storageSizeGB'))} GB this update sends in `storage.storageSizeGB` (stack key "
            "`postgres.storageSizeGb`; a Premium SSD disk doubles: learn.microsoft.com/azure/postgresql/scale/"
            "how-to-auto-grow-storage), and a server's storage never shrinks (the storage.storageSizeGB rule): "
            "the update would be refused (hashicorp/terraform-provider-azurerm#29463 is the same clash). Check "
            "`az postgres flexible-server show -g <group> -n <server> --query storage.storageSizeGb` and raise "
            "`postgres.storageSizeGb` to it in this change if it is larger"]
