"""The rule machinery (components/llmplatform/rules.py): outputs left alone, problems named as their reader knows the
input, Kubernetes quantities."""

from llmplatform.input_rules import aks_cluster, inference_stack
from llmplatform.rules import Problem, is_output, parse_quantity


def test_rules_leave_outputs_alone():
    class Output:  # what a pulumi.Output looks like to the rules, by its module and its apply
        __module__ = "pulumi.output"

        def apply(self, f):
            return self
    assert is_output(Output()) and not is_output("x")
    assert aks_cluster({"cluster_name": Output(), "network": Output(), "tier": Output()}) == []


def test_problems_name_other_inputs_as_their_reader_knows_them():
    problem = Problem("max_count", 0, "at least {min_count} (1)")
    assert problem.sentence() == "input max_count=0 is invalid; allowed: at least min_count (1)"
    assert problem.reason(lambda p: "gpu.minCount") == "0 is invalid; allowed: at least gpu.minCount (1)"


def test_kubernetes_quantities():
    assert parse_quantity("500m") * 2 == 1 and parse_quantity("4Gi") == 4 * 2**30
    assert parse_quantity("two") is None and parse_quantity("4GB") is None
    found = inference_stack({"webui_resources": {"cpu_request": "2", "cpu_limit": "1", "memory_request": "1Gi",
                                                 "memory_limit": "1Gi"}})
    assert [p.path for p in found] == ["webui_resources.cpu_limit"]
