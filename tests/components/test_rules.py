"""The rule machinery (components/llmplatform/rules.py): outputs left alone, problems named as their reader knows the
input, Kubernetes quantities."""

from decimal import Decimal

import pytest

from llmplatform.input_rules import aks_cluster, inference_stack
from llmplatform.rules import (PROMETHEUS_DURATION, Problem, go_duration_seconds, is_output, keep_alive_problem,
                               nearest_names, nearest_or_all, parse_quantity, shown, without_outputs)


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


# What the API server takes (kubernetes/apimachinery 357557a6 pkg/api/resource quantity.go, suffix.go) and its value
# in base units; then what it refuses.
SERVER_TAKES = {".5Gi": Decimal(2**29), "5.": 5, "1.G": 10**9, "+2": 2, "-1": -1, "1e3": 1000, "1E3": 1000,
                "2e-3": Decimal("0.002"), "1E+2": 100, "1E": 10**18, "1Ei": 2**60, "500n": Decimal("5e-7"),
                "100u": Decimal("0.0001"), "0.25k": 250, "007": 7, " 1Gi ": 2**30}
SERVER_REFUSES = ["", ".", "1e", "e3", "1K", "1ki", "1mi", "1Gi5", "1.5.5", "--1", "1 Gi", "1e3Gi", "1.5e", "0x10",
                  "NaN", "Infinity", "1_000", "1e99999999999999999999"]


def test_a_quantity_is_read_as_the_api_server_reads_it():
    """One grammar for the config's checks, the capacity check and the PR check: the server's. A `.5Gi` or `1e3`
    that Kubernetes takes was refused by the config (and read by the capacity check with a hand parser of its own,
    and by the PR check not at all: a claim shrunk from `1Gi` to `1e9` passed)."""
    assert {text: parse_quantity(text) for text in SERVER_TAKES} == SERVER_TAKES
    assert {text: parse_quantity(text) for text in SERVER_REFUSES} == dict.fromkeys(SERVER_REFUSES)


def test_a_request_or_limit_is_a_quantity_the_server_takes_for_one():
    """`.5Gi` and `1e-1` are requests Kubernetes takes; a negative one its validation refuses, named once (not again
    as a limit under its request)."""
    assert inference_stack({"webui_resources": {"cpu_request": "1e-1", "cpu_limit": "2", "memory_request": ".5Gi",
                                                 "memory_limit": "1Gi"}}) == []
    found = inference_stack({"webui_resources": {"cpu_request": "1", "cpu_limit": "-2", "memory_request": "1Gi",
                                                 "memory_limit": "1Gi"}})
    assert [(p.path, p.allowed) for p in found] == [
        ("webui_resources.cpu_limit", "a Kubernetes quantity, not negative, like '500m', '2' or '4Gi'")]
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
    # Azure calls it a region and its API a location: AksCluster's input and the stack config's key are `location`
    assert nearest_names("region", ["cluster_name", "resource_group_name", "location", "tier"]) == ["location"]
    # the config layer's camelCase keys read the same way
    assert nearest_names("maxCont", ["minCount", "maxCount", "vmSize"]) == ["maxCount"]


# Go's time.ParseDuration (src/time/format.go), which Pulumi's engine applies to every customTimeouts value: what it
# takes, in seconds, and what it refuses
GO_TAKES = {"30m": 1800, "1h30m": 5400, "500ms": 0.5, "-1.5h": -5400, "+2s": 2, ".5m": 30, "5.m": 300, "1\u00b5s": 1e-6,
            "1\u03bcs": 1e-6, "1us": 1e-6, "3ns": 3e-9, "0": 0, "-0": 0, "1h1m1s": 3661}
GO_REFUSES = ["", "30", "00", "m", ".s", ".", "+", "30 minutes", "1hour", "1m 30s", "1e3s", "1mh", "1ms5", "30M",
              "9999999999h", None, 1800]


def test_a_custom_timeout_is_read_as_the_engine_reads_it():
    """The deploy model and the stand-in engine read a customTimeouts value with a parser that knew h, m and s only:
    `500ms` was 500 minutes and `1500ms` 1,500; Go's durations are read now, and what Go refuses is no duration."""
    got = {text: go_duration_seconds(text) for text in GO_TAKES}
    assert got == pytest.approx(GO_TAKES) and all(isinstance(v, float) for v in got.values())
    assert {str(text): go_duration_seconds(text) for text in GO_REFUSES} == dict.fromkeys(map(str, GO_REFUSES))


