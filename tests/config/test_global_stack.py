"""The regional and global stacks (config/global_stack.py): what the global stack needs from its regions, collisions
between regional stacks, and the rules each kind of stack gets."""

import copy
import re
import dataclasses
from typing import Any, Optional

import pytest

from config.reader import ConfigError
from config.runtime import checked_regional
from config.loader import parse_config
from config import regions
from offline import plan as plan_cli, policy_check, runner as offline

from tests.conftest import REGIONS, plan_for, variant, PROJECT_DIR
from tests.components.test_gateway import _regional


P = "aks-llm-platform"


def _project_with(tmp_path, files):
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    for stack, raw in files.items():
        import yaml
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": {f"{P}:{k}": v
                                                                                  for k, v in raw.items()}}))
    return tmp_path


def test_a_region_without_the_outputs_the_edge_needs_stops_the_global_plan():
    references = {r: dict(plan_for(r).outputs) for r in REGIONS}
    del references["prod-swedencentral"]["clusterId"]
    with pytest.raises(offline.ProgramError, match="regional stack prod-swedencentral has no output 'clusterId'"):
        offline.run("global", references=references)


def _llmd_published(tmp_path, monkeypatch):
    """The repository's regional stack files with llm-d published (llmd.enabled, llmd.exposeExternally), seen by
    the global stack in place of the repository's own."""
    project = _project_with(tmp_path, {r: {**_regional(r), "llmd": {"enabled": True, "exposeExternally": True}}
                                       for r in REGIONS})
    files = regions.project_stack_files
    monkeypatch.setattr(regions, "project_stack_files", lambda project_dir=None: files(project))


def joined_llmd_region(overrides: Optional[dict[str, Any]] = None) -> Any:
    """The llmd stack as a region (its own location), joined to the edge; what the checks do not need is off, to plan
    less (the UI too, unless `overrides` turn it on)."""
    return plan_for("llmd", {"location": "eastus2", "edge": {"globalStack": "global", "fleet": False,
                                                          "frontDoorId": "0b6a3d6e-2f9c-4c1e-9b7a-5d2e8f1a4c3b"},
                             "gateway": {"tls": {"mode": "letsencrypt", "hostname": "eastus2.llm.example.com",
                                                 "email": "ops@example.com"}},
                             "llmd": {"exposeExternally": True, "autoscaling": False},
                             "observability": {"enabled": False}, "webui": {"enabled": False},
                             "autoscaling": {"mode": "none"}, **(overrides or {})})


def test_llm_d_in_a_joined_region_takes_the_edge_key_set_and_the_edge_serves_it_at_llmd(tmp_path, monkeypatch):
    """A regional stack running llm-d behind the edge (llmd.exposeExternally, joined): its llm-d gate reads the
    edge's key map and makes no key of its own, like the Ollama gate, and it exports the port Front Door forwards
    /llmd to; the global stack routes /llmd only to the regions global.llmdRegions names, on the exported port, and
    a listed region that exports none stops the global plan naming the region and the output."""
    region = joined_llmd_region()
    # its llm-d listener with TLS (GatewayAccess LLMD_TLS_PORT): what Front Door reaches over HTTPS
    assert region.outputs["llmdApiKeySecret"] == "edge-api-key" and region.outputs["llmdPort"] == 8444
    own_key = [r.name for r in variant("llmd").of_type("random:index/randomPassword:RandomPassword")
               if r.name == "llmd-api-key"]  # the llm-d gate's key before joining
    assert own_key and own_key[0] not in {r.name for r in region.of_type("random:index/randomPassword:RandomPassword")}
    llmd_spc = [r for r in region.of_type("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")
                if r.inputs["metadata"] == {"name": "router-secrets", "namespace": region.outputs["llmdNamespace"]}]
    assert llmd_spc and all("objectName: edge-api-key-map" in r.inputs["spec"]["parameters"]["objects"]
                            for r in llmd_spc)
    references = {r: dict(plan_for(r).outputs) for r in REGIONS}
    references["prod-westeurope"]["llmdPort"] = region.outputs["llmdPort"]
    # the stack files publish llm-d (the config check of global.llmdRegions passes); the deployed stacks are faked
    _llmd_published(tmp_path, monkeypatch)
    edge = offline.run("global", {"global": {"llmdRegions": ["prod-westeurope"]}}, references=references)
    llmd = [o for o in edge.of_type("azure-native:cdn:AFDOrigin") if o.inputs["originGroupName"] == "llmd"]
    assert [(o.inputs["originName"], o.inputs["httpsPort"]) for o in llmd] == [("westeurope", 8444)]
    assert edge.outputs["llmdUrl"].endswith("/llmd")
    missing = "regional stack prod-swedencentral has no output 'llmdPort'"
    with pytest.raises(offline.ProgramError, match=missing) as error:
        offline.run("global", {"global": {"llmdRegions": REGIONS}}, references=references)
    # the remedy names what the region lacks (llm-d published externally), not edge.globalStack, which it has
    assert "set llmd.enabled and llmd.exposeExternally" in str(error.value)
    assert "edge.globalStack" not in str(error.value)


def test_a_region_whose_stack_file_publishes_no_llm_d_is_refused_before_any_region_is_planned(tmp_path, capsys):
    """global.llmdRegions naming a region whose stack file leaves llm-d off (or unpublished) is a config error of the
    global stack naming the region, its stack file and the keys to set: before, `make plan STACK=global` planned
    every region and then stopped after 27 registrations on the region's missing llmdPort output."""
    out = tmp_path / "build"
    code = plan_cli.main(["--stack", "global", "--out", str(out), "--set", "global.llmdRegions[0]=prod-westeurope"])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.out + captured.err
    assert "OFFLINE PLAN" not in captured.out and not out.exists()  # no region planned, nothing written
    assert ("global.llmdRegions entry 'prod-westeurope': Pulumi.prod-westeurope.yaml leaves llmd.enabled and "
            "llmd.exposeExternally false, so that region publishes no llm-d and exports no llmdPort for Front Door's "
            "/llmd route; set `aks-llm-platform:llmd: {enabled: true, exposeExternally: true}` there") in captured.err
    # the program itself (`pulumi up`) refuses it before registering anything
    with pytest.raises(offline.ProgramError) as refused:
        offline.run("global", {"global": {"llmdRegions": ["prod-westeurope"]}},
                    references={r: plan_for(r) for r in REGIONS})
    assert refused.value.registered == 0 and "Pulumi.prod-westeurope.yaml leaves llmd.enabled" in str(refused.value)


