"""Bad config as users type it, through the real CLI path (`offline.plan --set ...` and `--stack-file`): every case is
refused with one message naming the key (or the file and line), exit 1, no traceback, nothing written and nothing
registered. Then a property test: random YAML values and structures only ever give a config or a ConfigError."""
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from config.loader import parse_config
from config.reader import ConfigError
from offline.stackfile import ConfigError as StackFileError, parse_yaml, project_config
from offline import plan as plan_cli, runner as offline

from .conftest import PROJECT_DIR

DEV = (PROJECT_DIR / "Pulumi.dev.yaml").read_text()
P = "aks-llm-platform"
HUGE = "9" * 5000

# (case id, --set items, the fragment the message must contain: the key, or the file and what is wrong)
SET_CASES = [
    # numbers that isdigit() accepts but int() does not, too long, not finite
    ("minus-minus", ["gpu.maxCount=--3"], "gpu.maxCount"),
    ("superscript", ["gpu.maxCount=³"], "gpu.maxCount"),
    ("arabic-indic", ["gpu.maxCount=٣"], "gpu.maxCount"),
    ("fullwidth", ["gpu.maxCount=３"], "gpu.maxCount"),
    ("too-long-int", ["gpu.maxCount=" + "9" * 40], "gpu.maxCount"),
    ("nan-price", ["gpu.spotMaxPrice=nan"], "gpu.spotMaxPrice"),
    ("inf-price", ["gpu.spotMaxPrice=inf"], "gpu.spotMaxPrice"),
    ("huge-float", ["gpu.spotMaxPrice=1e999"], "gpu.spotMaxPrice"),
    ("int-limit", ["modelStore.sizeGib=" + "9" * 20], "modelStore.sizeGib"),
    # one IP family, Azure's subnet rules
    ("ipv6-pods", ["network.podCidr=fd00::/8"], "network.podCidr"),
    ("ipv6-vnet", ["network.vnetCidr=2001:db8::/32"], "network.vnetCidr"),
    ("ipv6-service", ["network.serviceCidr=fd12::/108"], "network.serviceCidr"),
    ("subnet-30", ["network.endpointsSubnetCidr=10.40.16.0/30"], "network.endpointsSubnetCidr"),
    ("subnet-32", ["network.postgresSubnetCidr=10.40.17.5/32"], "network.postgresSubnetCidr"),
    ("gw-ip-network", ["gateway.mode=both", "gateway.internalIp=10.40.0.0"], "gateway.internalIp"),
    ("gw-ip-reserved-1", ["gateway.mode=both", "gateway.internalIp=10.40.0.1"], "gateway.internalIp"),
    ("gw-ip-reserved-3", ["gateway.mode=both", "gateway.internalIp=10.40.0.3"], "gateway.internalIp"),
    ("gw-ip-broadcast", ["gateway.mode=both", "gateway.internalIp=10.40.15.255"], "gateway.internalIp"),
    ("gw-ip-v6", ["gateway.mode=both", "gateway.internalIp=fd00::5"], "gateway.internalIp"),
    ("dns-broadcast", ["network.dnsServiceIp=172.16.255.255"], "network.dnsServiceIp"),
    ("dns-network", ["network.dnsServiceIp=172.16.0.0"], "network.dnsServiceIp"),
    ("k8s-unicode-digits", ["cluster.kubernetesVersion=1.３３"], "cluster.kubernetesVersion"),
    ("k8s-arabic-digits", ["cluster.kubernetesVersion=1.٣٣.1"], "cluster.kubernetesVersion"),
    # empty strings are not defaults
    ("empty-gpu-size", ["gpu.vmSize="], "gpu.vmSize"),
    ("empty-prefix", ["prefix="], "prefix"),
    ("empty-location", ["location="], "location"),
    ("empty-namespace", ["namespace="], "namespace"),
    ("empty-pg-sku", ["postgres.skuName="], "postgres.skuName"),
    ("empty-model", ["modelStore.models[0]="], "modelStore.models"),
    # --set as the Pulumi CLI reads it
    ("no-equals", ["gpu"], "'gpu' has no '='"),
    ("value-then-path", ["gpu=3", "gpu.maxCount=1"], "gpu is a value"),
    ("index-past-end", ["modelStore.models[5]=tinyllama"], "index 5 is past the end"),
    ("bad-path", ["gpu..maxCount=1"], "not a config path"),
    ("yes-is-a-string", ["gpu.enabled=yes"], "gpu.enabled"),
    ("on-is-a-string", ["webui.enabled=on"], "webui.enabled"),
    ("section-as-value", ["cluster=big"], "cluster"),
    # Azure's lists and naming rules
    ("unknown-region", ["location=westeurop"], "location"),
    ("region-case", ["location=WestEurope"], "location"),
    ("rg-space", ["resourceGroupName=rg with space"], "resourceGroupName"),
    ("rg-too-long", ["resourceGroupName=" + "r" * 91], "resourceGroupName"),
    ("rg-trailing-dot", ["resourceGroupName=rg-llm."], "resourceGroupName"),
    ("cpu-size-unknown", ["cluster.workloadPool.vmSize=Standard_Foo"], "cluster.workloadPool.vmSize"),
    ("cpu-size-gpu", ["cluster.workloadPool.vmSize=Standard_NC4as_T4_v3"], "cluster.workloadPool.vmSize"),
    ("cpu-size-typo", ["cluster.systemPool.vmSize=Standard-D2s-v5"], "cluster.systemPool.vmSize"),
    ("pg-sku-unknown", ["postgres.skuName=Standard_B3ms"], "postgres.skuName"),
    ("pg-sku-wrong-tier", ["postgres.tier=MemoryOptimized", "postgres.skuName=Standard_D4ds_v5"],
     "postgres.skuName"),
    ("email-leading-hyphen", ["observability.alertEmails[0]=ops@-bad.com"], "observability.alertEmails"),
    ("email-double-dot", ["observability.alertEmails[0]=ops@example..com"], "observability.alertEmails"),
    ("email-underscore", ["observability.alertEmails[0]=ops@exa_mple.com"], "observability.alertEmails"),
    ("email-no-tld", ["observability.alertEmails[0]=ops@localhost"], "observability.alertEmails"),
    ("tls-email-bad", ["gateway.tls.mode=letsencrypt", "gateway.tls.hostname=llm.example.com",
                       "gateway.tls.email=me@@example.com"], "gateway.tls.email"),
    # collisions: two resources of one name
    ("ns-monitoring", ["namespace=monitoring"], "namespace"),
    ("ns-keda", ["namespace=keda"], "namespace"),
    ("ns-istio", ["namespace=istio-system"], "namespace"),
    ("ns-gateway", ["namespace=llmp-dev-gateway"], "namespace"),
    ("pool-named-fallback", ["gpu.fallback.enabled=true", "cluster.workloadPool.name=gpuod"],
     "cluster.workloadPool.name"),
    ("store-rg-is-platform-rg", ["modelStore.resourceGroupName=rg-llmp-dev"], "modelStore.resourceGroupName"),
    ("store-rg-case", ["modelStore.resourceGroupName=RG-LLMP-DEV"], "modelStore.resourceGroupName"),
    ("mig-slice-too-small", ["gpu.vmSize=Standard_NC24ads_A100_v4", "gpu.migProfile=MIG1g",
                             "inference.accelerator=gpu", "modelStore.models[0]=gpt-oss:20b"], "modelStore.models"),
    # contradictions
    ("fallback-without-gpu", ["gpu.enabled=false", "gpu.fallback.enabled=true"], "gpu.fallback.enabled"),
    ("spot-price-on-regular", ["gpu.priority=regular", "gpu.spotMaxPrice=0.5"], "gpu.spotMaxPrice"),
    ("tls-host-without-tls", ["gateway.tls.hostname=llm.example.com"], "gateway.tls.hostname"),
    ("zero-scale-min-1", ["autoscaling.scaleToZero=true", "autoscaling.minReplicas=1"], "autoscaling.scaleToZero"),
    # shapes and ranges the loader always refused, now through the CLI
    ("prefix-case", ["prefix=LLM"], "prefix"),
    ("prefix-long", ["prefix=" + "a" * 300], "prefix"),
    ("environment", ["environment=qa"], "environment"),
    ("namespace-shape", ["namespace=Bad_NS"], "namespace"),
    ("gpu-min-max", ["gpu.minCount=5", "gpu.maxCount=2"], "gpu.maxCount"),
    ("gpu-driver", ["gpu.driver=nouveau"], "gpu.driver"),
    ("gpu-priority", ["gpu.priority=cheap"], "gpu.priority"),
    ("gpu-mig", ["gpu.migProfile=MIG9g"], "gpu.migProfile"),
    ("gpu-pool-name", ["gpu.poolName=GPU"], "gpu.poolName"),
    ("cluster-tier", ["cluster.tier=Gold"], "cluster.tier"),
    ("cluster-zone", ["cluster.zones[0]=4"], "cluster.zones"),
    ("upgrade-channel", ["cluster.upgradeChannel=yolo"], "cluster.upgradeChannel"),
    ("system-min", ["cluster.systemPool.minCount=0"], "cluster.systemPool.minCount"),
    ("window-time", ["cluster.maintenanceWindow.startTime=25:00"], "cluster.maintenanceWindow.startTime"),
    ("window-offset", ["cluster.maintenanceWindow.utcOffset=+15:00"], "cluster.maintenanceWindow.utcOffset"),
    ("admin-guid", ["cluster.adminGroupObjectIds[0]=not-a-guid"], "cluster.adminGroupObjectIds"),
    ("authorized-none", ["cluster.apiAccess.mode=authorizedIps"], "cluster.apiAccess.authorizedIpRanges"),
    ("store-protocol", ["modelStore.protocol=ftp"], "modelStore.protocol"),
    ("store-size", ["modelStore.sizeGib=50"], "modelStore.sizeGib"),
    ("store-model", ["modelStore.models[0]=nonexistent"], "modelStore.models"),
    ("accelerator", ["inference.accelerator=tpu"], "inference.accelerator"),
    ("replicas", ["inference.replicas=-1"], "inference.replicas"),
    ("pg-version", ["postgres.version=12"], "postgres.version"),
    ("pg-database", ["postgres.database=Bad-Name"], "postgres.database"),
    ("kv-retention", ["keyVault.softDeleteRetentionDays=5"], "keyVault.softDeleteRetentionDays"),
    ("gateway-mode", ["gateway.mode=sideways"], "gateway.mode"),
    ("gateway-timeout", ["gateway.requestTimeoutSeconds=10"], "gateway.requestTimeoutSeconds"),
    ("autoscaling-mode", ["autoscaling.mode=magic"], "autoscaling.mode"),
    ("retention", ["observability.prometheusRetention=15 minutes"], "observability.prometheusRetention"),
    ("unknown-key", ["gpu.maxCont=3"], "gpu.maxCont"),
]

