"""What the PR check's value rules, chart-bump and rollout lines said that no test held (mutation testing, round five:
docs/decisions.md "Mutation testing, round five"): each test here fails on a mutant of offline/plan_diff/values.py,
chart_bumps.py or rollouts.py that every other test passed, and passes on the code. Each goes through the check's
entry point: two plan folders -> the report and its exit code."""
from tests.offline.plan_diff_cli import check
from tests.offline.test_plan_diff_round4 import _cluster, _doc, _line, _resource


def test_a_kubernetes_version_dropped_or_a_minor_given_for_its_own_patch_is_no_downgrade(tmp_path):
    """`1.34.2` -> unset (AKS keeps what runs) and `1.34.2` -> `1.34` (the minor's newest patch, AKS's reading of a
    minor alone) pass: no refusal, no traceback; `1.34.2` -> `1.34.1` is refused as a downgrade. Under the `patch`
    channel the minor alone asks nothing either, while a new patch pin asks for the patch the cluster runs."""
    for after in (None, "1.34"):
        code, out = check(tmp_path, _doc(_cluster("none", "1.34.2")), _doc(_cluster("none", after)))
        assert code == 0 and "a downgrade" not in out and "- Update: `" in out, (after, out)
    code, out = check(tmp_path, _doc(_cluster("none", "1.34.2")), _doc(_cluster("none", "1.34.1")))
    assert code == 1 and "`kubernetesVersion` \"1.34.2\" -> \"1.34.1\"" in out and "a downgrade" in out, out
    # under `patch` the cluster runs the minor's newest patch: a minor alone asks nothing (a patch pin would)
    code, out = check(tmp_path, _doc(_cluster("patch", "1.34.2")), _doc(_cluster("patch", "1.34")))
    assert code == 0 and "Check before merging" not in out and "- Update: `" in out, out
    code, out = check(tmp_path, _doc(_cluster("patch", "1.34.2")), _doc(_cluster("patch", "1.34.3")))
    assert code == 0 and "may run a newer patch of 1.34" in out, out


SERVER_TYPE = "azure-native:dbforpostgresql:Server"


def _server(**inputs) -> dict:
    return _resource(SERVER_TYPE, "pg", {"resourceGroupName": "rg", "serverName": "pg", **inputs})


def test_a_postgres_version_written_as_a_number_is_still_compared(tmp_path):
    """A program of one's own may pass the server's `version` as a number: "17" -> 16 is still the downgrade Azure
    refuses, and "16" -> 17 the major upgrade to check, as with strings."""
    code, out = check(tmp_path, _doc(_server(version="17")), _doc(_server(version=16)))
    assert code == 1 and "`version` \"17\" -> 16" in out and "a downgrade" in out, out
    code, out = check(tmp_path, _doc(_server(version="16")), _doc(_server(version=17)))
    assert code == 0 and "`version` \"16\" -> 17" in out and "an upgrade" in out, out


def test_a_new_minor_pinned_under_the_patch_channel_asks_nothing_of_the_running_patch(tmp_path):
    """Under `patch` the cluster runs past the base's patch but stays on its minor: the next minor pinned is the
    one-minor upgrade AKS makes from any patch of it, no "may run a newer patch" line (that is for the same minor)."""
    code, out = check(tmp_path, _doc(_cluster("patch", "1.34.2")), _doc(_cluster("patch", "1.35.1")))
    assert code == 0 and "Check before merging" not in out and "- Update: `" in out, out


def test_a_smaller_grafana_size_on_a_claim_the_chart_starts_rendering_is_no_shrink(tmp_path):
    """The Grafana claim's size rule holds only where the chart renders the claim before and after: persistence
    turned on in this change makes a new claim, whose size is no shrink of the base's unrendered value."""
    def release(persistence: dict) -> dict:
        return _resource("kubernetes:helm.sh/v3:Release", "kps",
                         {"name": "kps", "namespace": "monitoring", "version": "88.5.3",
                          "chart": "kube-prometheus-stack", "values": {"grafana": {"persistence": persistence}}})
    code, out = check(tmp_path, _doc(release({"enabled": False, "size": "10Gi"})),
                      _doc(release({"enabled": True, "size": "5Gi"})))
    assert code == 0 and "observability.grafanaStorageGib" not in out and "- Update: `" in out, out