@pytest.mark.parametrize("llmd, off", [
    ({"enabled": True}, "llmd.exposeExternally"),
    ({"exposeExternally": True}, "llmd.enabled"),
    ({"enabled": "true", "exposeExternally": "false"}, "llmd.exposeExternally"),  # read as that stack reads them
    ({"enabled": True, "exposeExternally": True}, None),
    ({"enabled": "True", "exposeExternally": "TRUE"}, None),
])
def test_global_llmd_regions_are_checked_against_the_regions_llmd_keys(tmp_path, llmd, off):
    _assert_llmd_region_refused(tmp_path, {**_regional("prod-westeurope"), "llmd": llmd}, off)


def _assert_llmd_region_refused(tmp_path, west: dict, off, environments: tuple[str, ...] = ()) -> None:
    """global.llmdRegions [prod-westeurope] checked against a project whose Pulumi.prod-westeurope.yaml holds `west`
    (importing the ESC `environments`): no problem when `off` is None, else one naming the key `off`."""
    import yaml
    project = _project_with(tmp_path, {"prod-westeurope": west, "prod-swedencentral": _regional("prod-swedencentral")})
    if environments:
        path = project / "Pulumi.prod-westeurope.yaml"
        path.write_text(yaml.safe_dump({"environment": list(environments), **yaml.safe_load(path.read_text())}))
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P)
    raw["global"]["llmdRegions"] = ["prod-westeurope"]
    problems = regions.region_file_problems(regions.parse_global(raw, P, "global"), P, "global", project)
    if off is None:
        assert problems == []
    else:
        assert len(problems) == 1 and f"Pulumi.prod-westeurope.yaml leaves {off} false" in problems[0], problems


@pytest.mark.parametrize("llmd, off", [
    (None, None),  # the environment may set both
    ({"enabled": True}, None),  # and exposeExternally
    ({"enabled": True, "exposeExternally": False}, "llmd.exposeExternally"),  # the file's own value wins
    ({"enabled": "false", "exposeExternally": True}, "llmd.enabled"),
])
def test_a_region_importing_esc_environments_is_refused_only_for_what_its_file_itself_sets_false(tmp_path, llmd, off):
    """A regional stack file may import Pulumi ESC environments (`environment:`), whose `pulumiConfig` becomes its
    config under the file's own values: a key the file leaves out may be the environment's, which no file here shows
    (the global stack's `pulumi up` refused a region whose environment published llm-d). Only a value the file itself
    sets false is certain; the run-time check of the region's llmdPort output still names a region that has none."""
    regional = _regional("prod-westeurope") | ({"llmd": llmd} if llmd is not None else {})
    _assert_llmd_region_refused(tmp_path, regional, off, ("platform/llm/llmd-on",))


def test_a_region_whose_deployment_predates_its_tls_stops_the_global_plan_naming_the_output():
    """Front Door's HTTPS origin is the region's gatewayHostname output (the name its certificate is for): a regional
    stack brought up before gateway.tls was set has none, and the global stack says which and what to do."""
    references = {r: dict(plan_for(r).outputs) for r in REGIONS}
    del references["prod-swedencentral"]["gatewayHostname"]
    with pytest.raises(offline.ProgramError, match="regional stack prod-swedencentral has no output "
                                                   "'gatewayHostname'") as error:
        offline.run("global", references=references)
    assert "bring the regional stack up again with its gateway.tls set" in str(error.value)


def test_a_region_without_tls_is_refused_by_a_prod_global_stack_and_turns_a_dev_one_plain_with_a_warning(tmp_path):
    """One route forwards to every region with one protocol, so a region without gateway.tls cannot be reached over
    HTTPS: prod refuses it naming the stack file and the key; another environment reaches every region over plain
    HTTP and says so."""
    west = _regional("prod-westeurope")
    plain = _regional("prod-swedencentral")
    plain["gateway"] = {k: v for k, v in plain["gateway"].items() if k != "tls"}
    project = _project_with(tmp_path, {"prod-westeurope": west, "prod-swedencentral": plain})
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P)
    cfg = regions.parse_global(raw, P, "global")
    assert regions.regions_without_tls(cfg, P) == []  # the repository's regional files: both with TLS
    assert regions.origin_tls(cfg, [])[0].origin_protocol == "Https" and not regions.global_advisories(cfg)
    missing = regions.regions_without_tls(cfg, P, project)
    assert missing == ["prod-swedencentral"]
    refused, problems = regions.origin_tls(cfg, missing)
    assert len(problems) == 1 and problems[0].startswith(
        "global.regions entry 'prod-swedencentral': Pulumi.prod-swedencentral.yaml sets no gateway.tls, and "
        "environment is 'prod'")
    assert "aks-llm-platform:gateway: {tls: {mode: letsencrypt" in problems[0]
    # a dev edge by another name (a stack named `global` is prod to the policy pack whatever its environment, and
    # refused the plain region as prod is: tests/offline/test_rev_staging.py)
    dev, problems = regions.origin_tls(regions.parse_global({**raw, "environment": "dev"}, P, "dev-global"), missing)
    assert not problems and dev.origin_protocol == "Http"
    assert regions.origin_tls(regions.parse_global({**raw, "environment": "dev"}, P, "global"), missing)[1]
    assert "Front Door reaches every region over plain HTTP: prod-swedencentral" in regions.global_advisories(dev)[0]