# (case id, stack file bytes, fragment): files the Pulumi CLI would refuse, or read differently than YAML 1.1 does
FILE_CASES = [
    ("unclosed-bracket", DEV + f"  {P}:namespace: [llm\n", "not valid YAML"),
    ("tab", DEV.replace("  aks-llm-platform:environment: dev", "\taks-llm-platform:environment: dev"),
     f"line {DEV.splitlines().index('  aks-llm-platform:environment: dev') + 1}"),
    ("stray-at", DEV + f"  {P}:prefix: @llmp\n", "not valid YAML"),
    ("file-is-a-list", "- config\n- nothing\n", "must be a mapping"),
    ("file-is-a-string", "just text\n", "must be a mapping"),
    ("config-is-a-list", "config:\n  - a\n", "`config:` must be a mapping"),
    ("section-is-a-list", DEV + f"  {P}:postgres: [1, 2]\n", "postgres must be an object"),
    ("two-documents", DEV + "---\nconfig: {}\n", "2 YAML documents"),
    ("not-utf8", DEV.encode() + b"  aks-llm-platform:prefix: \xff\xfe\n", "not UTF-8"),
    ("custom-tag", DEV + f"  {P}:prefix: !secret llmp\n", "YAML tag '!secret'"),
    ("timestamp-tag", DEV + f"  {P}:prefix: !!timestamp 2024-01-01\n", "type date"),
    ("unquoted-date", DEV + f"  {P}:keyVault:\n    softDeleteRetentionDays: 2024-01-01\n",
     "keyVault.softDeleteRetentionDays"),
    ("sexagesimal-int", DEV + f"  {P}:keyVault:\n    softDeleteRetentionDays: 10:30\n",
     "keyVault.softDeleteRetentionDays"),
    ("no-namespace", DEV + "  prefix: llmq\n", "'prefix' has no namespace"),
    ("misspelt-namespace", DEV + "  aks-llm-platfrom:prefix: llmq\n", "namespace 'aks-llm-platfrom'"),
    ("duplicate-key", DEV + f"  {P}:gpu:\n    maxCount: 3\n", "appears twice"),
    ("duplicate-nested", DEV.replace("    minCount: 0\n", "    minCount: 0\n    minCount: 1\n", 1), "appears twice"),
    ("yes-boolean", DEV + f"  {P}:protectStatefulResources: yes\n", "protectStatefulResources"),
    ("on-boolean", DEV.replace("    enabled: true\n", "    enabled: on\n", 1), "gpu.enabled"),
    ("huge-int", DEV + f"  {P}:keyVault:\n    softDeleteRetentionDays: {HUGE}\n", "cannot be read"),
    ("unknown-top-level", DEV + "extra: 1\n", "unknown top-level key 'extra'"),
    ("secret-value", DEV + f"  {P}:prefix:\n    secure: AAABADQ=\n", "is a secret"),
    ("nan-in-file", DEV.replace("    priority: spot\n", "    priority: spot\n    spotMaxPrice: .nan\n"),
     "gpu.spotMaxPrice"),
    ("inf-in-file", DEV.replace("    priority: spot\n", "    priority: spot\n    spotMaxPrice: .inf\n"),
     "gpu.spotMaxPrice"),
    ("control-char", DEV + f'  {P}:namespace: "ll\\u0007m"\n', "namespace"),
]


