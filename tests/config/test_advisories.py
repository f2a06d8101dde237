"""Advisories (config/advisories.py): warnings that never fail a plan, and the plan carrying them."""
from __future__ import annotations

import pytest

from llmplatform.defaults import DEFAULTS as D

from config import aks_versions
from config.loader import parse_config

from tests.config.test_loader import stack_raw
from tests.conftest import MIRROR, PROJECT_DIR


def test_advisories_warn_without_failing():
    from config.advisories import advisories
    retired = parse_config(stack_raw("dev", {"gpu": {"vmSize": "Standard_NC6s_v3"}}), "p", "dev")
    assert any("NCv3 is being retired" in a for a in advisories(retired))
    prod = parse_config(stack_raw("prod"), "p", "prod")
    assert not any("apiAccess.mode is 'public'" in a for a in advisories(prod))  # prod uses authorized IP ranges
    tls = parse_config(stack_raw("prod", {"gateway": {"tls": {"mode": "letsencrypt", "hostname": "llm.example.com",
                                                              "email": "ops@example.com"}}}), "p", "prod")
    # left: the A100 pool's local disk is too small for its OS disk (tests/components/test_os_disks.py), no group is named
    # for Managed Grafana or the cluster's admins (the stack file cannot know the deployer's Entra groups), nor
    # Open-WebUI's first admin
    # (nor the operator's address), and the GPU quota to check (below)
    notes = advisories(tls, today=aks_versions.calendar_date())  # no calendar age warning
    assert [a for a in notes if not a.startswith(("security.ephemeralOsDisk: gpu ",
                                                  "observability.managedGrafana: no group",
                                                  "cluster.adminGroupObjectIds is empty in prod",
                                                  "webui.adminEmail is unset", "GPU quota for ",
                                                  "example values to replace",
                                                  "observability.alertReceiver is unset",
                                                  "postgres.highAvailability in westeurope"))] == []
    spot = parse_config(stack_raw("prod", {"cluster": {"workloadPool": {"priority": "spot"}}}), "p", "prod")
    assert any(a.startswith("cluster.workloadPool.priority is 'spot' in prod") for a in advisories(spot))
    assert not any("workloadPool.priority" in a for a in advisories(parse_config(stack_raw("dev"), "p", "dev")))
    # publishing llm-d externally without deploying it publishes nothing (the global stack then misses llmdPort)
    half = parse_config(stack_raw("prod-westeurope", {"llmd": {"exposeExternally": True}}), "p", "prod-westeurope")
    assert any("llmd.exposeExternally is true but llmd.enabled is false" in a for a in advisories(half))
    both = parse_config(stack_raw("prod-westeurope", {"llmd": {"enabled": True, "exposeExternally": True}}), "p",
                        "prod-westeurope")
    assert not any("llmd.exposeExternally" in a for a in advisories(both))
    # any other llm-d setting given with llm-d off is read by nothing: said, naming the keys as the stack file does
    unused = parse_config(stack_raw("dev", {"llmd": {"hfTokenSecret": "hf-token", "maxModelLen": 8192}}), "p", "dev")
    [line] = [a for a in advisories(unused) if "llmd.enabled is false" in a]
    assert line.startswith("llmd.hfTokenSecret, llmd.maxModelLen set but llmd.enabled is false"), line
    assert not any("llmd.enabled is false" in a for a in advisories(parse_config(stack_raw("dev"), "p", "dev")))
    on = parse_config(stack_raw("llmd", {"llmd": {"hfTokenSecret": "hf-token"}}), "p", "llmd")
    assert not any("llmd.enabled is false" in a for a in advisories(on))
    # prod with no admin group: only the deployer reaches the cluster (local accounts off)
    alone = "cluster.adminGroupObjectIds is empty in prod"
    assert any(a.startswith(alone) for a in advisories(parse_config(stack_raw("prod"), "p", "prod")))
    group = {"cluster": {"adminGroupObjectIds": ["00000000-0000-0000-0000-00000000000a"]}}
    assert not any(a.startswith(alone) for a in advisories(parse_config(stack_raw("prod", group), "p", "prod")))
    assert not any(a.startswith(alone) for a in advisories(parse_config(stack_raw("dev"), "p", "dev")))
    # PostgreSQL's only user is the UI: prod's server settings with the UI off are read by nothing
    no_ui = parse_config(stack_raw("prod", {"webui": {"enabled": False}}), "p", "prod")
    [line] = [a for a in advisories(no_ui) if "webui.enabled is false" in a]
    assert line.startswith("postgres.") and "postgres.highAvailability" in line and "no PostgreSQL server" in line
    assert not any("webui.enabled is false" in a for a in advisories(parse_config(stack_raw("prod"), "p", "prod")))
    # doing what it says (the postgres section removed) loads: prod's database rules hold no server to them
    removed = {k: v for k, v in stack_raw("prod", {"webui": {"enabled": False}}).items() if k != "postgres"}
    assert not any("webui.enabled is false" in a for a in advisories(parse_config(removed, "p", "prod")))