def test_a_joined_region_with_tls_answers_the_acme_challenge_on_a_gateway_of_its_own():
    """Let's Encrypt's HTTP-01 challenge comes to port 80 of the certificate's name, from addresses it does not
    publish (letsencrypt.org docs "Challenge Types", FAQ), and the external gateway admits only Front Door (its
    service tag, on every port of its Service; its X-Azure-FDID policy, on the whole Gateway). So behind Front Door
    the `acme` listener is a Gateway of its own on the same static public IP (cloud-provider-azure: Services naming
    one azure-pip-name share it, each with NSG rules for its own ports and sources), open to any source on port 80,
    with a policy that lets only the challenge path through; cert-manager solves through it. The external gateway
    keeps only its TLS listeners and the service tag."""
    plan = plan_for("prod-westeurope")
    gateways = {g.inputs["metadata"]["name"]: g.inputs["spec"] for g in plan.of_type(
        "kubernetes:gateway.networking.k8s.io/v1:Gateway")}
    external, acme = gateways["external-gateway"], gateways["acme-gateway"]
    tag = "service.beta.kubernetes.io/azure-allowed-service-tags"
    assert external["infrastructure"]["annotations"][tag] == "AzureFrontDoor.Backend"
    assert [(lr["port"], lr["protocol"], lr.get("hostname")) for lr in external["listeners"]] == [
        (443, "HTTPS", "westeurope.llm.example.com"), (8443, "HTTPS", "westeurope.llm.example.com")]
    assert [(lr["name"], lr["port"], lr["protocol"]) for lr in acme["listeners"]] == [("acme", 80, "HTTP")]
    assert tag not in acme["infrastructure"]["annotations"]  # any source: Let's Encrypt publishes no addresses
    pip = "service.beta.kubernetes.io/azure-pip-name"
    assert acme["infrastructure"]["annotations"][pip] == external["infrastructure"]["annotations"][pip]
    policy = next(p.inputs["spec"] for p in plan.of_type("kubernetes:security.istio.io/v1:AuthorizationPolicy")
                  if p.inputs["metadata"]["name"] == "acme-only")
    assert policy["targetRefs"][0]["name"] == "acme-gateway" and policy["rules"] == [
        {"to": [{"operation": {"methods": ["GET", "HEAD"], "paths": ["/.well-known/acme-challenge/*"]}}]}]
    issuer = plan.one("kubernetes:cert-manager.io/v1:ClusterIssuer").inputs["spec"]["acme"]
    assert issuer["solvers"][0]["http01"]["gatewayHTTPRoute"]["parentRefs"][0]["name"] == "acme-gateway"
    assert not [r for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
                if r.inputs["metadata"]["name"] == "https-redirect"]  # its HTTPS address admits only Front Door
    # a prod stack not behind Front Door keeps the acme listener on its external gateway, open to all, as before
    prod = {g.inputs["metadata"]["name"]: g.inputs["spec"] for g in plan_for("prod").of_type(
        "kubernetes:gateway.networking.k8s.io/v1:Gateway")}
    assert "acme-gateway" not in prod and "acme" in [lr["name"] for lr in prod["external-gateway"]["listeners"]]


def test_a_global_stack_naming_a_stack_that_is_not_its_region_is_refused():
    with pytest.raises(offline.ProgramError, match="'prod': Pulumi.prod.yaml has no edge.globalStack set") as error:
        offline.run("global", {"global": {"regions": ["prod-westeurope", "prod"]}},
                    references={r: plan_for(r) for r in REGIONS})
    assert "`pulumi config set --path edge.globalStack global --stack prod`" in str(error.value)


def test_the_repository_regional_stacks_do_not_collide():
    for stack in REGIONS:
        checked_regional(parse_config(_regional(stack), P, stack))


def test_regional_stacks_that_would_collide_are_refused(tmp_path):
    west = _regional("prod-westeurope")
    clash = _regional("prod-swedencentral", prefix=west["prefix"], location=west["location"],
                      network={**west["network"]})
    clash["modelStore"] = {**clash["modelStore"], "resourceGroupName": west["modelStore"]["resourceGroupName"]}
    project = _project_with(tmp_path, {"prod-westeurope": west, "prod-swedencentral": clash})
    with pytest.raises(ConfigError) as error:
        checked_regional(parse_config(clash, P, "prod-swedencentral"), project)
    text = str(error.value)
    for expected in ("resource group name 'rg-llmweu-prod' is also stack prod-westeurope's resource group",
                     "storage account name", "Key Vault name", "model store resource group name",
                     "overlaps stack prod-westeurope's 10.41.0.0/16", "one regional stack per region"):
        assert expected in text, expected


def test_a_region_sharing_its_names_with_a_stack_that_is_not_regional_is_refused(tmp_path):
    """A regional stack made from Pulumi.prod.yaml with prod's prefix kept: its resource group is prod's (one
    subscription: the second stack's first `pulumi up` meets the first's group), and with prod's location its storage
    account, vault and server names too. A stack file that is not regional and does not validate is its own
    concern."""
    prod = regions.raw_stack_file(PROJECT_DIR / "Pulumi.prod.yaml", P)
    given = parse_config(prod, P, "prod")  # prod's prefix is the default one
    west = _regional("prod-westeurope", prefix=given.prefix, location=given.location)
    project = _project_with(tmp_path, {"prod": prod, "prod-westeurope": west, "dev": {"prefix": "Bad Prefix"}})
    with pytest.raises(ConfigError) as error:
        checked_regional(parse_config(west, P, "prod-westeurope"), project)
    text = "\n".join(error.value.problems)
    for kind in ("resource group", "storage account", "Key Vault", "PostgreSQL server"):
        assert f"{kind} name" in text and f"is also stack prod's {kind}: a regional stack needs its own prefix" in text
    assert "budget" not in text and "dev" not in text  # the group's problem says it; dev does not validate
    checked_regional(parse_config(_regional("prod-westeurope"), P, "prod-westeurope"), project)  # its own prefix


def test_a_region_copied_from_another_with_its_tls_hostname_left_is_refused(tmp_path):
    """A third region made as operations.md says, a copy of a regional file with its own prefix, location, ranges and
    model group, but the copied `gateway.tls.hostname` kept: one A record serves one address, so Front Door's two
    origins would both reach one region (a failover to nowhere) and the other region's certificate never issues."""
    west, sweden = _regional("prod-westeurope"), _regional("prod-swedencentral")
    north = _regional("prod-swedencentral", prefix="llmneu", location="northeurope",
                      network={"vnetCidr": "10.43.0.0/16", "nodeSubnetCidr": "10.43.0.0/20",
                               "endpointsSubnetCidr": "10.43.16.0/24", "postgresSubnetCidr": "10.43.17.0/24"})
    north["modelStore"] = {**north["modelStore"], "resourceGroupName": "rg-llmneu-prod-models"}
    assert north["gateway"]["tls"]["hostname"] == sweden["gateway"]["tls"]["hostname"]  # the copy's
    project = _project_with(tmp_path, {"prod-westeurope": west, "prod-swedencentral": sweden,
                                       "prod-northeurope": north})
    with pytest.raises(ConfigError) as error:
        checked_regional(parse_config(north, P, "prod-northeurope"), project)
    [problem] = error.value.problems
    assert problem.startswith("gateway.tls.hostname 'swedencentral.llm.example.com' is also stack prod-swedencentral's")
    north["gateway"]["tls"]["hostname"] = "northeurope.llm.example.com"
    project = _project_with(tmp_path, {"prod-westeurope": west, "prod-swedencentral": sweden,
                                       "prod-northeurope": north})
    checked_regional(parse_config(north, P, "prod-northeurope"), project)


