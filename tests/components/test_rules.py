"""The rule machinery (components/llmplatform/rules.py): outputs left alone, problems named as their reader knows the
input, Kubernetes quantities."""

from llmplatform.input_rules import aks_cluster, inference_stack
from llmplatform.rules import Problem, is_output, nearest_names, nearest_or_all, parse_quantity, shown, without_outputs


def test_rules_leave_outputs_alone():
    class Output:  # what a pulumi.Output looks like to the rules, by its module and its apply
        __module__ = "pulumi.output"

        def apply(self, f):
            return self
    assert is_output(Output()) and not is_output("x")
    assert aks_cluster({"cluster_name": Output(), "network": Output(), "tier": Output()}) == []


def test_an_output_inside_a_shown_value_is_named_not_its_object():
    class Output:
        __module__ = "pulumi.output"

        def apply(self, f):
            return self
    assert repr(without_outputs({"a": [1, Output()], "b": (Output(),), "c": "x"})) == \
        "{'a': [1, <output>], 'b': (<output>,), 'c': 'x'}"
    assert shown({"a": [1, Output()]}) == "{'a': [1, <output>]}" and shown(Output()).startswith("an Output")


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


GPU_POOL_INPUTS = ["cluster", "vm_size", "gpu_sku", "pool_name", "min_count", "max_count", "priority", "spot_max_price",
                   "fallback", "driver", "install_device_software", "os_disk_size_gb", "max_pods", "mig_profile",
                   "zones", "tags"]


def test_a_mistyped_input_name_is_matched_by_its_words_not_its_nearest_letters():
    """`max_nodes` is one letter from `max_pods` but means `max_count` (AKS's CLI and Terraform count nodes); a
    name whose words are all another input's, spelt another way, is that input; two names as likely are both named;
    a name that shares no word and only a few letters gets the list."""
    cases = {"max_nodes": ["max_count"], "min_nodes": ["min_count"], "node_count": ["min_count", "max_count"],
             "vm_sku": ["vm_size"], "vmSize": ["vm_size"], "vmsize": ["vm_size"], "size": ["vm_size"],
             "priorty": ["priority"], "min_cont": ["min_count"], "gpu_driver": ["driver"], "mig": ["mig_profile"],
             "disk_size": ["os_disk_size_gb"], "zone": ["zones"], "taints": [], "label": []}
    assert {typo: nearest_names(typo, GPU_POOL_INPUTS) for typo in cases} == cases
    assert nearest_or_all("max_nodes", GPU_POOL_INPUTS, "inputs") == "did you mean 'max_count'?"
    assert nearest_or_all("node_count", GPU_POOL_INPUTS, "inputs") == "did you mean 'min_count' or 'max_count'?"
    assert nearest_or_all("taints", GPU_POOL_INPUTS, "inputs").startswith("inputs: cluster, driver, fallback")
    # the config layer's camelCase keys read the same way
    assert nearest_names("maxCont", ["minCount", "maxCount", "vmSize"]) == ["maxCount"]
