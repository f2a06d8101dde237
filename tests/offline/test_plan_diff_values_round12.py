"""What the PR check's value rules said that no test held (mutation testing, round twelve: docs/decisions.md
"Mutation testing, round twelve"): each test here fails on a mutant of offline/plan_diff/values.py (or on the code
before its fix) and passes on the code. Each goes through the check's entry point: two plan folders -> the report
and its exit code."""
from tests.offline.plan_diff_cli import check
from tests.offline.test_plan_diff_round4 import _cluster, _doc, _resource

POOL_TYPE = "azure-native:containerservice:AgentPool"


def _pool(version=None) -> dict:
    inputs = {"resourceGroupName": "rg", "resourceName": "aks", "agentPoolName": "gpu",
              **({} if version is None else {"orchestratorVersion": version})}
    return _resource(POOL_TYPE, "gpu", inputs)


def _cluster_and_pools(version) -> dict:
    system = {"name": "system", **({} if version is None else {"orchestratorVersion": version})}
    return _doc(_cluster("none", version, agentPoolProfiles=[system]), _pool(version))


def test_a_pool_version_given_as_its_own_minor_is_no_downgrade_as_the_clusters_is_not(tmp_path):
    """`cluster.kubernetesVersion` 1.34.2 -> 1.34 sets the cluster's and every pool's version: AKS reads a minor
    alone as that minor's newest patch and "updating ... with the same (major.minor) once it has been created (e.g.
    1.14.x -> 1.14) will not trigger an upgrade" (AgentPool.orchestratorVersion, Azure REST API reference), so the
    pools' noDowngrade refuses it no more than the cluster's kubernetesUpgrade does. A patch below, or a minor below,
    stays refused on each."""
    code, out = check(tmp_path, _cluster_and_pools("1.34.2"), _cluster_and_pools("1.34"))
    assert code == 0 and "a downgrade" not in out, out
    for lower in ("1.34.1", "1.33"):
        code, out = check(tmp_path, _cluster_and_pools("1.34.2"), _cluster_and_pools(lower))
        assert code == 1, (lower, out)
        for where in ("`kubernetesVersion`", "`agentPoolProfiles[0].orchestratorVersion`", "`orchestratorVersion`"):
            assert f'{where} "1.34.2" -> "{lower}"' in out and "a downgrade" in out, (lower, where, out)


def _grafana_release(persistence: dict) -> dict:
    return _resource("kubernetes:helm.sh/v3:Release", "kps",
                     {"name": "kps", "namespace": "monitoring", "version": "88.5.3", "chart": "kube-prometheus-stack",
                      "values": {"grafana": {"persistence": persistence}}})


def test_a_smaller_grafana_size_on_a_claim_the_chart_stops_rendering_is_no_shrink(tmp_path):
    """The other half of round five's test: persistence turned off in this change leaves the claim unrendered (Helm
    deletes it), so the smaller size patches nothing and is not refused; kept on, the same size is refused."""
    code, out = check(tmp_path, _doc(_grafana_release({"enabled": True, "size": "10Gi"})),
                      _doc(_grafana_release({"enabled": False, "size": "5Gi"})))
    assert code == 0 and "observability.grafanaStorageGib" not in out and "- Update: `" in out, out
    code, out = check(tmp_path, _doc(_grafana_release({"enabled": True, "size": "10Gi"})),
                      _doc(_grafana_release({"enabled": True, "size": "5Gi"})))
    assert code == 1 and "(stack key `observability.grafanaStorageGib`): smaller" in out, out


