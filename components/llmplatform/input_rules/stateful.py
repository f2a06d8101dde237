"""The value rules of the stateful components: ModelStore, KeyVault, PostgresServer."""
import math
import re
from typing import Any, Mapping

from .. import azure_names as names, ollama_names, postgres_options
from ..regions import postgres_refuses, premium_files_refuse_zrs
from ..choices import (MAX_PREMIUM_SHARE_GIB, MAX_SNAPSHOT_RETENTION_DAYS, MIN_PREMIUM_SHARE_GIB,
                       MIN_SNAPSHOT_RETENTION_DAYS, POSTGRES_TIERS, POSTGRES_VERSIONS, REDUNDANCIES, SHARE_PROTOCOLS)
from ..postgres_access import APP_LOGIN
from ..rules import GUID, Problem, Rules, known, pattern
from .shared import label_key_problem, LABEL_VALUE, MAX_MODEL_GIB


def model_store(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "ModelStore")
    r.text("account_name", names.storage_account)
    r.text("share_name", names.file_share)
    r.text("namespace", names.dns_label)
    group = r.text("resource_group_name", names.resource_group)
    separate = r.text("separate_resource_group", names.resource_group)
    if group is not None and separate is not None:  # the store goes in one group: the one it creates wins
        r.add("separate_resource_group", separate, f"only without {r.ref('resource_group_name')} ({group!r}): "
                                                   "the store goes in the group it creates, or in the one given")
    selector = r.given("preload_node_selector")
    if isinstance(selector, Mapping):  # the Job's nodeSelector: the API server takes only label keys and values
        for key, value in selector.items():
            if isinstance(key, str) and (problem := label_key_problem(key)):
                r.add(f"preload_node_selector[{key!r}]", key, problem)
            elif isinstance(key, str) and isinstance(value, str) and not LABEL_VALUE.fullmatch(value):
                r.add(f"preload_node_selector[{key!r}]", value, "a label value: at most 63 letters, digits, '-', "
                                                                "'_' and '.', starting and ending with a letter or "
                                                                "digit")
    protocol = r.choice("protocol", SHARE_PROTOCOLS)
    _snapshot_rules(r, protocol)
    redundancy = r.choice("redundancy", REDUNDANCIES)
    location = known(r.args.get("cluster"), "location")
    # off only for a share that exists: one created ZRS while the page listed its region keeps ZRS (the account's
    # redundancy is not taken away), and a refusal would stop its stack for good
    checked = r.flag("check_region_offers") is not False
    if checked and redundancy == "ZRS" and isinstance(location, str) and premium_files_refuse_zrs(location):
        # Microsoft's list of regions with ZRS for SSD file shares (data/azure_service_regions.json): a FileStorage
        # account of Premium_ZRS elsewhere is refused when it is created, after the cluster
        r.add("redundancy", redundancy, f"LRS in the cluster's location {location!r}: Azure offers SSD (premium) file "
                                        "shares there with LRS only (Microsoft's Azure Files redundancy support for "
                                        f"SSD file shares); a share created ZRS there already keeps it: "
                                        f"{r.ref('check_region_offers')} false")
    r.whole("size_gib", MIN_PREMIUM_SHARE_GIB, MAX_PREMIUM_SHARE_GIB)  # Azure Files Premium's share sizes
    models = r.texts("models", ollama_names.name_problem)
    # one model under two spellings (`gpt-oss`, `gpt-oss:latest`, `registry.ollama.ai/library/gpt-oss`) is one
    # model: Ollama stores it once (types/model/name.go, DisplayShortest; case folded as getExistingName does)
    same = [ollama_names.display_shortest(m).lower() for m in models]
    twice = sorted({m for m, key in zip(models, same) if same.count(key) > 1})
    if twice:
        r.add("models", twice, "each model once")
    sizes = r.given("model_sizes_gib")
    if isinstance(sizes, Mapping):
        for name, size in sizes.items():
            if name not in models:
                r.add(f"model_sizes_gib[{name!r}]", size, f"sizes only of models in {r.ref('models')}")
            elif isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size <= MAX_MODEL_GIB:
                r.add(f"model_sizes_gib[{name!r}]", size, f"a download size in GiB above 0, at most {MAX_MODEL_GIB}")
    elif sizes is not None:
        r.add("model_sizes_gib", sizes, "a map of model name to download size in GiB")
    _room_rule(r, models, sizes)
    return r.problems