def test_a_keep_alive_is_what_ollama_reads_and_a_value_it_would_drop_is_refused():
    """OLLAMA_KEEP_ALIVE is a Go duration or whole seconds (ollama/ollama fb307609 envconfig/config.go `KeepAlive`);
    anything else Ollama replaces by 5 minutes without a word. The input took only `-1`, `0` and one number with
    s, m or h: `1h30m`, `300` and `-5m`, which Ollama reads, were refused."""
    taken = ["1h30m", "300", "-1", "-5m", "0", "+10", "90s", "2h", "500ms"]
    assert [v for v in taken if keep_alive_problem(v)] == []
    assert [p.path for p in inference_stack({"keep_alive": "1h30m"}) if p.path == "keep_alive"] == []
    refused = ["forever", "30 minutes", "1e3", "5 m", "1.5", "99999999999", ""]
    assert [keep_alive_problem(v) for v in refused] == [
        "a Go duration like '30m', '1h30m' or '0', or whole seconds like '300'; a negative one keeps models "
        "loaded"] * len(refused)


def test_a_prometheus_retention_is_what_the_prometheus_crd_takes():
    """The retention rule took one number with h, d, w or y; the Prometheus CRD's pattern (prometheus-operator
    v0.93.1) takes units in order, combined (`30d12h`, `90m`); the rule takes the same, but for the empty string
    and `0` the pattern also matches."""
    import re
    import yaml
    from tests.conftest import UPSTREAM
    crd = yaml.safe_load((UPSTREAM / "crds" / "monitoring.coreos.com" / "Prometheus.yaml").read_text())
    crd_pattern = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
        "retention"]["pattern"]
    for value in ["15d", "4w", "30d12h", "90m", "1y2w", "6h30m15s", "500ms", "0", "", "15D", "12h30d", "two weeks",
                  "15 d", "-1d", "1.5d"]:
        crd_takes = bool(re.search(crd_pattern, value)) and value not in ("", "0")
        assert (PROMETHEUS_DURATION(value) is None) == crd_takes, value


def test_a_model_id_is_what_huggingface_hub_takes_and_its_name_a_label_value():
    """vLLM downloads the model through huggingface_hub, which refuses an id its `validate_repo_id` refuses
    (0a57df9c src/huggingface_hub/utils/_validators.py); the name, lowercased, labels the vLLM pods. The rule took
    `org/model-`, `a--b/c`, `org/m.git`, a 64-96 character name (no label). A bare name stays refused: the Hub's
    legacy ones moved under a namespace, and `llama3` is an Ollama name."""
    from llmplatform.rules import HF_MODEL
    takes = ["Qwen/Qwen3-8B", "meta-llama/Llama-3.1-8B-Instruct", "openai-community/gpt2", "org_/model_1",
             "a/b", "Org.Name/Model.v2", "x/" + "m" * 63]
    refuses = ["gpt2", "llama3", "org/model-", "org/.model", "-org/model", "a--b/c", "org/a..b", "org/m.git", "a/b/c",
               "", "/model",
               "org/", "org/mödel", "org/model name", "x/" + "m" * 97,
               "x/" + "m" * 64, "org/model_", "org/_model"]  # huggingface_hub takes the last three; no label value
    for model in takes:
        assert HF_MODEL(model) is None, model
    for model in refuses:
        assert HF_MODEL(model), model