def test_a_pinned_cluster_raised_one_minor_or_one_patch_passes_without_a_check_and_two_minors_are_refused(tmp_path):
    """Under `none` the base's full pin is what runs: the next minor (AKS upgrades one minor at a time) or a later
    patch of the same minor is a plain upgrade, with no refusal and nothing to check; a minor skipped is refused."""
    for after in ("1.35", "1.35.2", "1.34.3"):
        code, out = check(tmp_path, _doc(_cluster("none", "1.34.2")), _doc(_cluster("none", after)))
        assert code == 0 and "Check before merging" not in out and "- Update: `" in out, (after, out)
    code, out = check(tmp_path, _doc(_cluster("none", "1.34.2")), _doc(_cluster("none", "1.36")))
    assert code == 1 and "skips 1 minor version(s)" in out, out


def test_a_pin_set_under_a_minor_moving_channel_with_no_base_version_names_no_base_version(tmp_path):
    """The `stable` channel's check line says the cluster may run a newer minor than the base's version only where
    the base gives one; without one it names none (no "the base's (unset)")."""
    code, out = check(tmp_path, _doc(_cluster("stable")), _doc(_cluster("stable", "1.35")))
    assert code == 0 and "`stable` auto-upgrade channel moves the cluster's minor version" in out, out
    assert "newer minor than the base's" not in out, out
    code, out = check(tmp_path, _doc(_cluster("stable", "1.34")), _doc(_cluster("stable", "1.35")))
    assert "so it may run a newer minor than the base's \"1.34\"" in out, out


def test_a_patch_pin_of_a_base_minor_alone_asks_for_the_running_patch_on_the_cluster_and_its_pools(tmp_path):
    """A base of `1.34` runs the patch AKS chose when it was set (its newest then; "updating ... with the same
    (major.minor) ... will not trigger an upgrade", AgentPool.orchestratorVersion, Azure REST API reference), which
    the plan does not hold: `1.34` -> `1.34.1` is below it if AKS chose `1.34.2`, and AKS refuses a downgrade. A
    check line on the cluster and on each pool, not a pass and not a refusal; a full pin's next patch needs none."""
    code, out = check(tmp_path, _cluster_and_pools("1.34"), _cluster_and_pools("1.34.1"))
    assert code == 0 and "- Update: `" in out, out
    lines = [x for x in out.splitlines() if x.startswith("- Check before merging:")]
    for where, running in (("`kubernetesVersion`", "currentKubernetesVersion"),
                           ("`agentPoolProfiles[0].orchestratorVersion`", "currentOrchestratorVersion"),
                           ("`orchestratorVersion`", "currentOrchestratorVersion")):
        line = next((x for x in lines if f'{where} "1.34" -> "1.34.1"' in x), "")
        assert "a minor alone" in line and running in line, (where, out)
    for before, after in (("1.34.1", "1.34.2"), ("1.34", "1.35.1")):  # a full pin's next patch; the next minor's
        code, out = check(tmp_path, _cluster_and_pools(before), _cluster_and_pools(after))
        assert code == 0 and "Check before merging" not in out, (before, after, out)


def test_an_ignored_new_patch_under_the_node_image_channel_is_told_as_an_upgrade_it_never_makes(tmp_path):
    """`node-image` upgrades node images only, never the Kubernetes version (MicrosoftDocs/azure-aks-docs
    articles/aks/auto-upgrade-cluster.md): a new patch in the stack file, ignored there, is made by nobody, as a
    new minor is; `patch` makes it (no line). The same minor given alone, or a lower patch, is no upgrade to tell."""
    def ignored(channel: str, version: str) -> dict:
        cluster = _cluster(channel, version)
        cluster["options"]["ignoreChanges"] = ["kubernetesVersion"]
        return _doc(cluster)
    never = "never makes this upgrade"
    code, out = check(tmp_path, ignored("node-image", "1.34.2"), ignored("node-image", "1.34.5"))
    assert code == 0 and never in out and "(it upgrades node images only" in out, out
    assert "the base gives no version" not in out, out  # it does: the line does not doubt it
    code, out = check(tmp_path, ignored("node-image", None), ignored("node-image", "1.35"))
    assert code == 0 and "ignored, and the base gives no version" in out and never in out, out
    for channel, before, after in (("patch", "1.34.2", "1.34.5"), ("node-image", "1.34.2", "1.34"),
                                   ("node-image", "1.34.2", "1.34.1")):
        code, out = check(tmp_path, ignored(channel, before), ignored(channel, after))
        assert code == 0 and never not in out and "- Ignored (" in out, (channel, before, after, out)


