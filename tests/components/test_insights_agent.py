"""Container Insights' agent ConfigMap (`kube-system/container-azm-ms-agentconfig`) with a team's own settings:
Observability's `insights_agent_settings` written into it, `insights_agent_config: False` leaving it out, and the
stack's `observability.insightsAgentSettings` / `insightsAgentConfig`; the names taken are those the agent's parsers
read (microsoft/Docker-Provider 3.1.24 tomlparser*.rb, transcribed with their lines in the package's
data/insights_agent_settings.json), held to Microsoft's template (kubernetes/container-azm-ms-agentconfig.yaml,
vendored)."""
import re
import tomllib
from typing import Any

import pytest
from llmplatform import ComponentInputError
from llmplatform.input_rules.smaller import INSIGHTS_AGENT_READS, INSIGHTS_AGENT_SECTIONS
from llmplatform.testing import run

from offline import plan as plan_cli
from tests.components.test_observability import agent_config_template
from tests.components.test_own_cluster import WORKSPACES, _observability

AGENT = "kubernetes:core/v1:ConfigMap"
# A team's own agent settings: more namespaces left out, multiline stack traces, no environment variables, and
# Prometheus scraping (another data key of the same ConfigMap)
TEAMS = {"log_collection_settings": {
             "stdout": {"exclude_namespaces": ["kube-system", "gatekeeper-system", "noisy"]},
             "env_var": {"enabled": False},
             "enable_multiline_logs": {"enabled": "true", "stacktrace_languages": ["go", "python"]}},
         "prometheus_data_collection_settings": {
             "cluster": {"interval": "1m", "monitor_kubernetes_pods": True,
                         "monitor_kubernetes_pods_namespaces": ["llm"]}}}


def agent_configs(plan: Any) -> list[dict[str, Any]]:
    return [r.inputs for r in plan.of_type(AGENT) if r.inputs["metadata"].get("namespace") == "kube-system"]


def read_as_the_agent(data: dict[str, str]) -> dict[str, Any]:
    """Each TOML data key as the agent's parsers read it (tomlparser*.rb: Tomlrb, one top-level table a key)."""
    return {key: tomllib.loads(text) for key, text in data.items() if key not in ("schema-version", "config-version")}


def template_settings() -> dict[tuple[str, str], tuple[str, set[str]]]:
    """Each section of Microsoft's template, commented ones too: its data key and the settings it names there."""
    sections: dict[tuple[str, str], tuple[str, set[str]]] = {}
    for key, text in agent_config_template()["data"].items():
        current = None
        for line in str(text).splitlines():
            line = line.strip().lstrip("#").strip()
            header = re.fullmatch(r"\[([a-z_]+)\.([a-z0-9_]+)\]", line)
            if header and not (key == "log-data-collection-settings" and header[1] != "log_collection_settings"):
                current = (header[1], header[2])  # (that data key's comment points at agent-settings' k8s_metadata)
                sections[current] = (key, set())
            elif current and (setting := re.match(r"([A-Za-z0-9_]+)\s*=", line)):
                sections[current][1].add(setting[1])
    return sections


def test_every_section_and_setting_the_template_shows_is_one_the_agent_reads_but_two_it_no_longer_does():
    """The parsers' names (the package's data file) against the vendored template: every section it shows, in its
    data key, and every setting it names there, is read; but agent_settings' windows_fluent_bit and
    resource_optimization, read by no parser since Docker-Provider #1317, which the data file names so."""
    template = template_settings()
    unread = {tuple(name.split(".")) for name in INSIGHTS_AGENT_READS["template_only"]}
    assert unread == {("agent_settings", "windows_fluent_bit"), ("agent_settings", "resource_optimization")}
    for (table, section), (key, settings) in template.items():
        if (table, section) in unread:
            assert section not in INSIGHTS_AGENT_SECTIONS[table][1]
            continue
        assert INSIGHTS_AGENT_SECTIONS[table][0] == key, (table, key)
        assert settings <= set(INSIGHTS_AGENT_SECTIONS[table][1][section]), (table, section)
    # what the parsers read beyond the template: the five sections it does not show
    shown = {(t, s) for t, s in template}
    assert {(t, s) for t, (_, sections) in INSIGHTS_AGENT_SECTIONS.items() for s in sections} - shown == {
        ("log_collection_settings", "route_container_logs"), ("agent_settings", "custom_metrics"),
        ("agent_settings", "geneva_tenant_fbit_settings"), ("agent_settings", "multiline"),
        ("integrations", "geneva_logs")}