def test_a_region_behind_the_edge_that_scales_to_zero_is_warned():
    """Front Door probes each region's model list through its gate: at zero replicas the probe fails and the region
    gets no request that would wake it."""
    from config.advisories import advisories
    region = "prod-westeurope"
    def cold_notes(overrides):  # a dev region goes by another name than prod-<region>, which is prod by name
        named = region if overrides.get("environment", "prod") == "prod" else "dev-westeurope"
        return [a for a in advisories(parse_config(stack_raw(region, overrides), P, named)) if "is 0 " in a]
    assert cold_notes({}) == []
    # prod refuses scaleToZero outright (a rule of its own); a dev region behind the edge may take it
    zero = cold_notes({"environment": "dev", "autoscaling": {"minReplicas": 0, "scaleToZero": True}})
    assert len(zero) == 1 and zero[0].startswith("autoscaling.minReplicas is 0 behind the global endpoint"), zero
    llmd = cold_notes({"llmd": {"enabled": True, "exposeExternally": True, "minReplicas": 0}})
    assert len(llmd) == 1 and llmd[0].startswith("llmd.minReplicas is 0 while llmd.exposeExternally"), llmd
    assert cold_notes({"llmd": {"enabled": True, "exposeExternally": True, "minReplicas": 1}}) == []
    # a stack not behind the edge scales to zero unwarned
    dev = [a for a in advisories(parse_config(stack_raw("dev", {"autoscaling": {"minReplicas": 0,
                                                                                "scaleToZero": True}}), P, "dev"))]
    assert not any("is 0 " in a for a in dev)


def test_plan_carries_the_programs_warnings(dev):
    assert any("the external gateway serves plain HTTP" in w for w in dev.warnings)


P = "aks-llm-platform"


def test_many_gpus_advisory_names_the_count():
    from config.advisories import advisories
    cfg = parse_config({"gpu": {"vmSize": "Standard_ND96isr_H100_v5", "maxCount": 100}}, "p", "s")
    assert any("800 H100 GPUs" in note for note in advisories(cfg))


def test_prod_without_observability_is_advised():
    from config.advisories import advisories
    from offline.stackfile import read_stack_file
    raw = read_stack_file(PROJECT_DIR / "Pulumi.prod.yaml", P)
    raw["observability"] = {"enabled": False}
    raw["autoscaling"] = {"mode": "cpu"}
    raw["security"] = {"defender": False, "diagnostics": False}  # both report to Log Analytics
    notes = advisories(parse_config(raw, P, "prod"))
    assert any("observability is off in prod" in note and "no alerts" in note for note in notes)


def _quota(stack: str, overrides: dict | None = None) -> list[str]:
    from config.advisories import advisories
    return [a for a in advisories(parse_config(stack_raw(stack, overrides), P, stack)) if a.startswith("GPU quota")]


def test_gpu_quota_advisory_names_the_quota_and_the_vcpus_each_pool_needs():
    # dev: a spot T4 pool of 1 draws on the regional spot quota, which the spot workload pool (3 x D4ads_v5) shares
    [dev] = _quota("dev")
    assert "spot: 4 vCPUs (gpu.maxCount 1 x 4) of 'Total Regional Low-priority vCPUs'" in dev
    assert "(the spot CPU nodes take 12 more)" in dev and "'Standard NCASv3_T4 Family'" in dev
    assert "`az vm list-usage --location westeurope -o table`" in dev
    # prod: spot A100s plus the on-demand fallback pool, which needs the family quota and the regional total
    [prod] = _quota("prod")
    assert "spot: 96 vCPUs (gpu.maxCount 4 x 24)" in prod
    assert "on demand: 48 vCPUs (gpu.fallback.maxCount 2 x 24) of the family quota 'StandardNCADSA100v4Family'" in prod
    assert "and of 'Total Regional vCPUs', none more for an upgrade" in prod and "(the regular CPU nodes take" in prod
    # regular priority: no spot quota at all, the region's own location in the command
    [regular] = _quota("dev", {"location": "swedencentral", "gpu": {"priority": "regular", "maxCount": 3,
                                                                    "vmSize": "Standard_NC40ads_H100_v5"}})
    assert "on demand: 120 vCPUs (gpu.maxCount 3 x 40) of the family quota 'StandardNCadsH100v5Family'" in regular
    assert "Low-priority" not in regular and "--location swedencentral" in regular
    assert _quota("dev", {"gpu": {"enabled": False}}) == []


def test_gpu_quota_advisory_counts_an_upgrades_surge_nodes():
    """AKS checks the quota for an upgrade's surge nodes before it starts (MicrosoftDocs/azure-aks-docs
    upgrade-options.md, "Quota: Confirms enough quota for surge nodes"): a regular pool adds maxSurge nodes (10% of its
    nodes rounded up unless set); a spot pool none; the GPU fallback, upgraded in place, none."""
    [prod] = _quota("prod")
    assert "spot quota every family draws on, none more for an upgrade (AKS upgrades spot pools without surge" in prod
    assert "none more for an upgrade (the fallback pool is upgraded in place, one node at a time" in prod
    # 5 x D4ds_v5 + 10 x D8ds_v5 at maxCount, and one surge node each (10% of 5 and of 10, rounded up)
    assert "(the regular CPU nodes take 112 more, 12 of them for an upgrade's surge nodes)" in prod
    # 25 workload nodes surge 3: 5 x 4 + 4 + 25 x 8 + 3 x 8
    [big] = _quota("prod", {"cluster": {"workloadPool": {"maxCount": 25}}})
    assert "(the regular CPU nodes take 248 more, 28 of them for an upgrade's surge nodes)" in big
    [regular] = _quota("dev", {"gpu": {"priority": "regular", "maxCount": 3}})
    assert "none more for an upgrade (the GPU pool is upgraded in place" in regular
    # a surge given to the fallback (2 A100 nodes of 24 vCPUs at maxCount): 1 node, or 100% of them
    [one] = _quota("prod", {"gpu": {"upgradeMaxSurge": "1"}})
    assert "of 'Total Regional vCPUs', 24 more for an upgrade's surge nodes (gpu.upgradeMaxSurge 1)" in one
    [every] = _quota("prod", {"gpu": {"upgradeMaxSurge": "100%"}})
    assert "48 more for an upgrade's surge nodes (gpu.upgradeMaxSurge 100%)" in every