# Azure Backup's schedule of an Azure Files policy: a time on the hour or half hour (the Azure quickstart template
# recovery-services-backup-file-share: "HH:MM format, where MM must be 00 or 30")
SNAPSHOT_TIME = pattern(r"([01][0-9]|2[0-3]):(00|30)", "HH:MM (24h, UTC) on the hour or half hour")


def _snapshot_rules(r: Rules, protocol: Any) -> None:
    r.whole("snapshot_retention_days", MIN_SNAPSHOT_RETENTION_DAYS, MAX_SNAPSHOT_RETENTION_DAYS,
            " (Azure Files backup keeps daily snapshots at most 200 days)")
    r.text("snapshot_time", SNAPSHOT_TIME)
    if r.flag("snapshots") and protocol == "nfs":
        r.add("snapshots", True, f"false with {r.ref('protocol')} nfs: Azure Backup does not back up NFS file "
                                 "shares (its Azure Files support matrix, 2026-02-17), so snapshots need "
                                 f"{r.ref('protocol')} smb")
    alert_routing_rule(r)


# An action group's ARM id (Microsoft.Insights actionGroups: a name of letters, digits, '-', '_', '.', '(' and ')');
# compared without case, as ARM compares ids
ACTION_GROUP_ID = re.compile(r"/subscriptions/[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}/resourceGroups/[-\w._()]{1,90}"
                             r"/providers/Microsoft\.Insights/actionGroups/[-\w._()]{1,260}", re.IGNORECASE)


def alert_routing_rule(r: Rules) -> None:
    """`alert_action_group_id`: an action group's resource ID ("" is none, as AzureMonitoring's handle carries it
    without e-mails), only with `snapshots` (the vault's alerts are what it routes). One given as an output is judged
    once it resolves, by this rule (checks.late_values: ModelStore's rules run again with its value), "" then
    refused as an empty value (checks.PRESENCE_DECIDES: the alert processing rule was made for it); without
    `snapshots` an output is refused at once, as whatever it resolves to is refused then."""
    group = r.args.get("alert_action_group_id")
    if group is None or group == "":
        return
    if isinstance(group, str) and not ACTION_GROUP_ID.fullmatch(group):
        r.add("alert_action_group_id", group,
              "an action group's resource ID, /subscriptions/<subscription GUID>/resourceGroups/<group>/providers/"
              "Microsoft.Insights/actionGroups/<name> (AzureMonitoring's monitoring[\"action_group_id\"], or "
              "`az monitor action-group show --resource-group <group> --name <name> --query id`)")
    if r.get("snapshots") is not True:  # (a snapshots that is no flag: refused by its own rule too)
        r.add("alert_action_group_id", group, f"unset without {r.ref('snapshots')} true: it receives the snapshot "
                                              "vault's alerts, and there is no vault")


# The room a share keeps above the models it preloads, the one rule of the component and the stack (config/sections/
# model_store.py passes its sizes here): a store that cannot hold its models fails its preload Job at `pulumi up`,
# after the account, the share and the cluster's objects are made.
SHARE_FREE_SHARE = 0.10


def least_share_gib(needed: float) -> int:
    """The smallest share (GiB) that keeps 10 % of itself free above `needed` GiB of models (rounded to a millionth
    first: 94.5 / 0.9 is 105.00000000000001 in floating point, and a 105 GiB share holds it)."""
    return math.ceil(round(needed / (1 - SHARE_FREE_SHARE), 6))