def test_an_acme_hostname_and_contact_are_what_lets_encrypt_takes():
    """Boulder (letsencrypt/boulder 038170a4 policy/pa.go `validDomain`, `ValidEmail`) refuses more than 10 labels,
    more than 253 characters, a '--' label that is no punycode and a private TLD; it takes an IDN TLD, which the old
    pattern (letters only) refused. A contact's local part is a dot-atom to Go's net/mail."""
    from llmplatform.rules import acme_email_problem, public_dns_name_problem
    takes = ["llm.example.com", "a.io", "llm.xn--p1ai", "xn--bcher-kva.de", "x" * 63 + ".io",
             ".".join(["a"] * 9) + ".com"]
    refuses = ["llm", "a.b", "LLM.example.com", "llm.example.com.", "*.example.com", "10.0.0.1", "llm.internal",
               "gpu.corp", "llm.local", "ai.home.arpa", "a.test", "ab--cd.example.com", "xn--zz-.example.com", "xn---abc.example.com",
               ".".join(["a"] * 10) + ".com", ("a" * 60 + ".") * 4 + "a" * 10 + ".com", "-a.example.com",
               "a_b.example.com",
               "llm.c0m", "x" * 64 + ".io"]
    for name in takes:
        assert public_dns_name_problem(name) is None, name
    for name in refuses:
        assert public_dns_name_problem(name), name
    for address in ["ops@yourcompany.com", "o.p+s@Corp.Example.COM", "ops@llm.xn--p1ai"]:
        assert acme_email_problem(address) is None, address
    for address in [".ops@corp.com", "ops.@corp.com", "o..ps@corp.com", "ops@localhost", "ops@corp.internal",
                    "ops@@corp.com", "ops", "@corp.com", "o" * 65 + "@corp.com", "ops@corp.com."]:
        assert acme_email_problem(address), address


def test_an_image_is_what_a_container_runtime_parses():
    """distribution/reference 00a09fa3 (regexp.go `referencePat`, reference.go `Parse`: a repository path, the name
    less its registry and `library/` before a Docker Hub name of one component, of at most 255). The pin check
    only looked at the tag: an upper-case path, a '..' or a space passed to a pod the kubelet fails with
    InvalidImageName."""
    from llmplatform.pins import image_reference_problem
    digest = "@sha256:" + "a" * 64
    takes = ["vllm/vllm-openai:v0.10.0", "docker.io/vllm/vllm-openai:v0.10.0", "localhost:5000/a/b:1.2",
             "My.Registry.io/team/vllm:v1.2", "[::1]:5000/vllm:v1.2", "ghcr.io/llm-d/epp:v0.3.0" + digest,
             "a__b/c--d:1.2", "vllm" + digest, "x:" + "t" * 128,
             "VLLM/vllm-openai:v0.10.0",  # parsed: VLLM is a registry host to the runtime (normalize.go)
             "r.io/" + "a" * 251 + ":v1.2", "my.registry.io/" + "a" * 255, "a" * 247 + ":v1.2"]  # the path's 255
    refuses = ["vllm/VLLM:v1.2", "r.io/VLLM/x:v1.2", "vllm/vllm..openai:v1.2", "vllm/-x:v1.2",
               "vllm/vllm-openai:v1.2 ", " vllm:v1.2", "vllm/vllm-openai:.v1", "vllm:v1.2@sha256:abc",
               "vllm//x:v1.2", "vllm/vllm_:v1.2", "x:" + "t" * 129, "r.io/" + "a" * 256 + ":v1.2",
               "a" * 248 + ":v1.2", "docker.io/" + "a" * 248, "team/" + "a" * 251, ""]  # library/, team/ count
    for image in takes:
        assert image_reference_problem(image) is None, image
    for image in refuses:
        assert image_reference_problem(image), image


def test_an_open_webui_admin_address_is_what_its_sign_in_field_takes():
    """The HTML standard's valid e-mail address (whatwg/html, input type=email), which Open-WebUI's sign-in field
    (`type="email"`) lets through; its server takes any text and lowercases it. The rule took only addresses with a
    dotted letter TLD: `admin@localhost`, Open-WebUI's own no-auth admin, was refused."""
    from llmplatform.rules import SIGN_IN_EMAIL
    for address in ["ops@example.com", "admin@localhost", "a.b+c@corp.internal", ".x..y.@host", "o@h-1.x2",
                    "Ops@Corp.COM", "x" * 80 + "@h"]:
        assert SIGN_IN_EMAIL(address) is None, address
    for address in ["ops", "@host", "ops@", "ops@-host", "ops@host-", "ops@host..com", "ops@host.", "o ps@host",
                    "ops@ho_st", "ops@h\u00f6st", "o@" + "h" * 64, "ops@@host", "\"o p\"@host"]:
        assert SIGN_IN_EMAIL(address), address