def test_a_gpu_pool_is_told_to_check_its_size_is_offered_in_each_zone_or_in_the_region():
    """Prod's GPU pools take the cluster's zones; AKS refuses a pool in a zone where the subscription is not offered
    the size, which only `az vm list-skus --zone` tells. gpu.regional puts them in no zone: then the region must
    offer the size at all (a T4 in brazilsoutheast planned without a word), which no vendored source tells
    (docs/decisions.md), so the advisory names the command."""
    [prod] = _quota("prod")
    assert ("Standard_NC24ads_A100_v4 is offered to the subscription in zones 1, 2, 3 (`az vm list-skus --location "
            "westeurope --size Standard_NC24ads_A100_v4 --zone -o table`") in prod
    [regional] = _quota("prod", {"gpu": {"regional": True}})
    assert "--zone" not in regional and ("Standard_NC24ads_A100_v4 is offered to the subscription in westeurope at "
                                         "all (`az vm list-skus --location westeurope --size "
                                         "Standard_NC24ads_A100_v4 -o table`") in regional
    [brazil] = _quota("dev", {"location": "brazilsoutheast"})  # no zones there: the region's own offer
    assert ("Standard_NC4as_T4_v3 is offered to the subscription in brazilsoutheast at all (`az vm list-skus "
            "--location brazilsoutheast --size Standard_NC4as_T4_v3 -o table`: no row, or a "
            "NotAvailableForSubscription restriction, and AKS refuses the pool") in brazil


@pytest.mark.parametrize("gpu, zones, regional", [({}, None, False), ({"zones": []}, None, False),
                                                  ({"zones": ["2"]}, ["2"], False), ({"regional": True}, None, True)])
def test_gpu_zones_empty_take_the_clusters_and_regional_is_its_own_key(gpu, zones, regional):
    """`gpu.zones: []` keeps meaning the cluster's zones (as it always did); a regional pool is `gpu.regional`."""
    from config.inputs import gpu_pool_args
    args = gpu_pool_args(parse_config(stack_raw("prod", {"gpu": gpu}), P, "prod"), {})  # type: ignore[arg-type]
    assert (args.get("zones"), args.get("regional")) == (zones, regional)


def test_every_catalog_gpu_size_has_its_quota_family():
    """One family per size the stack can pick (gpu.vmSize is a catalog size), none for a size it cannot."""
    from config.catalogs import _load, gpu_quota
    from llmplatform.gpu_skus import known_gpu_sizes
    assert sorted(_load("gpu_quota_families.json")["families"]) == sorted(known_gpu_sizes())
    assert gpu_quota("Standard_NC6s_v3").family == "standardNCSv3Family" and gpu_quota("Standard_NC4") is None


def test_a_public_open_webui_says_who_can_get_in():
    """Open-WebUI 0.11.0 admits the first account whatever ENABLE_SIGNUP says and makes it admin (routers/auths.py
    signup, signup_handler); open sign-up lets anyone register; WEBUI_AUTH false signs everyone in as admin, and a
    trusted e-mail header signs in whoever a client's own header names."""
    from config.advisories import advisories

    def notes(stack: str, webui: dict, gateway: dict | None = None) -> list[str]:
        raw = stack_raw(stack, {"webui": webui, **({"gateway": gateway} if gateway else {})})
        return [a for a in advisories(parse_config(raw, P, stack)) if a.startswith("webui.")]
    assert [n.split(" is ")[0] for n in notes("dev", {})] == ["webui.adminEmail"]  # dev's gateway is external
    assert notes("dev", {"adminEmail": "ops@example.com"}) == []
    assert notes("dev", {"enableSignup": True}, {"mode": "internal"}) == []  # reached from the VNet only
    assert notes("dev", {"enableSignup": True}, {"mode": "none"}) == []
    pending, = notes("dev", {"adminEmail": "ops@example.com", "enableSignup": True})
    assert pending.startswith("webui.enableSignup is true and the UI is public") and "'pending'" in pending
    user, = notes("prod", {"adminEmail": "ops@example.com", "enableSignup": True, "defaultUserRole": "user"})
    assert "chats with the models at once" in user
    auth_off, header = notes("dev", {"adminEmail": "ops@example.com", "extraEnv": {
        "WEBUI_AUTH": False, "WEBUI_AUTH_TRUSTED_EMAIL_HEADER": "X-Email"}})
    assert auth_off.startswith("webui.extraEnv.WEBUI_AUTH turns") and "anyone can sign in as anyone" in header
    assert notes("dev", {"adminEmail": "ops@example.com", "extraEnv": {"WEBUI_AUTH": "True"}}) == []
    assert notes("dev", {"enabled": False, "enableSignup": True}) == []