def _refused(capsys, tmp_path, argv):
    """Run the CLI; it must refuse with exit 1, one message, no traceback, and write nothing."""
    out = tmp_path / "build"
    code = plan_cli.main(["--stack", "dev", "--out", str(out), *argv])
    captured = capsys.readouterr()
    assert code == 1, captured.out[-500:] + captured.err
    assert "Traceback" not in captured.out + captured.err
    assert "had been registered" not in captured.err  # the CLI says when a refusal came after registrations
    assert not out.exists()
    return captured.err


def test_the_cli_says_when_a_refusal_came_after_registrations(monkeypatch, capsys, tmp_path):
    """The check above relies on this: a ProgramError carrying registrations is reported with its count."""
    def late_failure(*args, **kwargs):
        raise offline.ProgramError("boom", registered=7)
    monkeypatch.setattr(offline, "run", late_failure)
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path)]) == 1
    assert "(7 resources had been registered before this error)" in capsys.readouterr().err


@pytest.mark.parametrize("case, sets, fragment", SET_CASES, ids=[c[0] for c in SET_CASES])
def test_bad_set_is_refused_naming_the_key(case, sets, fragment, capsys, tmp_path):
    message = _refused(capsys, tmp_path, [arg for s in sets for arg in ("--set", s)])
    assert fragment in message, message