def _room_rule(r: Rules, models: list[str], sizes: Any) -> None:
    """The models the Job pulls, by their declared sizes, leave 10 % of `size_gib` free (not for a dry run, or with
    preload off: nothing is pulled)."""
    size = r.get("size_gib")
    if (r.get("preload") is False or r.get("preload_dry_run") is True or not isinstance(sizes, Mapping)
            or isinstance(size, bool) or not isinstance(size, int)
            or not MIN_PREMIUM_SHARE_GIB <= size <= MAX_PREMIUM_SHARE_GIB):
        return
    declared = [v for m, v in sizes.items() if m in models and isinstance(v, (int, float)) and not isinstance(v, bool)
                and 0 < v <= MAX_MODEL_GIB]
    needed = sum(declared)
    least = least_share_gib(needed)
    if size >= least:
        return
    room = (f"at least {least} GiB" if least <= MAX_PREMIUM_SHARE_GIB else
            f"fewer models: the largest share ({MAX_PREMIUM_SHARE_GIB} GiB) holds "
            f"{int(MAX_PREMIUM_SHARE_GIB * (1 - SHARE_FREE_SHARE))} GiB of them")
    r.add("size_gib", size, f"{room}: 10 % of the share free above the ~{needed:.0f} GiB of the models to preload "
                            f"({r.ref('model_sizes_gib')}), or the preload Job runs out of room")


def key_vault(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "KeyVault")
    r.text("vault_name", names.key_vault)
    r.whole("soft_delete_retention_days", 7, 90)
    r.text("tenant_id", GUID)
    return r.problems


def postgres_server(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "PostgresServer")
    r.text("server_name", names.postgres_server)
    r.choice("version", POSTGRES_VERSIONS)
    tier = r.choice("tier", POSTGRES_TIERS)
    # each tier runs on its VM family, any size of it (postgres_options: data/postgres_flexible.json, its sources)
    sku = r.text("sku_name", postgres_options.any_sku_problem)
    found = postgres_options.sku_tier(sku) if sku else None
    if found and tier and found != tier:
        given = sku if r.given("sku_name") else f"{sku}, the default,"
        r.add("sku_name", sku, f"{postgres_options.sku_shape(tier)} with {r.ref('tier')} {tier}; {given} is a "
                               f"{found} size")
    sizes = postgres_options.storage_sizes_gib()
    r.declare("storage_size_gb", allowed=sizes)  # a set of sizes, not a range
    storage = r.get("storage_size_gb")
    if storage is not None and (isinstance(storage, bool) or storage not in sizes):
        r.add("storage_size_gb", storage, f"a Premium SSD size in GiB: {', '.join(map(str, sizes))}")
    r.whole("backup_retention_days", 7, 35)
    if r.get("high_availability") and tier == "Burstable":
        r.add("high_availability", True, f"only with {r.ref('tier')} GeneralPurpose or MemoryOptimized (not "
                                         f"Burstable)")
    # what the server's region offers (PostgreSQL flexible server's regions table, data/azure_service_regions.json):
    # Azure refuses the server's create otherwise, after the cluster and its network
    # Off only for a server that exists: one created while the table listed them keeps its standby and its backup
    # redundancy (which cannot change in place: turning it off is a new, empty server), and a refusal would stop its
    # stack for good
    location = known(r.args.get("cluster"), "location")
    if r.flag("check_region_offers") is not False and isinstance(location, str):
        kept = f"a server created with it there already keeps it: {r.ref('check_region_offers')} false"
        if r.get("high_availability") is True and postgres_refuses(location, "zone_redundant_ha"):
            r.add("high_availability", True, f"false in the cluster's location {location!r}: Azure offers no "
                                             "zone-redundant high availability for PostgreSQL flexible server there "
                                             f"(Microsoft's regions table); {kept}")
        if r.get("geo_redundant_backup") is True and postgres_refuses(location, "geo_redundant_backup"):
            r.add("geo_redundant_backup", True, f"false in the cluster's location {location!r}: Azure offers no "
                                                "geo-redundant backup for PostgreSQL flexible server there "
                                                f"(Microsoft's regions table); {kept}")
    r.text("database", names.postgres_database)
    login = r.text("admin_login", pattern(r"[a-z_][a-z0-9_]{0,62}", "a lowercase PostgreSQL role name"))
    reserved = postgres_options.admin_login_problem(login) if login else None
    if reserved:
        r.add("admin_login", login, reserved)
    elif login == APP_LOGIN:
        r.add("admin_login", login, f"a login other than {APP_LOGIN} (the application's own role)")
    for key in ("admin_password_secret", "database_url_secret"):
        r.secret_name(key)
    group = r.section("entra_admin_group")
    group.text("object_id", GUID)
    return r.problems