def test_a_mirror_registry_is_a_reminder_to_fill_it_and_to_attach_it():
    from config.advisories import advisories
    attached = parse_config(stack_raw("dev", {"cluster": MIRROR}), "p", "dev")
    notes = [a for a in advisories(attached) if "imageRegistry" in a]
    assert len(notes) == 1 and "make images" in notes[0]
    bare = parse_config(stack_raw("dev", {"cluster": {"imageRegistry": "myacr.azurecr.io"}}), "p", "dev")
    assert any(a.startswith("cluster.imageRegistryId is unset") for a in advisories(bare))
    other = parse_config(stack_raw("dev", {"cluster": {"imageRegistry": "registry.example.com"}}), "p", "dev")
    assert not any("imageRegistryId" in a for a in advisories(other))  # not an ACR: nothing to attach
    assert not any("imageRegistry" in a for a in advisories(parse_config(stack_raw("dev"), "p", "dev")))


def test_the_stack_files_replace_values_are_named_until_replaced():
    """Prod ships documentation values to replace (TEST-NET ranges, example.com names): a deploy with them has no
    reachable API server, a certificate never issued and an admin nobody reads mail for. The plan names each while
    it is there, and nothing once real values stand in their place."""
    from config.advisories import advisories
    notes = [n for n in advisories(parse_config(stack_raw("prod"), P, "prod")) if n.startswith("example values")]
    assert len(notes) == 1 and all(v in notes[0] for v in (
        "authorizedIpRanges 203.0.113.0/24", "gateway.tls.hostname llm.example.com", "webui.adminEmail",
        "observability.alertEmails platform-oncall@example.com"))
    cfg = parse_config(stack_raw("prod", {
        "cluster": {"apiAccess": {"authorizedIpRanges": ["20.30.40.0/24"]}},
        "gateway": {"tls": {"hostname": "llm.contoso.io", "email": "ops@contoso.io"}},
        "webui": {"adminEmail": "admin@contoso.io"}, "observability": {"alertEmails": ["oncall@contoso.io"]}}), P, "prod")
    assert not [n for n in advisories(cfg) if n.startswith("example values")]


def test_gpu_replicas_the_pools_cannot_hold_name_the_keys_to_change():
    """dev in GPU mode autoscales to 2 replicas on a pool of one T4 node: the warning names the key that asks for the
    replicas and the pool's, with their values, and what to change (it named neither autoscaling.maxReplicas nor the
    pool's size, so `--set inference.accelerator=gpu` left a reader to guess where the 2 came from)."""
    from config.advisories import advisories
    gpu = parse_config(stack_raw("dev", {"inference": {"accelerator": "gpu"}}), "p", "dev")
    assert [a for a in advisories(gpu) if "GPU replicas" in a] == [
        "up to 2 GPU replicas (autoscaling.maxReplicas) of 1 GPU(s) (inference.gpusPerReplica) but the GPU pools "
        "hold 1 at most (gpu.maxCount 1 x Standard_NC4as_T4_v3, 1 GPU(s) each): the rest stay Pending; raise "
        "gpu.maxCount or lower autoscaling.maxReplicas"]
    fixed = parse_config(stack_raw("dev", {"inference": {"accelerator": "gpu"}, "gpu": {"maxCount": 2}}), "p", "dev")
    assert not [a for a in advisories(fixed) if "GPU replicas" in a]  # doing what it says silences it
    fixed = parse_config(stack_raw("dev", {"inference": {"accelerator": "gpu"}, "autoscaling": {"maxReplicas": 1}}),
                         "p", "dev")
    assert not [a for a in advisories(fixed) if "GPU replicas" in a]
    fixed_replicas = parse_config(stack_raw("dev", {"inference": {"accelerator": "gpu", "replicas": 3},
                                                    "autoscaling": {"mode": "none", "scaleToZero": False,
                                                                    "minReplicas": 1}}), "p", "dev")
    assert [a for a in advisories(fixed_replicas) if "GPU replicas" in a][0].endswith("lower inference.replicas")


DEFAULTS_ONLY = "sets no config of its own: every default applies"


def test_a_stack_file_that_sets_nothing_is_told_so_once(tmp_path):
    """`pulumi stack init` alone (an empty stack file) plans and deploys every default: the plan says so, naming
    what the stack gets; a file setting only default values is the same stack; the shipped stack files set their own."""
    from config.advisories import advisories
    from offline import runner
    from tests.conftest import planned
    empty = tmp_path / "Pulumi.fresh.yaml"
    empty.write_text("")
    told = [w for w in runner.run("dev", stack_file=empty).warnings if DEFAULTS_ONLY in w]
    assert len(told) == 1 and "environment dev, prefix llmp, location westeurope" in told[0]
    assert [w for w in advisories(parse_config({"environment": "dev", "gpu": {}}, "p", "s")) if DEFAULTS_ONLY in w]
    assert not [w for w in advisories(parse_config({"prefix": "abc"}, "p", "s")) if DEFAULTS_ONLY in w]
    for name in ("dev", "llmd", "prod"):
        assert not [w for w in planned(name).warnings if DEFAULTS_ONLY in w], name


def _drains(stack: str, overrides: dict | None = None) -> list[str]:
    from config.advisories import advisories
    return [a for a in advisories(parse_config(stack_raw(stack, overrides), P, stack))
            if a.startswith("gpu.upgradeMaxSurge is unset")]