@pytest.mark.parametrize("case, content, fragment", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_stack_file_is_refused_naming_the_key_or_line(case, content, fragment, capsys, tmp_path):
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_bytes(content if isinstance(content, bytes) else content.encode())
    message = _refused(capsys, tmp_path, ["--stack-file", str(stack_file)])
    assert fragment in message, message


def test_the_catalogue_covers_at_least_80_cases():
    assert len(SET_CASES) + len(FILE_CASES) >= 80
    assert len({c[0] for c in SET_CASES + FILE_CASES}) == len(SET_CASES) + len(FILE_CASES)


def test_yaml_is_read_as_the_pulumi_cli_reads_it():
    """YAML 1.2 core schema: yes/on/dates/times stay strings; only true/false are booleans."""
    doc = parse_yaml(b"config:\n  p:a: yes\n  p:b: 10:30\n  p:c: 2024-01-01\n  p:d: true\n  p:e: 007\n", "f")
    assert project_config(doc, "p", "f") == {"a": "yes", "b": "10:30", "c": "2024-01-01", "d": True, "e": 7}


def test_provider_namespaces_are_left_to_their_providers():
    doc = parse_yaml(b"config:\n  azure-native:location: westeurope\n  p:prefix: abc\n", "f")
    assert project_config(doc, "p", "f") == {"prefix": "abc"}


def test_set_types_only_booleans_and_plain_integers(tmp_path):
    from offline.stackfile import apply_sets
    values = apply_sets({"modelStore": {"models": ["tinyllama"]}},
                        ["a=true", "b=007", "c=-12", "d=1.5", "e=10:30", "f=", "modelStore.models[1]=phi3.5"])
    assert values == {"modelStore": {"models": ["tinyllama", "phi3.5"]}, "a": True, "b": "007", "c": -12,
                      "d": "1.5", "e": "10:30", "f": ""}


def test_many_gpus_advisory_names_the_count():
    from config.advisories import advisories
    cfg = parse_config({"gpu": {"vmSize": "Standard_ND96isr_H100_v5", "maxCount": 100}}, "p", "s")
    assert any("800 H100 GPUs" in note for note in advisories(cfg))


# ---- property: random values and structures give a config or a ConfigError, nothing else ----------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=20), st.sampled_from(["", "yes", "on", "10:30", "2024-01-01", "-1", "³", "٣",
                                                            "westeurope", "Standard_D4s_v5", "10.0.0.0/8", "fd00::/8",
                                                            "1.33", "nan", "1e999"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                       max_leaves=12)