def test_a_broken_sibling_regional_stack_is_named(tmp_path):
    broken = _regional("prod-westeurope", prefix="Bad Prefix")
    project = _project_with(tmp_path, {"prod-westeurope": broken, "prod-swedencentral": _regional(
        "prod-swedencentral")})
    with pytest.raises(ConfigError, match="regional stack prod-westeurope .* does not validate"):
        checked_regional(parse_config(_regional("prod-swedencentral"), P, "prod-swedencentral"), project)


@pytest.mark.parametrize("text, problem", [
    ("config:\n  aks-llm-platform:edge: {globalStack: global\n", "Pulumi.zz.yaml: not valid YAML (line 3, column 1)"),
    ("- a list\n", "Pulumi.zz.yaml: must be a mapping with a `config:` mapping"),
    ("config: [a]\n", "Pulumi.zz.yaml: must be a mapping with a `config:` mapping"),
    (b"config: \xff\n", "Pulumi.zz.yaml: line 1 is not UTF-8 (byte 0xff)"),
    ("config:\n  aks-llm-platform:n: " + "9" * 5000 + "\n", "Pulumi.zz.yaml: a value cannot be read"),
    ("[" * 2000 + "]" * 2000 + "\n", "Pulumi.zz.yaml: values nest more than 32 levels deep"),
    # as the Pulumi CLI reads it (config/stack_yaml.py), not as PyYAML's default loader (the last key won)
    ("config:\n  aks-llm-platform:prefix: a\n  aks-llm-platform:prefix: b\n",
     "Pulumi.zz.yaml: not valid YAML (line 3, column 3): key 'aks-llm-platform:prefix' appears twice")])
def test_any_other_stack_file_that_does_not_read_is_named_not_a_traceback(tmp_path, text, problem):
    """A regional stack reads every stack file of the project (`pulumi up` and `make plan` alike): a half-written one
    of another stack stopped this stack's run with a YAML or attribute traceback."""
    project = _project_with(tmp_path, {"prod-westeurope": _regional("prod-westeurope")})
    zz = tmp_path / "Pulumi.zz.yaml"
    zz.write_bytes(text) if isinstance(text, bytes) else zz.write_text(text)
    with pytest.raises(ConfigError) as refused:
        checked_regional(parse_config(_regional("prod-westeurope"), P, "prod-westeurope"), project)
    assert refused.value.problems[0].startswith(f"stack file {problem}")
    assert refused.value.problems[0].endswith("fix it or remove it")
    # a global stack listing it as a region is told the same
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P)
    raw["global"]["regions"] = ["zz"]
    listed = regions.listed_region_problems(regions.parse_global(raw, P, "global"), P, "global", project)
    assert len(listed) == 1 and listed[0].startswith(f"global.regions entry 'zz': {problem}")


def test_another_stack_file_is_read_as_the_pulumi_cli_reads_it(tmp_path):
    """YAML 1.2's core schema, as go-yaml: a sibling's `yes` and `10:30` are strings (PyYAML's default loader, which
    read siblings before, made them true and 630), its `0o17` an integer."""
    zz = tmp_path / "Pulumi.zz.yaml"
    zz.write_text("config:\n  aks-llm-platform:a: yes\n  aks-llm-platform:b: 10:30\n  aks-llm-platform:c: 0o17\n")
    assert regions.raw_stack_file(zz, P) == {"a": "yes", "b": "10:30", "c": 15}
    zz.write_text("")
    assert regions.raw_stack_file(zz, P) == {}


@pytest.mark.parametrize("change, message", [
    ({"cluster": {"upgradeChannel": "stable"}}, "fights Fleet Manager's auto-upgrade"),
    ({"cluster": {"kubernetesVersion": "1.33"}}, "cluster.kubernetesVersion '1.33' fights Fleet Manager's update runs"),
    ({"gateway": {"mode": "internal"}}, "Front Door reaches a region through its external gateway"),
    ({"gateway": {"tls": None}}, "Front Door \\(edge.globalStack\\) reaches a prod region over HTTPS only"),
    ({"edge": {"globalStack": "global", "frontDoorId": "not-a-guid"}}, "must be the Front Door profile's ID"),
])
def test_regional_edge_rules(change, message):
    raw = copy.deepcopy(_regional("prod-westeurope"))
    for key, value in change.items():
        raw[key] = offline.deep_merge(raw.get(key) or {}, value)
    with pytest.raises(ConfigError, match=message):
        parse_config(raw, P, "prod-westeurope")


@pytest.mark.parametrize("change, message", [
    ({"frontDoor": {"wafMode": "Detection"}}, "wafMode must be 'Prevention' when environment is 'prod'"),
    ({"frontDoor": {"sku": "Standard_AzureFrontDoor"}}, "must be 'Premium_AzureFrontDoor' when environment"),
    ({"regions": []}, "global.regions must list the regional stacks"),
    ({"regions": ["prod-westeurope", "prod-westeurope"]}, "lists a stack twice"),
    ({"frontDoor": {"originTimeoutSeconds": 600}}, "originTimeoutSeconds"),
    ({"fleet": {"channel": "Patch"}}, "global.fleet.channel"),
    # Fleet's NodeImage channel always takes one consistent image: Latest there was dropped without a word
    ({"fleet": {"channel": "NodeImage", "nodeImageSelection": "Latest"}},
     r"global.fleet.nodeImageSelection 'Latest' is invalid; allowed: Consistent or unset with global.fleet.channel "
     r"NodeImage"),
    ({"typo": 1}, "global.typo is not a known key"),
    ({"llmdRegions": ["prod-eastus"]}, r"global.llmdRegions \['prod-eastus'\] must list stacks of global.regions"),
    # origins and Fleet members are named after the stack name past its first '-': two regions sharing it would be
    # one origin twice (the component named only `origins[1].name='prod'`), and Front Door takes no capitals or '_'
    ({"regions": ["eu-prod", "fr-prod"]}, r"entries 'eu-prod', 'fr-prod' all name their Front Door origins and "
                                          r"Fleet member 'prod'"),
    ({"regions": ["prod-westeurope", "prod-France_Central"]}, r"entry 'prod-France_Central' names its Front Door "
                                                              r"origins and Fleet member 'France_Central'"),
])
def test_global_config_rules(change, message):
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P)
    raw["global"] = offline.deep_merge(raw["global"], change) if "regions" not in change else \
        {**raw["global"], **change}
    with pytest.raises(ConfigError, match=message):
        regions.parse_global(raw, P, "global")