def test_an_in_place_pool_whose_nodes_hold_two_replicas_of_a_server_is_told_its_drain_can_stall():
    """A drain lets one replica of a server go (its budget's maxUnavailable 1) and the next only once the first is
    Ready elsewhere: two replicas on one node of a pool upgraded in place need a free GPU on another node."""
    two_gpus = {"vmSize": "Standard_NC48ads_A100_v4"}  # 2 A100s a node: two 1-GPU Ollama replicas fit on one
    [fallback] = _drains("prod", {"gpu": two_gpus})
    assert ("the on-demand fallback (gpu.fallback) is upgraded in place" in fallback
            and "holds up to 2 Ollama replicas of 1 GPU(s) (inference.gpusPerReplica)" in fallback)
    assert "the pool's 77-minute drain timeout fails the upgrade" in fallback  # the stack's (its UI's six pods)
    [vllm] = _drains("llmd", {"gpu": {**two_gpus, "priority": "regular"}, "llmd": {"replicas": 2}})
    assert "the gpu.priority regular pool" in vllm and "2 vLLM replicas of 1 GPU(s) (llmd.tensorParallelSize)" in vllm
    # a surge node first, one replica a node, a spot pool (no drain), one replica at most: nothing to say
    assert _drains("prod", {"gpu": {**two_gpus, "upgradeMaxSurge": "1"}}) == []
    assert _drains("prod", {"gpu": {**two_gpus}, "inference": {"gpusPerReplica": 2}}) == []
    assert _drains("prod", {"gpu": {**two_gpus, "fallback": {"enabled": False}}}) == []
    one = {"gpu": {**two_gpus, "priority": "regular"}, "inference": {"accelerator": "gpu"}}
    assert _drains("dev", one)  # dev's autoscaler may run two replicas
    assert _drains("dev", {**one, "autoscaling": {"maxReplicas": 1}}) == []
    assert [_drains(s) for s in ("dev", "prod", "llmd")] == [[], [], []]


def test_a_hundred_example_addresses_are_one_short_mention_in_the_plan(tmp_path, capsys):
    """A platform team's stack file copied from prod with its on-call list grown (a hundred example.com addresses)
    still gets the REPLACE warning, as one key with three of its values and how many more, not a hundred entries."""
    from offline import plan as plan_cli
    emails = [f"--set=observability.alertEmails[{i}]=oncall-{i:03d}@example.com" for i in range(100)]
    assert plan_cli.main(["--stack", "prod", "--out", str(tmp_path), *emails]) == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith("warning: example values to replace")]
    assert ("observability.alertEmails oncall-000@example.com, oncall-001@example.com, oncall-002@example.com and 97 "
            "more") in line and "oncall-003" not in line and len(line) < 600, line


@pytest.mark.parametrize("extra, secret, warned", [
    ({"DATABASE_SCHEMA": "webui"}, {}, True),
    ({"DATABASE_SCHEMA": "webui", "PGOPTIONS": "-c statement_timeout=5000"}, {}, True),
    ({"DATABASE_SCHEMA": "webui", "PGOPTIONS": "-c search_path=webui,public"}, {}, False),
    ({"DATABASE_SCHEMA": "webui"}, {"PGOPTIONS": "webui-pgoptions"}, False),  # a secret's value: not seen
    ({"DATABASE_SCHEMA": "public"}, {}, False),
    ({}, {}, False),
    # the spellings PostgreSQL takes (tests/components/test_postgres_bootstrap.py reads each back from a server)
    ({"DATABASE_SCHEMA": "webui", "PGOPTIONS": "-csearch_path=webui,public"}, {}, False),
    ({"DATABASE_SCHEMA": "webui", "PGOPTIONS": "--search_path=webui,public"}, {}, False),
    ({"DATABASE_SCHEMA": "webui", "PGOPTIONS": "--search-path=webui"}, {}, False),
    ({"DATABASE_SCHEMA": "webui", "PGOPTIONS": "-c SEARCH_PATH=WebUI,public"}, {}, False),  # unquoted: folded
    ({"DATABASE_SCHEMA": "webui", "PGOPTIONS": '-c search_path="$user",webui,public'}, {}, False),
    # a search_path that does not put the schema first, or names it in another case than SQLAlchemy's quoting
    ({"DATABASE_SCHEMA": "webui", "PGOPTIONS": "-c search_path=public,webui"}, {}, "first schema is 'public'"),
    ({"DATABASE_SCHEMA": "webui", "PGOPTIONS": "-c search_path=webui -c search_path=public"}, {},
     "first schema is 'public'"),  # the later one wins
    ({"DATABASE_SCHEMA": "webui", "PGOPTIONS": "-c search_path="}, {}, "first schema is 'none'"),
    ({"DATABASE_SCHEMA": "webui", "PGOPTIONS": "-c statement_timeout=5000 -c my.search_path=webui"}, {},
     "no search_path is given"),
    ({"DATABASE_SCHEMA": "WebUI", "PGOPTIONS": "-c search_path=WebUI,public"}, {}, "first schema is 'webui'"),
    ({"DATABASE_SCHEMA": "WebUI", "PGOPTIONS": '-c search_path="WebUI",public'}, {}, False),
    ({"DATABASE_SCHEMA": "public", "PGOPTIONS": "-c search_path=webui,public"}, {}, "first schema is 'webui'"),
])
def test_a_schema_without_a_search_path_is_warned(extra, secret, warned):
    """Open-WebUI 0.11.0's migrations write into the search_path's first schema, its queries into DATABASE_SCHEMA:
    the schema alone, or a search_path that names another first, leaves the UI querying tables the migration Job
    created elsewhere."""
    from config.advisories import advisories
    cfg = parse_config(stack_raw("dev", {"webui": {"extraEnv": extra, "secretEnv": secret}}), "p", "dev")
    notes = [a for a in advisories(cfg) if a.startswith("webui.extraEnv.DATABASE_SCHEMA")]
    assert bool(notes) == bool(warned), notes
    if warned:
        schema = extra["DATABASE_SCHEMA"]
        assert f"{schema!r} but {'no search_path is given' if warned is True else ''}" in notes[0], notes[0]
        if warned is not True:
            assert warned in notes[0], notes[0]
        named = schema if schema.islower() else f'"{schema}"'  # quoted as SQLAlchemy quotes it
        assert f"webui.extraEnv.PGOPTIONS '-c search_path={named},public'" in notes[0], notes[0]