_KEYS = st.sampled_from(["environment", "prefix", "location", "namespace", "resourceGroupName", "gpu", "cluster",
                         "network", "modelStore", "inference", "webui", "postgres", "keyVault", "gateway",
                         "observability", "autoscaling", "protectStatefulResources", "bogus"])
_SECTION_KEYS = st.sampled_from(["vmSize", "minCount", "maxCount", "enabled", "priority", "spotMaxPrice", "fallback",
                                 "zones", "models", "sizeGib", "internalIp", "tls", "mode", "podCidr", "vnetCidr",
                                 "systemPool", "apiAccess", "replicas", "skuName", "tier", "alertEmails", "x"])
_CONFIGS = st.dictionaries(_KEYS, st.one_of(_VALUES, st.dictionaries(_SECTION_KEYS, _VALUES, max_size=5)),
                           max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_CONFIGS)
def test_loader_only_returns_a_config_or_raises_config_error(raw):
    try:
        parse_config(raw, "p", "s")
    except ConfigError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode) |
       _CONFIGS.map(lambda c: re.sub(r"^", "  ", repr(c), flags=re.M).encode()))
def test_stack_file_reader_only_returns_values_or_raises_config_error(data):
    try:
        doc = parse_yaml(b"config:\n" + data, "f")
        project_config(doc, "p", "f")
    except StackFileError as error:
        assert error.problems


def test_an_unreadable_stack_file_is_one_error(tmp_path):
    missing = Path(tmp_path) / "Pulumi.dev.yaml"
    missing.mkdir()
    with pytest.raises(StackFileError, match="cannot be read"):
        offline.stack_config("dev", stack_file=missing)


def test_prod_without_observability_is_advised():
    from config.advisories import advisories
    from offline.stackfile import read_stack_file
    raw = read_stack_file(PROJECT_DIR / "Pulumi.prod.yaml", P)
    raw["observability"] = {"enabled": False}
    raw["autoscaling"] = {"mode": "cpu"}
    raw["security"] = {"defender": False, "diagnostics": False}  # both report to Log Analytics
    notes = advisories(parse_config(raw, P, "prod"))
    assert any("observability is off in prod" in note and "no alerts" in note for note in notes)