@pytest.mark.parametrize("setting, message", [
    ("wafMode: Detection", "global.frontDoor.wafMode 'Detection' is invalid for stack 'global'; allowed: Prevention, "
                           "since the policy pack holds stacks named prod, global and prod-<region> to prod's rules"),
    # a Standard tier runs no managed rule set: the pack's rule refuses it in prod too (2026-12-05, the WAF review)
    ("sku: Standard_AzureFrontDoor", "global.frontDoor.sku 'Standard_AzureFrontDoor' is invalid for stack 'global'; "
                                     "allowed: Premium_AzureFrontDoor (Standard runs no managed rule set), since the "
                                     "policy pack holds stacks named prod, global and prod-<region> to prod's rules"),
])
def test_a_staging_global_stack_named_global_keeps_the_waf_blocking(tmp_path, capsys, setting, message):
    """The policy pack holds a stack named `global` to prod's WAF rule whatever its environment: a staging global
    stack named so with `wafMode: Detection` planned every region and was then refused by waf-on-and-blocking-in-prod
    (and one with a Standard tier, whose WAF runs no managed rule set, passed it). The config refuses both first,
    naming the key; another name plans."""
    key = setting.split(":")[0]
    text = (PROJECT_DIR / "Pulumi.global.yaml").read_text()
    [line] = [line for line in text.splitlines() if line.strip().startswith(f"{key}:")]
    stack_file = tmp_path / "Pulumi.global.yaml"
    stack_file.write_text(text.replace("aks-llm-platform:environment: prod", "aks-llm-platform:environment: staging")
                          .replace(line, line.split(key)[0] + setting))
    assert plan_cli.main(["--stack", "global", "--out", str(tmp_path / "build"), "--stack-file", str(stack_file)]) == 1
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err, captured.err
    assert "OFFLINE PLAN" not in captured.out  # refused before any region is planned
    raw = regions.raw_stack_file(stack_file, P)
    assert regions.parse_global(raw, P, "global-staging").stack == "global-staging"


@pytest.mark.parametrize("line, message", [
    ("resourceGroupName: rg-shared", "resourceGroupName 'rg-shared' is not read by the global stack (the global "
                                     "stack creates its own group, rg-<prefix>-global)"),
    ("legacyGlobalNames: true", "legacyGlobalNames true is not read by the global stack"),
    ("namespace: edge", "namespace 'edge' is not read by the global stack"),
])
def test_a_platform_key_the_global_stack_ignores_is_refused_in_its_file(tmp_path, capsys, line, message):
    """Pulumi.yaml gives every stack namespace, legacyGlobalNames and resourceGroupName, so
    the global stack's reader took them and dropped them: `resourceGroupName: rg-shared` planned Front Door into
    rg-llmp-global without a word. A value other than Pulumi.yaml's default is refused, before any region plans."""
    stack_file = tmp_path / "Pulumi.global.yaml"
    stack_file.write_text((PROJECT_DIR / "Pulumi.global.yaml").read_text() + f"  {P}:{line}\n")
    out = tmp_path / "build"
    assert plan_cli.main(["--stack", "global", "--out", str(out), "--stack-file", str(stack_file)]) == 1
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err
    assert "OFFLINE PLAN" not in captured.out and not out.exists()  # no region was planned, nothing written


@pytest.mark.parametrize("environment, stack, message", [
    ("prod", "global", "protectStatefulResources must be true when environment is 'prod' (the global stack protects "
                       "its resource group, the Front Door profile whose ID every region's gateway admits"),
    ("staging", "global", "protectStatefulResources false is invalid for stack 'global'; allowed: true, since the "
                          "policy pack holds stacks named prod, global and prod-<region> to prod's rules"),
    ("staging", "global-staging", None),
])
def test_the_global_stack_protects_its_edge_where_prods_rules_hold(tmp_path, capsys, environment, stack, message):
    """The global stack took no `protectStatefulResources` ("it holds no stateful resource"), so a prod edge's
    Front Door profile (its ID is every region's edge.frontDoorId), endpoint (the host name clients call) and log
    workspace went with a `pulumi destroy` or a rename. Prod, or a stack the pack judges prod by its name, now
    needs it true, refused before any region plans; a staging stack of another name may leave it false."""
    text = (PROJECT_DIR / "Pulumi.global.yaml").read_text()
    stack_file = tmp_path / f"Pulumi.{stack}.yaml"
    stack_file.write_text(text.replace(f"{P}:environment: prod", f"{P}:environment: {environment}")
                          .replace(f"{P}:protectStatefulResources: true", f"{P}:protectStatefulResources: false"))
    raw = regions.raw_stack_file(stack_file, P)
    if message is None:
        assert regions.parse_global(raw, P, stack).protect is False
        return
    with pytest.raises(ConfigError, match=re.escape(message)):
        regions.parse_global(raw, P, stack)
    out = tmp_path / "build"
    assert plan_cli.main(["--stack", stack, "--out", str(out), "--stack-file", str(stack_file)]) == 1
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err, captured.err
    assert "OFFLINE PLAN" not in captured.out and not out.exists()


def test_a_prod_global_stack_without_protect_is_told_the_command_that_adds_it():
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P)
    raw.pop("protectStatefulResources")
    with pytest.raises(ConfigError, match=re.escape("`pulumi config set protectStatefulResources true --stack global` "
                                                    "adds it to the stack's file")):
        regions.parse_global(raw, P, "global")


def test_the_global_stack_files_protect_setting_reaches_the_edge():
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P)
    assert regions.parse_global(raw, P, "global").protect is True
    edge = plan_for("global")
    protected = sorted(r.name for r in edge.resources if r.options.get("protect"))
    assert protected == ["edge", "edge-endpoint", "edge-logs", "edge-profile", "global-rg"]


def test_regional_stacks_get_the_prod_rules():
    plan = plan_for("prod-westeurope")
    share = plan.one("azure-native:storage:FileShare")
    unprotected = dataclasses.replace(share, options={**share.options, "protect": False})
    changed = dataclasses.replace(plan, resources=[unprotected if r is share else r for r in plan.resources])
    assert [v.policy for v in policy_check.evaluate(changed) if v.resource == share.name] == \
        ["prod-stateful-protected"]