def test_gpu_replicas_count_llm_ds_gpus_on_the_same_pools():
    """llm-d on prod (the docs' `llmd.enabled`, an A100 pool) runs vLLM on the GPU pools Ollama scales on: Ollama's
    maximum of 6 and vLLM's one replica want 7 GPUs of the 6 nodes (4 spot + 2 fallback) and no warning said so, as
    it counted Ollama's replicas alone; 5 beside vLLM's one fit. With llm-d's autoscaling its maximum counts."""
    from config.advisories import advisories

    def warned(overrides: dict) -> list[str]:
        return [a for a in advisories(parse_config(stack_raw("prod", overrides), "p", "prod")) if "GPU replicas" in a]
    assert warned({"llmd": {"enabled": True}, "autoscaling": {"maxReplicas": 6}}) == [
        "up to 6 GPU replicas (autoscaling.maxReplicas) of 1 GPU(s) (inference.gpusPerReplica) but the GPU pools "
        "hold 5 at most (gpu.maxCount 4 + gpu.fallback.maxCount 2 x Standard_NC24ads_A100_v4, 1 GPU(s) each, less "
        "llm-d's 1 GPU(s) at its most: llmd.replicas x llmd.tensorParallelSize): the rest stay Pending; raise "
        "gpu.maxCount or lower autoscaling.maxReplicas or llmd.replicas"]
    assert warned({"llmd": {"enabled": True}, "autoscaling": {"maxReplicas": 5}}) == []
    assert warned({"autoscaling": {"maxReplicas": 6}}) == []  # without llm-d the six nodes hold six
    scaled = warned({"llmd": {"enabled": True, "autoscaling": True, "maxReplicas": 2},
                     "autoscaling": {"maxReplicas": 5}})
    assert len(scaled) == 1 and "less llm-d's 2 GPU(s) at its most: llmd.maxReplicas x llmd" in scaled[0]


@pytest.mark.parametrize("stack, autoscaling, inference, named", [
    # prod scales on requests on a GPU: a GPU-memory target kept from the gpu-memory mode, and a CPU target, are read
    # by nothing (the ScaledObject has one trigger there)
    ("prod", {"gpuMemoryTargetPercent": 60}, {}, ["gpuMemoryTargetPercent"]),
    ("prod", {"cpuTargetPercent": 50, "gpuMemoryTargetPercent": 60}, {}, ["gpuMemoryTargetPercent", "cpuTargetPercent"]),
    # the HPA modes do not read the requests in flight; cpu mode no GPU memory
    ("prod", {"mode": "gpu-memory", "targetInFlight": 2}, {}, ["targetInFlight"]),
    # (dev's interceptorReplicas 1 with them: no KEDA HTTP interceptor runs outside requests mode)
    ("dev", {"mode": "cpu", "minReplicas": 1, "scaleToZero": False, "gpuMemoryTargetPercent": 60,
             "targetInFlight": 2}, {}, ["targetInFlight", "gpuMemoryTargetPercent", "interceptorReplicas"]),
    # `none` makes no autoscaler: its bounds are not read either (dev's maxReplicas 2; inference.replicas runs)
    ("dev", {"mode": "none", "minReplicas": 1, "scaleToZero": False, "cpuTargetPercent": 50}, {},
     ["cpuTargetPercent", "maxReplicas", "interceptorReplicas"]),
    ("prod", {"mode": "none", "scaleDownStabilizationSeconds": 900}, {},
     ["targetInFlight", "minReplicas", "maxReplicas", "scaleDownStabilizationSeconds"]),
    ("prod", {"mode": "cpu", "targetInFlight": D["ModelAutoscaler"]["target_in_flight"], "interceptorReplicas": 4},
     {}, ["interceptorReplicas"]),
])
def test_an_autoscaling_target_the_mode_never_reads_is_warned(stack, autoscaling, inference, named):
    from config.advisories import advisories
    cfg = parse_config(stack_raw(stack, {"autoscaling": autoscaling, "inference": inference}), "p", stack)
    [line] = [a for a in advisories(cfg) if "which does not read" in a]
    assert line.startswith(", ".join(f"autoscaling.{k}" for k in named) + " set but autoscaling.mode is "), line
    assert f"autoscaling.mode is {cfg.autoscaling.mode!r}" in line, line


