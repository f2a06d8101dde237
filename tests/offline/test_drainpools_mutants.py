"""Mutation round sixteen's mutants left unrun (node_drains' `_shared_text` and `check_node_drains`' last lines,
share_snapshots' `protect_share` last lines), run by drainpools: what their survivors showed no test read
(docs/decisions.md, "Spot pools' pods in the stack's drain")."""
from offline import deploy_model
from tests.offline.test_node_drains_round16 import _scale_down_grace


def test_a_scale_down_that_cuts_a_pod_fails_make_plan_under_the_node_drain_rule(prod):
    """Planted: prod's autoscaler at AKS's 600 s. `make plan` (deploy_model.evaluate) refuses each pod that takes
    longer to stop on an autoscaled pool, under the node-drain rule it prints ("[node-drain] ..."): the router, the
    UI, the KEDA interceptor (1830 s) and Ollama (630 s) on both GPU pools. A problem under no rule printed "[]"."""
    problems = [p for p in deploy_model.evaluate(_scale_down_grace(prod, "600")).problems
                if "kills them after 600 s" in p.message]
    assert sorted(str(p).split(":")[0] for p in problems) == sorted([
        "[node-drain] Deployment llm/router", "[node-drain] Deployment llm/open-webui",
        "[node-drain] chart keda-add-ons-http", "[node-drain] Deployment llm/ollama",
        "[node-drain] Deployment llm/ollama"])