def test_a_teams_own_settings_are_written_over_observabilitys_and_every_kind_of_event_still_collected():
    [agent] = agent_configs(run(_observability(WORKSPACES, insights_agent_settings=TEAMS)))
    template = agent_config_template()["data"]
    assert set(agent["data"]) == {"schema-version", "config-version", "log-data-collection-settings",
                                  "prometheus-data-collection-settings"} <= set(template)
    assert agent["data"]["schema-version"] == template["schema-version"]
    read = read_as_the_agent(agent["data"])
    defaults = tomllib.loads(template["log-data-collection-settings"])["log_collection_settings"]
    assert read["log-data-collection-settings"] == {"log_collection_settings": {
        "stdout": {**defaults["stdout"], "exclude_namespaces": ["kube-system", "gatekeeper-system", "noisy"]},
        "stderr": defaults["stderr"], "collect_all_kube_events": {"enabled": True},
        "env_var": {"enabled": False},
        "enable_multiline_logs": {"enabled": "true", "stacktrace_languages": ["go", "python"]}}}
    assert read["prometheus-data-collection-settings"] == {"prometheus_data_collection_settings": {
        "cluster": TEAMS["prometheus_data_collection_settings"]["cluster"]}}


def test_without_settings_the_configmap_is_observabilitys_alone():
    [agent] = agent_configs(run(_observability(WORKSPACES)))
    assert list(read_as_the_agent(agent["data"])) == ["log-data-collection-settings"]


def test_insights_agent_config_false_leaves_the_configmap_to_the_team_and_keeps_the_data_collection():
    plan = run(_observability(WORKSPACES, insights_agent_config=False))
    assert agent_configs(plan) == []
    assert plan.of_type("azure-native:monitor:DataCollectionRule")


@pytest.mark.parametrize("settings, refusal", [
    ({"log_collection_settings": {"stdot": {"enabled": False}}},
     "insights_agent_settings['log_collection_settings']['stdot']='stdot' is invalid; allowed: did you mean "
     "'stdout'? a section the agent reads of log_collection_settings: stdout, stderr,"),
    ({"log_collection_setting": {"stdout": {"enabled": False}}},
     "insights_agent_settings['log_collection_setting']='log_collection_setting' is invalid; allowed: did you mean "
     "'log_collection_settings'? a table the agent reads of its ConfigMap (microsoft/Docker-Provider 3.1.24 "
     "tomlparser*.rb)"),
    ({"log_collection_settings": {"collect_all_kube_events": {"enabled": False}}},
     "insights_agent_settings['log_collection_settings']['collect_all_kube_events']['enabled']=False is invalid; "
     "allowed: true, what Observability writes the ConfigMap for"),
    ({"agent_settings": {"high_log_scale": {"enabled": "false"}}},
     "insights_agent_settings['agent_settings']['high_log_scale']['enabled']='false' is invalid; allowed: false: high "
     "log scale mode sends the Microsoft-ContainerLogV2-HighScale stream"),
    ({"log_collection_settings": {"stdout": {"exclude_namespaces": ["a", 1]}}},
     "insights_agent_settings['log_collection_settings']['stdout']['exclude_namespaces']=['a', 1] is invalid; "
     "allowed: a string, true or false, a whole or finite number, or a list of one kind of those"),
    ({"log_collection_settings": {"stdout": "off"}},
     "insights_agent_settings['log_collection_settings']['stdout']='off' is invalid; allowed: an object of that "
     "section's settings"),
    # a setting no parser reads: before, any name was written, and one the parsers do not read changed nothing
    ({"log_collection_settings": {"stdout": {"exclude_namespace": ["noisy"]}}},
     "insights_agent_settings['log_collection_settings']['stdout']['exclude_namespace']='exclude_namespace' is "
     "invalid; allowed: did you mean 'exclude_namespaces'? a setting the agent reads of log_collection_settings."
     "stdout: enabled, exclude_namespaces, collect_system_pod_logs"),
    ({"agent_settings": {"chunk_config": {"pods_chunk_size": 10}}},  # a Ruby symbol: the case is the name's
     "insights_agent_settings['agent_settings']['chunk_config']['pods_chunk_size']='pods_chunk_size' is invalid; "
     "allowed: did you mean 'PODS_CHUNK_SIZE'? a setting the agent reads of agent_settings.chunk_config:"),
    ({"prometheus_data_collection_settings": {"node": {"monitor_kubernetes_pods": True}}},  # the cluster section's
     "['node']['monitor_kubernetes_pods']='monitor_kubernetes_pods' is invalid; allowed: a setting the agent reads "
     "of prometheus_data_collection_settings.node: interval, fieldpass, fielddrop, urls"),
    ({"agent_settings": {"windows_fluent_bit": {"disabled": "false"}}},
     "insights_agent_settings['agent_settings']['windows_fluent_bit']='windows_fluent_bit' is invalid; allowed: "
     "none: shown commented in kubernetes/container-azm-ms-agentconfig.yaml (8a1ef67c), read by no parser since "
     "Docker-Provider #1317"),
])
def test_an_unread_section_or_a_held_setting_is_refused_by_name_before_anything_registers(settings, refusal):
    with pytest.raises(ComponentInputError) as error:
        run(_observability(WORKSPACES, insights_agent_settings=settings))
    assert refusal in str(error.value)