@pytest.mark.parametrize("stack, autoscaling, other", [
    ("prod", {"targetInFlight": 2}, {}),  # requests mode reads it
    # (prod's targetInFlight 8 back at the default: gpu-memory would not read it)
    ("prod", {"mode": "gpu-memory", "gpuMemoryTargetPercent": 60, "cpuTargetPercent": 50,
              "targetInFlight": D["ModelAutoscaler"]["target_in_flight"]}, {}),
    ("dev", {"cpuTargetPercent": 50}, {}),  # dev's Ollama is on a CPU: requests mode adds a CPU trigger there
    ("dev", {"mode": "cpu", "minReplicas": 1, "scaleToZero": False, "cpuTargetPercent": 50,
             "interceptorReplicas": D["Observability"]["interceptor_replicas"]}, {}),
    # the bounds and stabilization are read by every mode that makes an autoscaler
    ("prod", {"mode": "cpu", "targetInFlight": D["ModelAutoscaler"]["target_in_flight"],
              "scaleDownStabilizationSeconds": 900}, {}),
    # llm-d's autoscaling brings KEDA, and the interceptor with it, whatever Ollama's mode
    ("prod", {"mode": "cpu", "targetInFlight": D["ModelAutoscaler"]["target_in_flight"], "interceptorReplicas": 4},
     {"llmd": {"enabled": True, "autoscaling": True}}),
])
def test_an_autoscaling_target_the_mode_reads_is_not_warned(stack, autoscaling, other):
    from config.advisories import advisories
    cfg = parse_config(stack_raw(stack, {"autoscaling": autoscaling, **other}), "p", stack)
    assert not any("which does not read" in a for a in advisories(cfg))
    # every stack file as committed sets none it does not read
    for name in ("dev", "prod", "llmd", "prod-westeurope", "prod-swedencentral"):
        assert not any("which does not read" in a for a in advisories(parse_config(stack_raw(name), "p", name)))


CONTEXT_UNSET = "inference.contextLength is unset with Ollama on"
UNSET = {"contextLength": None}


def _context_warnings(stack: str, overrides: dict | None = None) -> list[str]:
    from config.advisories import advisories
    return [a for a in advisories(parse_config(stack_raw(stack, overrides), P, stack)) if a.startswith(CONTEXT_UNSET)]


def test_a_large_gpu_without_a_context_length_is_told_its_models_may_not_stay_loaded():
    """prod before 0.34.0 (no contextLength on an A100): Ollama's default context there, 262144 tokens, times
    numParallel made llama3.1:8b alone ~69 GiB, and its two chat models unloaded each other on every switch. The
    warning names the GPU, the keys and values behind the cache, each model's load and the ones evicted."""
    [told] = _context_warnings("prod", {"inference": UNSET})
    assert told.startswith(f"{CONTEXT_UNSET} 1 x A100 (80 GiB, gpu.vmSize Standard_NC24ads_A100_v4): Ollama then "
                           "gives each request 262,144 tokens"), told
    assert ("x inference.numParallel 4" in told and "llama3.1:8b ~68.6 GiB, mistral:7b ~21.8 GiB" in told
            and "llama3.1:8b, mistral:7b may not stay loaded" in told and "maxLoadedModels 3" in told
            and "set inference.contextLength to 65536 or less" in told), told
    assert _context_warnings("prod") == []  # the shipped file sets it
    # one loaded at a time by choice, one generating model, CPU: nothing to say
    assert _context_warnings("prod", {"inference": {**UNSET, "maxLoadedModels": 1}}) == []
    assert _context_warnings("prod", {"inference": UNSET,
                                      "modelStore": {"models": ["llama3.1:8b", "nomic-embed-text"]}}) == []
    assert _context_warnings("dev", {"modelStore": {"models": ["tinyllama", "llama3.2:1b"]}}) == []


def test_the_context_warning_sums_a_replicas_gpus_as_ollama_does():
    """Ollama picks its default context from the memory of every GPU it sees: one T4 (15 GiB) is its 4096 tier, a
    replica of the four T4s of an NC64as_T4_v3 (60 GiB) its 262144 one. At numParallel 1 one T4 holds both models
    at 4096 tokens, four of them not at 131072 (llama3.1:8b's trained context)."""
    t4s = {"gpu": {"vmSize": "Standard_NC64as_T4_v3"}, "modelStore": {"models": ["llama3.1:8b", "mistral:7b"]}}
    assert _context_warnings("prod", {**t4s, "inference": {**UNSET, "numParallel": 1}}) == []
    [told] = _context_warnings("prod", {**t4s, "inference": {**UNSET, "gpusPerReplica": 4}})
    assert "4 x T4 (60 GiB, gpu.vmSize Standard_NC64as_T4_v3)" in told and "262,144 tokens" in told, told


@pytest.mark.parametrize("gib, tokens", [(0, 4096), (22.9, 4096), (23, 32768), (46.9, 32768), (47, 262144),
                                         (640, 262144)])
def test_ollamas_default_context_by_the_gpus_memory(gib, tokens):
    from llmplatform.inference_specs import ollama_default_context
    assert ollama_default_context(gib) == tokens