def test_a_global_key_set_in_a_regional_stack_is_one_problem_saying_so():
    """`pulumi config set --path global.apiKeys[1] ...` run in a regional stack (the rotation step, in the wrong
    stack) made its file read as the global stack's: every regional section was then "not a known key", ten lines
    none of which named the mistake."""
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.dev.yaml", P)
    raw["global"] = {"apiKeys": ["clients", "clients-2027-05"]}
    assert regions.is_global(raw)
    with pytest.raises(ConfigError) as refused:
        regions.parse_global(raw, P, "dev")
    [problem] = refused.value.problems
    assert problem.startswith("global is the global stack's section") and "stack 'dev'" in problem
    assert all(section in problem for section in ("cluster", "gpu", "modelStore", "webui"))
    assert "cost" not in problem  # a section the global stack reads too
    regions.parse_global(regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P), P, "global")
    stray = {**regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P), "cluster": {"tier": "Free"}}
    with pytest.raises(ConfigError, match="cluster is not a known key"):  # the global stack's own stray key
        regions.parse_global(stray, P, "global")


def test_regional_names_that_differ_only_in_case_or_in_the_budget_s_characters_are_refused(tmp_path):
    """Azure compares resource group names without case (learn.microsoft.com, resource-name-rules: "Always perform a
    case-insensitive comparison of names"), and a cost budget's name, unique in the subscription, is made from the
    platform group's with '.', '(' and ')' turned to '-' (llmplatform.naming.budget_name): two regional stacks whose
    groups differ so passed the check and collided at the second one's `pulumi up`."""
    west, sweden = _regional("prod-westeurope"), _regional("prod-swedencentral")
    assert west["observability"]["monthlyBudget"] and sweden["observability"]["monthlyBudget"]  # both make a budget
    for mine, theirs, expected in (
            ("rg-Team-prod", "rg-team-prod", "resource group name 'rg-Team-prod' (Azure ignores case: 'rg-team-prod') "
                                             "is also stack prod-westeurope's resource group"),
            ("rg-team.prod", "rg-team-prod", "budget name 'budget-rg-team-prod' is also stack prod-westeurope's "
                                             "budget")):
        project = _project_with(tmp_path, {"prod-westeurope": {**west, "resourceGroupName": theirs},
                                           "prod-swedencentral": {**sweden, "resourceGroupName": mine}})
        with pytest.raises(ConfigError) as error:
            checked_regional(parse_config({**sweden, "resourceGroupName": mine}, P, "prod-swedencentral"), project)
        assert error.value.problems == [expected + ": regional stacks need their own prefix (or resource group names)"]


@pytest.mark.parametrize("given, read_in", [(None, "acme"), ("platform-team", "platform-team")])
def test_the_regional_stacks_are_read_in_the_global_stacks_own_organization(monkeypatch, given, read_in):
    """The engine hands the program its stack's organization (its Pulumi Cloud organization; "organization" on a
    self-managed backend): the StackReferences name it, unless `global.organization` names another. The references
    are given under full names only, so a reference in another organization finds no stack."""
    import pulumi
    monkeypatch.setattr(pulumi, "get_organization", lambda: "acme")
    overrides = {"global": {"organization": given}} if given else None
    for org in (read_in, "organization"):
        references = {f"{org}/aks-llm-platform/{r}": dict(plan_for(r).outputs) for r in REGIONS}
        if org == read_in:
            assert offline.run("global", overrides, references=references).outputs["frontDoorId"]
        else:
            with pytest.raises(offline.ProgramError, match=f"StackReference '{read_in}/aks-llm-platform/prod-"):
                offline.run("global", overrides, references=references)


def test_a_blank_key_of_the_global_stack_is_refused_as_a_regional_stacks_is():
    """The global stack's reader takes the engine's text 'null' for a key left blank as the platform's does (a
    blank prefix would name the Front Door profile and the fleet after 'null')."""
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P)
    with pytest.raises(ConfigError) as caught:
        regions.parse_global({**raw, "prefix": "null"}, P, "global")
    assert caught.value.problems == ["prefix has no value (a key left blank in the stack file, `~` or `null`, reaches "
                                     "the program as the text 'null'); give it a value or leave the key out"]


def test_a_key_pasted_in_place_of_its_name_in_global_api_keys_is_not_shown():
    """global.apiKeys names the clients' keys; a key pasted there (the key from the rotation runbook's output) is
    refused without being printed, the names around it still shown."""
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", "aks-llm-platform")
    for keys, problem in ((["clients", "Abc~8Q~fakeKeyValue_123"], "global.apiKeys ['clients', '***'] must list"),
                          ("Abc~8Q~fakeKeyValue_123", "global.apiKeys must be a list of non-empty strings, got (a")):
        with pytest.raises(ConfigError) as refused:
            regions.parse_global({**raw, "global": {**raw["global"], "apiKeys": keys}}, "aks-llm-platform", "global")
        assert "fakeKeyValue" not in str(refused.value), refused.value.problems
        assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