# The five sections the agent's parsers read that the template does not show, each in its own data key
UNSHOWN = {"log_collection_settings": {"route_container_logs": {"version": "v2"}},
           "agent_settings": {"multiline": {"enabled": "true"}, "custom_metrics": {"enabled": False},
                              "geneva_tenant_fbit_settings": {"output_forward_workers": 10}},
           "integrations": {"geneva_logs": {"enabled": False}}}


def test_sections_the_agent_reads_beyond_the_template_are_written_in_their_data_key():
    """Refused as unknown before (the template's names alone were taken)."""
    [agent] = agent_configs(run(_observability(WORKSPACES, insights_agent_settings=UNSHOWN)))
    read = read_as_the_agent(agent["data"])
    assert read["log-data-collection-settings"]["log_collection_settings"]["route_container_logs"] == {"version": "v2"}
    assert read["agent-settings"] == {"agent_settings": UNSHOWN["agent_settings"]}
    assert read["integrations"] == {"integrations": UNSHOWN["integrations"]}


@pytest.mark.parametrize("switch", [{"insights_agent_config": False}, {"azure_data_collection": False}])
def test_settings_no_configmap_carries_are_refused(switch):
    with pytest.raises(ComponentInputError) as error:
        run(_observability(WORKSPACES, insights_agent_settings=TEAMS, **switch))
    name = next(iter(switch))
    assert (f"insights_agent_settings=['log_collection_settings', 'prometheus_data_collection_settings'] is "
            f"invalid; allowed: none while {name} is false: Observability writes no agent ConfigMap then") \
        in str(error.value)


def test_the_stack_writes_a_teams_settings_and_leaves_the_configmap_out_on_its_switch(tmp_path):
    out = tmp_path / "settings"
    assert plan_cli.main(["--stack", "prod", "--out", str(out), "--set",
                          "observability.insightsAgentSettings.log_collection_settings.env_var.enabled=false"]) == 0
    written = (out / "prod.what-if" / "manifests").glob("*.yaml")
    agent = next(p.read_text() for p in written if "container-azm-ms-agentconfig" in p.read_text())
    assert "[log_collection_settings.env_var]" in agent and "enabled = false" in agent
    out = tmp_path / "switch"
    assert plan_cli.main(["--stack", "prod", "--out", str(out), "--set",
                          "observability.insightsAgentConfig=false"]) == 0
    assert not any("container-azm-ms-agentconfig" in p.read_text()
                   for p in (out / "prod.what-if" / "manifests").glob("*.yaml"))


@pytest.mark.parametrize("key, refusal", [
    ("log_collection_settings.stdot.enabled",  # a section
     "observability.insightsAgentSettings['log_collection_settings']['stdot'] 'stdot' is invalid; allowed: did you "
     "mean 'stdout'? a section the agent reads of log_collection_settings: stdout, stderr,"),
    ("log_collection_settings.env_var.enable",  # a setting
     "observability.insightsAgentSettings['log_collection_settings']['env_var']['enable'] 'enable' is invalid; "
     "allowed: did you mean 'enabled'? a setting the agent reads of log_collection_settings.env_var: enabled"),
])
def test_the_stack_refuses_what_the_agent_does_not_read_by_its_key(tmp_path, capsys, key, refusal):
    """Named by the key as written: the template's names are not the stack's camelCase."""
    code = plan_cli.main(["--stack", "prod", "--out", str(tmp_path), "--set",
                          f"observability.insightsAgentSettings.{key}=false"])
    assert code != 0
    assert refusal in capsys.readouterr().err


def test_the_stack_refuses_a_switch_without_azure_monitor(tmp_path, capsys):
    assert plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set",
                          "observability.insightsAgentConfig=false"]) != 0
    assert ("observability.insightsAgentConfig needs observability.enabled and observability.azureMonitor true"
            in capsys.readouterr().err)