def _certificate(spec) -> dict:
    inputs = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
              "metadata": {"name": "gateway-tls", "namespace": "gateway"}, **({} if spec is None else {"spec": spec})}
    return _resource("kubernetes:cert-manager.io/v1:Certificate", "gateway-tls", inputs)


def test_a_certificates_new_dns_name_is_told_at_its_index_and_a_base_without_names_is_no_traceback(tmp_path):
    """A rule path ending in `[]` reads each item itself: a changed DNS name is a check line naming
    `spec.dnsNames[0]` with both names; names added where the base had no spec, a spec without names, or names that
    are not a list are told from (unset), without a traceback."""
    code, out = check(tmp_path, _doc(_certificate({"secretName": "tls", "dnsNames": ["a.example.com"]})),
                      _doc(_certificate({"secretName": "tls", "dnsNames": ["b.example.com"]})))
    assert code == 0 and ('`spec.dnsNames[0]` "a.example.com" -> "b.example.com" (stack key `gateway.tls.hostname`): '
                          "changed;") in out, out
    code, out = check(tmp_path, _doc(_certificate({"secretName": "tls", "dnsNames": ["a.example.com"]})),
                      _doc(_certificate({"secretName": "tls", "dnsNames": ["b.example.com", "c.example.com"]})))
    assert '`spec.dnsNames[0]` "a.example.com" -> "b.example.com"' in out, out  # a list of a new length: one path
    assert '`spec.dnsNames[1]` (unset) -> "c.example.com"' in out, out
    for base in (None, {"secretName": "tls"}, {"secretName": "tls", "dnsNames": "a.example.com"}):
        code, out = check(tmp_path, _doc(_certificate(base)),
                          _doc(_certificate({"secretName": "tls", "dnsNames": ["b.example.com"]})))
        assert code == 0 and '`spec.dnsNames[0]` (unset) -> "b.example.com"' in out, (base, out)


def test_a_postgres_resize_from_a_size_not_in_the_table_asks_nothing(tmp_path):
    """The connection-limit line needs both sizes' limits: from a size Microsoft's table does not hold (the base's
    limit unknown) nothing is said, as to one (round three's test holds that side)."""
    def server(sku: str) -> dict:
        return _doc(_resource("azure-native:dbforpostgresql:Server", "pg",
                              {"resourceGroupName": "rg", "serverName": "pg", "sku": {"name": sku}}))
    code, out = check(tmp_path, server("Standard_X9"), server("Standard_B2s"))
    assert code == 0 and "max_connections" not in out and "- Update: `" in out, out
    code, out = check(tmp_path, server("Standard_B1ms"), server("Standard_B2s"))
    assert code == 0 and "created with (50 if at Standard_B1ms" in out, out


def test_an_inline_pool_downgraded_beside_a_pool_added_is_refused(tmp_path):
    """changed_keys gives a list whose length changed as one path (`agentPoolProfiles`): the rules under it
    (`agentPoolProfiles[].orchestratorVersion`) still judge each item, so the first pool's downgrade is refused."""
    def cluster(*versions: str) -> dict:
        pools = [{"name": f"pool{i}", "orchestratorVersion": v} for i, v in enumerate(versions)]
        return _doc(_cluster("none", "1.34", agentPoolProfiles=pools))
    code, out = check(tmp_path, cluster("1.34"), cluster("1.33", "1.34"))
    assert code == 1 and '`agentPoolProfiles[0].orchestratorVersion` "1.34" -> "1.33"' in out, out
    assert "a downgrade" in out, out