@pytest.mark.parametrize("llmd", [
    {"llmd": {"enabled": True}},  # llm-d without its autoscaling: no KEDA
    {"llmd": {"autoscaling": True}},  # llm-d's autoscaling with llm-d off: no llm-d, no KEDA
])
def test_the_interceptor_is_read_by_llmds_autoscaling_only_with_llmd_on(llmd):
    """KEDA, and its HTTP interceptor, runs in requests mode or for llm-d's autoscaling, which needs llm-d deployed
    (config/inputs.py `observability_args`): with one of the two missing, prod in cpu mode reads no
    interceptorReplicas, and the advisory names it with where the interceptor runs."""
    from config.advisories import advisories
    autoscaling = {"mode": "cpu", "targetInFlight": D["ModelAutoscaler"]["target_in_flight"], "interceptorReplicas": 4}
    cfg = parse_config(stack_raw("prod", {"autoscaling": autoscaling, **llmd}), "p", "prod")
    [line] = [a for a in advisories(cfg) if "which does not read" in a]
    assert line.startswith("autoscaling.interceptorReplicas set but autoscaling.mode is 'cpu', which does not read it"
                           ": it scales on CPU alone"), line
    assert "the KEDA HTTP interceptor (autoscaling.interceptorReplicas) runs in requests mode, or for llm-d's" in line


def test_the_unread_autoscaling_line_names_the_gpu_only_for_a_cpu_target_and_the_interceptor_only_outside_none():
    """The two remarks of the line, each where it explains a key the line names: "on a GPU" for a CPU target in
    requests mode (read on a CPU), the interceptor's modes for interceptorReplicas in a mode that makes an autoscaler
    (in `none` nothing scales at all, which the line says already)."""
    from config.advisories import advisories

    def line(stack: str, autoscaling: dict) -> str:
        cfg = parse_config(stack_raw(stack, {"autoscaling": autoscaling}), "p", stack)
        [found] = [a for a in advisories(cfg) if "which does not read" in a]
        return found
    gpu = " on a GPU (inference.accelerator 'gpu')"
    assert gpu in line("prod", {"cpuTargetPercent": 50})
    assert gpu not in line("prod", {"gpuMemoryTargetPercent": 60})  # prod: requests mode on a GPU
    interceptor = "the KEDA HTTP interceptor (autoscaling.interceptorReplicas)"
    none = line("dev", {"mode": "none", "minReplicas": 1, "scaleToZero": False})
    assert "autoscaling.interceptorReplicas" in none and interceptor not in none, none
    assert interceptor in line("dev", {"mode": "cpu", "minReplicas": 1, "scaleToZero": False})


def test_llmds_expose_externally_given_with_llmd_off_is_told_once_by_its_own_line():
    """llmd.exposeExternally with llm-d off has its own line (the global stack then misses llmdPort); the line of the
    other llm-d settings nothing reads names the rest, not it a second time."""
    from config.advisories import advisories
    half = parse_config(stack_raw("prod-westeurope", {"llmd": {"exposeExternally": True, "maxModelLen": 8192}}), "p",
                        "prod-westeurope")
    told = [a for a in advisories(half) if "llmd.exposeExternally" in a]
    assert len(told) == 1 and told[0].startswith("llmd.exposeExternally is true but llmd.enabled is false"), told
    [unread] = [a for a in advisories(half) if "so nothing reads" in a and a.startswith("llmd.")]
    assert unread.startswith("llmd.maxModelLen set but llmd.enabled is false: no llm-d is deployed, so nothing "
                             "reads it; set llmd.enabled, or remove it"), unread


@pytest.mark.parametrize("embedding", ["embeddinggemma", "qwen3-embedding:0.6b", "all-minilm",
                                       "nomic-embed-text:v1.5"])
def test_a_chat_model_beside_an_embedding_model_of_another_name_or_tag_is_not_warned(embedding):
    """An embedding model runs at its own short trained context with numParallel 1 (Ollama v0.32.15
    server/sched.go 497-503): beside one chat model it stays loaded. Ollama's docs name embeddinggemma,
    qwen3-embedding and all-minilm (docs/capabilities/embeddings.mdx); a tag of nomic-embed-text is still it."""
    models = ["llama3.1:8b", {"name": embedding, "sizeGib": 0.6}]
    assert _context_warnings("prod", {"inference": UNSET, "modelStore": {"models": models}}) == []
    # a second chat model beside them is still warned, the embedding model not named among the generating ones
    [told] = _context_warnings("prod", {"inference": UNSET, "modelStore": {"models": [*models, "mistral:7b"]}})
    assert "at each load (weights, that f16 KV cache and its generation batch) modelStore.models take" in told and \
        ": llama3.1:8b, mistral:7b may not stay loaded" in told, told


def test_llmds_keys_its_switches_leave_unread_are_named_as_the_stack_file_spells_them():
    """The stack hands `llmd.maxReplicas` and the other autoscaling keys to LlmdStack with `llmd.autoscaling` alone
    (config/inputs.py `llmd_args`), the prefill keys with `llmd.prefillDecode` alone: set with their switch off they
    were read by nothing and said by nothing."""
    from config.advisories import advisories
    off = parse_config(stack_raw("llmd", {"llmd": {"autoscaling": False, "maxReplicas": 4, "prefillReplicas": 2}}),
                       "p", "llmd")
    lines = [a for a in advisories(off) if "so nothing reads" in a and a.startswith("llmd.")]
    assert any(a.startswith("llmd.maxReplicas") and "llmd.autoscaling is false" in a for a in lines), lines
    assert any(a.startswith("llmd.prefillReplicas set but llmd.prefillDecode is false") for a in lines), lines
    assert not [a for a in advisories(parse_config(stack_raw("llmd"), "p", "llmd")) if "so nothing reads" in a]