@pytest.mark.parametrize("count, sku, refused", [
    (51, "Premium_AzureFrontDoor", True),  # past the 50 origins of one origin group
    (50, "Premium_AzureFrontDoor", False),  # 100 origins of a Premium profile's 200
    (50, "Standard_AzureFrontDoor", False),  # 100 origins: a Standard profile's 100, no llm-d region
    (50, "Standard_AzureFrontDoor", True),  # with an llm-d region: 101
])
def test_more_regions_than_one_front_door_takes_are_refused_before_any_region_is_planned(tmp_path, capsys, count,
                                                                                          sku, refused):
    """Each region is an origin of Front Door's ui and api origin groups (and of llmd's): Azure takes 50 origins in a
    group and 100 (Standard) or 200 (Premium) in a profile. Past them `pulumi up` of the global stack failed at Azure
    after the regions were up; the config refuses them first, naming the count and the limits."""
    import yaml
    names = [f"prod-r{i:02d}" for i in range(count)]
    llmd = {"llmdRegions": names[:1]} if sku.startswith("Standard") and refused else {}
    stack = {"config": {f"{P}:environment": "dev", f"{P}:global": {
        "regions": names, "frontDoor": {"sku": sku}, **llmd}}}
    (tmp_path / "global.yaml").write_text(yaml.safe_dump(stack))
    out = tmp_path / "build"
    code = plan_cli.main(["--stack", "global", "--stack-file", str(tmp_path / "global.yaml"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and not out.exists()  # the regions' own files are missing either way
    limit = (f"global.regions lists {count} regional stacks ({len(llmd.get('llmdRegions', []))} of them in "
             f"global.llmdRegions), too many for one Front Door; allowed: at most 50 regions")
    assert (limit in err) == refused, err


@pytest.mark.parametrize("organization, refused", [
    ("acme/platform", True), ("my org", True), ("ab", True), ("-acme", True), ("acme_", True), ("a" * 41, True),
    ("organization", False)])
def test_global_organization_is_held_to_pulumis_rule_for_an_organization(tmp_path, capsys, organization, refused):
    """global.organization is the first part of each regional StackReference's name: a value Pulumi refuses there
    (a '/', a space, too short or long) failed only at `pulumi up` of the global stack, after the regions were up. The
    plan refuses it first, naming the key, the value and what Pulumi allows."""
    out = tmp_path / "build"
    code = plan_cli.main(["--stack", "global", "--out", str(out), "--set", f"global.organization={organization}"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    message = (f"global.organization {organization!r} is not a Pulumi organization name; allowed: 3-40 letters, "
               "digits, '-' and '_', starting and ending with a letter or digit, as Pulumi allows an organization "
               "in a stack reference (on a self-managed backend only 'organization')")
    assert (message in captured.err) == refused and code == (1 if refused else 0), captured.err
    assert out.exists() != refused


@pytest.mark.parametrize("organization", ["platform-team", "acme_2", "a" * 40, "ab1"])
def test_a_global_organization_pulumi_takes_is_kept(organization):
    """The rule's edges Pulumi takes (3 and 40 characters, '-' and '_' inside) pass the global stack's config."""
    raw = regions.raw_stack_file(PROJECT_DIR / "Pulumi.global.yaml", P)
    cfg = regions.parse_global({**raw, "global": {**raw["global"], "organization": organization}}, P, "global")
    assert cfg.reference("prod-westeurope") == f"{organization}/{P}/prod-westeurope"


def test_an_organization_with_a_newline_is_told_it_holds_a_control_character(tmp_path, capsys):
    """`organization: "acme\\n"` (a trailing newline from a pasted value) was refused as "must be at most 253 printable
    characters": true, but it sent the user counting characters. The refusal names the control character."""
    code = plan_cli.main(["--stack", "global", "--out", str(tmp_path), "--set", "global.organization=acme\n"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert ("global.organization must be printable characters only (no newline, tab or other control character), "
            "got 'acme\\n'") in err, err[-600:]


def test_a_null_key_in_a_stack_file_another_stack_reads_is_refused_as_its_own_plan_refuses_it(tmp_path):
    """A global stack reads its regions' stack files, and a regional stack its siblings': a null key there (`~:`,
    which the program would read as '<nil>') was taken as a name, where that stack's own plan refuses it."""
    region = tmp_path / "Pulumi.prod-northeurope.yaml"
    region.write_text(f"config:\n  {P}:cost:\n    prices:\n      ~: 3\n")
    with pytest.raises(ConfigError) as error:
        regions.raw_stack_file(region, P)
    assert error.value.problems == [f"Pulumi.prod-northeurope.yaml: cost.prices has an entry whose name is null (`~` "
                                    f"or unquoted `null` in the stack file; the Pulumi CLI hands the program '<nil>' "
                                    f"as its name): write the name it stands for (quoted, \"null\", if that is the "
                                    f"name)"]


def test_a_null_key_in_another_stacks_file_stops_a_regional_stack_only_where_a_bad_value_would(tmp_path):
    """A regional stack (`pulumi up`, `make plan`) checks the project's other stack files: one that is no regional
    stack and does not validate is left out (checked when it runs). A null key there (`tags: {~: x}` in a
    colleague's dev stack) stopped every regional stack's run as an unreadable file ("fix it or remove it"); it is
    left out as any other bad value of that stack is, and a regional sibling's is that stack's "does not validate"."""
    null_tags = (f"config:\n  {P}:environment: dev\n  {P}:tags:\n    ~: x\n")
    project = _project_with(tmp_path, {"prod-westeurope": _regional("prod-westeurope")})
    (tmp_path / "Pulumi.dev.yaml").write_text(null_tags)
    checked_regional(parse_config(_regional("prod-westeurope"), P, "prod-westeurope"), project)
    (tmp_path / "Pulumi.dev.yaml").unlink()
    sweden = _regional("prod-swedencentral")
    project = _project_with(tmp_path, {"prod-westeurope": _regional("prod-westeurope"), "prod-swedencentral": sweden})
    text = (tmp_path / "Pulumi.prod-swedencentral.yaml").read_text()
    (tmp_path / "Pulumi.prod-swedencentral.yaml").write_text(text + f"  {P}:tags:\n    ~: x\n")
    with pytest.raises(ConfigError) as refused:
        checked_regional(parse_config(_regional("prod-westeurope"), P, "prod-westeurope"), project)
    assert refused.value.problems == [
        "regional stack prod-swedencentral (Pulumi.prod-swedencentral.yaml) does not validate, so it cannot be checked "
        "against this one: tags has an entry whose name is null (`~` or unquoted `null` in the stack file; the Pulumi "
        "CLI hands the program '<nil>' as its name): write the name it stands for (quoted, \"null\", if that is the "
        "name)"]


@pytest.mark.parametrize("value, refused", [
    ("prod-northeurope", True), ("prod", True), ("westeurope", True), ("prod-swedencentral", False)])
def test_global_ui_home_region_must_be_one_of_global_regions(tmp_path, capsys, value, refused):
    """global.uiHomeRegion names the regional stack every browser reaches for the UI: a stack global.regions does not
    list (another region, a typo, the origin's short name) is refused through the plan's entry point, naming the key,
    the value and the regions allowed, before any region is planned; one of them plans."""
    out = tmp_path / "build"
    code = plan_cli.main(["--stack", "global", "--out", str(out), "--set", f"global.uiHomeRegion={value}"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    message = (f"global.uiHomeRegion {value!r} is invalid; allowed: one of global.regions (prod-westeurope, "
               "prod-swedencentral), the regional stack every browser reaches for the UI while its probes pass")
    assert (message in captured.err) == refused and code == (1 if refused else 0), captured.err
    assert ("OFFLINE PLAN" in captured.out) != refused and out.exists() != refused


def test_global_ui_home_region_is_read_from_the_stack_file(tmp_path, capsys):
    """Set in the global stack's file (as Pulumi.global.yaml's comment shows it), the key is checked as with --set."""
    stack_file = tmp_path / "Pulumi.global.yaml"
    stack_file.write_text((PROJECT_DIR / "Pulumi.global.yaml").read_text().replace(
        "    regions: [prod-westeurope, prod-swedencentral]\n",
        "    regions: [prod-westeurope, prod-swedencentral]\n    uiHomeRegion: prod-swedencentral-2\n"))
    assert plan_cli.main(["--stack", "global", "--out", str(tmp_path / "build"), "--stack-file", str(stack_file)]) == 1
    err = capsys.readouterr().err
    assert "global.uiHomeRegion 'prod-swedencentral-2' is invalid; allowed: one of global.regions" in err, err
    raw = regions.raw_stack_file(stack_file, P)
    raw["global"]["uiHomeRegion"] = "prod-swedencentral"
    assert regions.parse_global(raw, P, "global").ui_home_region == "prod-swedencentral"
    del raw["global"]["uiHomeRegion"]
    assert regions.parse_global(raw, P, "global").ui_home_region == "prod-westeurope"  # the first of global.regions


GRAFANA_REMEDY = ("each stack needs its own prefix or observability.grafanaName (Azure refuses a workspace name "
                  "another workspace holds, in any resource group or subscription: NameNotUnique)")


def test_regional_stacks_sharing_a_managed_grafana_name_are_refused(tmp_path):
    """Managed Grafana's name is refused taken in another resource group or subscription (NameNotUnique,
    docs/decisions.md "Upstream facts verified"). Two regional stacks of one prefix, each with its own resource groups
    (the check's remedy), kept apart every name it compared (the storage account, vault and server hash the region)
    but not the workspace's: with `legacyGlobalNames` (which the shipped regional files set) it is
    `graf-<prefix>-<env>` in every region, and `observability.grafanaName` names it as given; the second stack's
    `pulumi up` failed at the workspace, after its cluster. Unhashed names of one prefix collide; hashed ones carry the
    region and do not."""
    west, sweden = _regional("prod-westeurope"), _regional("prod-swedencentral")
    own = {"prefix": "llmweu", "modelStore": {**sweden["modelStore"], "resourceGroupName": "rg-llmweu-se-models"},
           "resourceGroupName": "rg-llmweu-se"}

    def problems(mine: dict, theirs: dict) -> list:
        project = _project_with(tmp_path, {"prod-westeurope": theirs, "prod-swedencentral": mine})
        try:
            checked_regional(parse_config(mine, P, "prod-swedencentral"), project)
        except ConfigError as error:
            return error.problems
        return []

    assert problems({**sweden, **own}, west) == [
        "Managed Grafana workspace name 'graf-llmweu-prod' is also stack prod-westeurope's Managed Grafana workspace: "
        + GRAFANA_REMEDY]
    named = {"observability": {**sweden["observability"], "grafanaName": "graf-platform"}}
    assert problems({**sweden, **named}, {**west, "observability": {**west["observability"],
                                                                    "grafanaName": "Graf-Platform"}}) == [
        "Managed Grafana workspace name 'graf-platform' (Azure ignores case: 'Graf-Platform') is also stack "
        "prod-westeurope's Managed Grafana workspace: " + GRAFANA_REMEDY]
    hashed = {"legacyGlobalNames": False}
    assert problems({**sweden, **own, **hashed}, {**west, **hashed}) == []  # the region is in each hash
    off = {"observability": {**sweden["observability"], "managedGrafana": False}}
    assert problems({**sweden, **own, **off}, west) == []


def test_two_regions_sharing_maintenance_time_are_warned_and_the_shipped_ones_take_turns(tmp_path):
    """AksCluster makes a region's cluster.maintenanceWindow its node OS schedule too, and AKS applies node OS
    security patches (SecurityPatch: a reimage, drained, when a kernel package needs it) there on its own, outside
    Fleet's stages (azure-aks-docs fb060abe auto-upgrade-node-os-image.md, planned-maintenance.md): two regions with
    one window can drain at once, the standby Front Door fails over to included, and Fleet's second stage, after the
    first region and the soak, finds the shared window closing. The shipped regional files shared Sunday 01:00-07:00
    UTC without a word; Sweden Central now follows West Europe's window and the soak, and the global stack warns of a
    copied window (the runbook's way to add a region copies a regional file)."""
    from config.global_stack import shared_maintenance_windows
    assert shared_maintenance_windows(REGIONS, P) == []  # the shipped files: 01:00-07:00, then 08:00-14:00
    west, sweden = _regional("prod-westeurope"), _regional("prod-swedencentral")
    window = {"dayOfWeek": "Sunday", "startTime": "01:00", "durationHours": 6, "utcOffset": "+00:00"}
    late = {**window, "startTime": "22:00"}  # Sunday 22:00 to Monday 04:00: across the week's turn
    for ours, theirs, overlaps in (
            (window, window, True), (window, {**window, "startTime": "06:59"}, True),
            (window, {**window, "startTime": "07:00"}, False),
            (window, {**window, "dayOfWeek": "Saturday", "startTime": "22:00"}, True),  # into Sunday
            (window, {**window, "startTime": "08:00", "utcOffset": "+02:00"}, True),  # 06:00 UTC
            (window, {**window, "startTime": "09:00", "utcOffset": "+02:00"}, False),  # 07:00 UTC
            (late, {**window, "dayOfWeek": "Monday", "startTime": "03:00"}, True),
            (late, {**window, "dayOfWeek": "Monday", "startTime": "06:00", "utcOffset": "+02:00"}, False)):
        project = _project_with(tmp_path, {
            "prod-westeurope": {**west, "cluster": {**west.get("cluster", {}), "maintenanceWindow": ours}},
            "prod-swedencentral": {**sweden, "cluster": {**sweden.get("cluster", {}), "maintenanceWindow": theirs}}})
        warned = shared_maintenance_windows(REGIONS, P, project)
        assert bool(warned) is overlaps, (ours, theirs, warned)
        if overlaps:
            [line] = warned
            assert "prod-westeurope and prod-swedencentral share maintenance time" in line and "SecurityPatch" in line
    # a region without a window has AKS's own time for its node OS updates, any hour: named (test_review_a13.py)
    project = _project_with(tmp_path, {"prod-westeurope": {**west, "cluster": {"maintenanceWindow": window}},
                                       "prod-swedencentral": sweden})
    assert shared_maintenance_windows(REGIONS, P, project) == []
    bare = {k: v for k, v in sweden["cluster"].items() if k != "maintenanceWindow"}
    project = _project_with(tmp_path, {"prod-westeurope": west, "prod-swedencentral": {**sweden, "cluster": bare}})
    [line] = shared_maintenance_windows(REGIONS, P, project)
    assert "'prod-swedencentral'" in line and "sets no cluster.maintenanceWindow" in line
    # one that does not read (its own plan refuses it) is left out
    odd = {**window, "startTime": "eight"}
    project = _project_with(tmp_path, {"prod-westeurope": west, "prod-swedencentral": {
        **sweden, "cluster": {**bare, "maintenanceWindow": odd}}})
    assert shared_maintenance_windows(REGIONS, P, project) == []
