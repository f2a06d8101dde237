"""Where each secret of a run goes, on every planned stack (each variant, the global stack, both regions).

A run's secrets are what the stand-ins answer for them: a RandomPassword's result (the API keys, Open-WebUI's
session key and admin password, Grafana's and Postgres' passwords), a storage account key, an Entra token, a
cluster's kubeconfig; the values made from them carry them (a database URL, the API gate's key map). The engine
stores an input encrypted only where it is a secret (pulumi/pulumi `sdk/go/common/resource/plugin/rpc.go`
`MarshalPropertyValue` keeps the secret mark per value; `pkg/resource/stack/deployment.go` `SerializePropertyValue`
encrypts only marked values), so each must reach state under its registration's secret paths, a stack output only
marked secret, the cluster only in a Kubernetes Secret's data, and our logs and plan files never.

The kit's stand-ins do not mark RandomPassword.result secret as the engine does (pulumi-random's SDK asks for
`additional_secret_outputs=["bcryptHash", "result"]`, which the SDK's mock monitor ignores): a value the program
takes from it without `pulumi.Output.secret` shows here as plain, stricter than a real run.
"""
from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest
from pulumi.runtime.mocks import MockCallArgs

from llmplatform.testing.api_server import TOKEN_PREFIX
from llmplatform.testing.stand_ins import OfflineMocks, _mock_state, _secret_paths, _unwrap_secrets
from offline.plan import REDACTED, manifests, resources_document, tree
from offline.plan_diff.leaves import leaf_items
from tests.conftest import PLANNED, planned


def _answers() -> tuple[str, ...]:
    """The secret values the stand-ins hand out, asked of them as the program asks."""
    password = _mock_state("random:index/randomPassword:RandomPassword", "probe", {})[1]["result"]
    keys = OfflineMocks().call(MockCallArgs("azure-native:storage:listStorageAccountKeys",
                                            {"resourceGroupName": "rg", "accountName": "probe"}, ""))
    return password, keys["keys"][0]["value"]


# each value, as the program may carry it: itself, base64-encoded (a Secret's `data`), percent-encoded (a URL's
# password, postgres_access.database_url); every Entra token the stand-in hands out; a kubeconfig by its key
SECRETS = tuple({form for value in _answers() for form in (value, base64.b64encode(value.encode()).decode(),
                                                            quote(value, safe=""))}) + (TOKEN_PREFIX,
                                                                                         "current-context")
SECRET_KINDS = ("kubernetes:core/v1:Secret",)


def _holds_secret(value: Any) -> bool:
    text = value if isinstance(value, str) else json.dumps(value)
    return any(secret in text for secret in SECRETS)


def _lines_holding_secrets(text: str) -> list[int]:
    """Where a text holds a secret, by line number (an assertion names where, never the secret)."""
    return [i for i, line in enumerate(text.splitlines(), 1) if _holds_secret(line)]


def _under(path: str, secret_paths: list[str]) -> bool:
    return any(p == "." or path == p or path.startswith((p + ".", p + "[")) for p in secret_paths)


def _plain_secrets(value: Any, secret_paths: list[str]) -> list[str]:
    """The paths of `value` that hold a secret and are not under one of `secret_paths`."""
    if not _holds_secret(value):  # most registrations: one scan of their text
        return []
    return [path for path, item in leaf_items(value) if _holds_secret(item) and not _under(path, secret_paths)]


@pytest.mark.parametrize("name", PLANNED)
def test_every_secret_reaches_state_under_a_secret_path(name):
    """(a) An input holding a secret is stored encrypted: a Helm value, a Secret's stringData, a provider's
    kubeconfig, a Key Vault secret's value, made with apply or format from a secret, must still be one."""
    plan = planned(name)
    leaks = [(r.type, r.name, path) for r in [*plan.resources, *plan.default_providers]
             for path in _plain_secrets(r.inputs, r.secret_paths)]
    assert not leaks, f"{name}: secrets stored in plain text: {leaks}"


@pytest.mark.parametrize("name", PLANNED)
def test_no_secret_in_an_output_not_marked_secret(name):
    """(b) The stack's outputs, and each component's registered outputs (the engine keeps them in state as the
    component's outputs: `step_executor.go` `ExecuteRegisterResourceOutputs`)."""
    plan = planned(name)
    plain = [key for key, value in plan.outputs.items() if key not in plan.secret_outputs and _holds_secret(value)]
    assert not plain, f"{name}: stack outputs holding a secret, not marked secret: {plain}"
    leaks = [(r.type, r.name, path) for r in plan.resources if r.outputs
             for path in _plain_secrets(_unwrap_secrets(r.outputs), _secret_paths(r.outputs))]
    assert not leaks, f"{name}: component outputs holding a secret, not marked secret: {leaks}"


@pytest.mark.parametrize("name", PLANNED)
def test_a_secret_reaches_the_cluster_only_in_a_kubernetes_secrets_data(name):
    """(c) Encrypted in state is not enough: an object in the cluster is read by whoever may read its kind. A secret
    goes only into a Secret's data or stringData, never into an env value, a ConfigMap, an annotation or a label,
    nor into a chart's values (our charts take an existing Secret's name)."""
    plan = planned(name)
    found = []
    for r in plan.resources:
        if r.type in SECRET_KINDS:
            where = {k: v for k, v in r.inputs.items() if k not in ("data", "stringData")}
        elif r.is_kubernetes_object or r.type == "kubernetes:helm.sh/v3:Release":
            where = r.inputs
        else:
            continue
        found += [(r.type, r.name, path) for path in _plain_secrets(where, [])]
    assert not found, f"{name}: secrets in cluster objects outside a Secret's data: {found}"


@pytest.mark.parametrize("name", PLANNED)
def test_plan_files_and_what_the_plan_prints_show_no_secret(name):
    """(d, e) `make plan` prints the tree and the warnings, and writes resources.json and the manifests: each
    secret input appears there as `[secret]`, and no secret value anywhere."""
    plan = planned(name)
    document = resources_document(plan)
    lines = _lines_holding_secrets(json.dumps([document, manifests(plan)], indent=1))
    assert not lines, f"{name}: a secret value in resources.json or the manifests, lines {lines}"
    printed = "\n".join([tree(plan), *plan.warnings])
    lines = _lines_holding_secrets(printed)
    assert not lines, f"{name}: a secret value in what `make plan` prints, lines {lines}"
    shown = {r["urn"]: r for r in document["resources"]}
    for r in plan.resources:
        for path in r.secret_paths:
            value = dict(leaf_items(shown[r.urn]["inputs"]))
            held = [v for p, v in value.items() if _under(p, [path])]
            assert held and set(held) == {REDACTED}, (name, r.name, path)


def test_vllm_takes_no_credential_as_a_plain_setting_or_argument():
    """(c) LlmdStack's escape hatches reach vLLM's Deployment as env values and arguments, plain text in the cluster,
    in state and in the plan files. A Hugging Face token (HF_TOKEN, `--hf-token`) or vLLM's own key (VLLM_API_KEY,
    `--api-key`: tests/upstream/settings/vllm.txt, huggingface_hub.txt) is refused there, as OpenWebUi's extra_env
    refuses a secret: the token has hf_token_secret (Key Vault, through the CSI driver)."""
    from llmplatform.input_rules import llmd_stack
    def hatches(args):
        return [p for p in llmd_stack(args) if p.path in ("extra_env", "extra_args")]
    for env in ({"HF_TOKEN": "hf_x"}, {"HUGGING_FACE_HUB_TOKEN": "hf_x"}, {"VLLM_API_KEY": "k"},
                {"S3_SECRET_ACCESS_KEY": "s"}):
        found = hatches({"extra_env": env})
        assert [(p.path, p.value) for p in found] == [("extra_env", sorted(env))], env
        assert "hf_token_secret" in found[0].sentence()
    for args in (["--hf-token", "hf_x"], ["--api-key=k", "--max-num-seqs", "64"]):
        found = hatches({"extra_args": args})
        assert [(p.path, p.value) for p in found] == [("extra_args", [args[0].split("=")[0]])], args
    # a managed flag and a credential are both named at once (the input is validated whole)
    found = hatches({"extra_args": ["--port", "9000", "--hf-token", "hf_x"]})
    assert [(p.path, p.value) for p in found] == [("extra_args", ["--port"]), ("extra_args", ["--hf-token"])]
    # switches and plain settings still pass: huggingface_hub's HF_HUB_DISABLE_IMPLICIT_TOKEN is a boolean
    assert hatches({"extra_env": {"HF_HUB_DISABLE_IMPLICIT_TOKEN": "1", "VLLM_LOGGING_LEVEL": "DEBUG"},
                       "extra_args": ["--max-num-seqs", "64"]}) == []


def test_ollama_takes_no_credential_as_a_plain_setting():
    """(c) OllamaServer's extra_env reaches Ollama's Deployment as env values: Ollama reads OLLAMA_API_KEY and a proxy
    URL (tests/upstream/settings/ollama.txt), which would be plain text in the cluster, in state and in the plan
    files; refused by name and by a URL's password, as OpenWebUi's and LlmdStack's are. Plain settings still pass."""
    from llmplatform.input_rules import ollama_server

    def refused(env):
        return [p.value for p in ollama_server({"extra_env": env}) if p.path == "extra_env"]
    assert refused({"OLLAMA_API_KEY": "k", "OLLAMA_CONTEXT_LENGTH": "8192"}) == [["OLLAMA_API_KEY"]]
    assert refused({"HTTPS_PROXY": "http://user:pw@proxy:3128"}) == [["HTTPS_PROXY"]]
    assert refused({"HTTPS_PROXY": "http://proxy:3128", "OLLAMA_FLASH_ATTENTION": "1"}) == []


def test_an_input_naming_a_key_vault_secret_never_shows_a_value_pasted_in_its_place():
    """An input that names a Key Vault secret (every `*_secret` input, an alert receiver's `secret`, a map of them)
    refuses a value that is no such name without showing it: it may be the secret itself, pasted in place of its
    name (an Entra client secret, a Hugging Face token, a webhook URL), and refusals go into CI logs. In the
    components' sentences (what the component provider and a Python caller print) and in the stack config's."""
    import llmplatform
    from config.loader import parse_config
    from config.reader import ConfigError
    from llmplatform.input_rules import RULES
    from tests.components.test_components_alone import args_type
    from tests.config.test_loader import stack_raw
    pasted = "Abc~8Q~fake.client_secret/value"
    checked = 0
    for name, rules in RULES.items():
        for key in (k for k in args_type(getattr(llmplatform, name)).__annotations__ if k.endswith(("secret", "_env"))):
            found = [p.sentence() for p in rules({key: pasted}) if p.path == key]
            assert not any(pasted in s for s in found), found
            checked += bool(found)
    assert checked >= 18  # each component's secret names and secret maps, refused
    found = [p.sentence() for p in RULES["Observability"]({"alert_receiver": {"kind": "slack", "secret": pasted}})]
    assert found and not any(pasted in s for s in found), found
    for stack, overrides in (("llmd", {"llmd": {"hfTokenSecret": pasted}}),
                             ("llmd", {"llmd": {"hfTokenSecret": "\n".join([pasted] * 9)}}),
                             ("dev", {"observability": {"alertReceiver": {"kind": "slack", "secret": pasted}}}),
                             ("dev", {"observability": {"alertReceiver": pasted}}),
                             ("dev", {"webui": {"secretEnv": pasted}})):
        with pytest.raises(ConfigError) as refused:
            parse_config(stack_raw(stack, overrides), "p", stack)
        assert pasted[:10] not in str(refused.value), refused.value.problems


def test_a_url_s_password_is_never_shown_in_a_refusal():
    """A URL given with its credential (`https://user:password@host`) where a registry, an endpoint or a name
    belongs is refused by its shape, the password shown as `***`, in the stack config's messages and the
    components' sentences alike."""
    from config.loader import parse_config
    from config.reader import ConfigError
    from llmplatform.input_rules import RULES
    from tests.config.test_loader import stack_raw
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("dev", {"cluster": {"imageRegistry": "https://ci:hunter2@myreg.azurecr.io"},
                                       "modelStore": {"models": ["https://ci:hunter2/x@registry.ollama.ai/llama3"]}}),
                     "p", "dev")
    assert "cluster.imageRegistry 'https://ci:***@myreg.azurecr.io' is invalid; allowed: a registry host without " \
           "a scheme (e.g. myreg.azurecr.io)" in refused.value.problems
    assert "modelStore.models[0] 'https://ci:***@registry.ollama.ai/llama3' is invalid" in str(refused.value)
    (found,) = [p.sentence() for p in RULES["ApiGate"]({"endpoint": {"api": "openai",
                                                                    "base_url": "http://ci:hunter2@ollama:11434"}})]
    assert found.startswith("input endpoint.base_url='http://ci:***@ollama:11434' is invalid"), found
    assert "hunter2" not in str(refused.value) + found
    # a token given as the user name alone (`https://<token>@host`), in the config's messages and the components'
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("dev", {"cluster": {"imageRegistry": "https://ghp_tokenpart123@myreg.azurecr.io"}}),
                     "p", "dev")
    (found,) = [p.sentence() for p in RULES["ApiGate"]({"endpoint": {"api": "openai",
                                                                    "base_url": "http://tokenpart456@ollama:11434"}})]
    assert "cluster.imageRegistry 'https://***@myreg.azurecr.io' is invalid" in str(refused.value)
    assert found.startswith("input endpoint.base_url='http://***@ollama:11434' is invalid"), found
    assert "tokenpart" not in str(refused.value) + found


def test_a_webhook_url_given_for_an_alert_address_is_shown_up_to_its_host():
    """A Slack or Teams webhook pasted into alertEmails (a team wanting its alerts in a channel): refused as no
    address, shown up to its host, its path and query (the webhook's token) not at all."""
    from config.loader import parse_config
    from config.reader import ConfigError
    from tests.config.test_loader import stack_raw
    hooks = ["https://hooks.slack.com/services/T0001/B0001/slacktokenpart123",
             "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/teamstoken?sig=teamssig456",
             "hooks.slack.com/services/T0001/B0001/slacktokenpart123"]  # copied without its scheme
    with pytest.raises(ConfigError) as refused:
        parse_config(stack_raw("dev", {"observability": {"alertEmails": hooks}}), "p", "dev")
    assert "observability.alertEmails[0] 'https://hooks.slack.com/...' is invalid; allowed: an e-mail address" \
        in refused.value.problems
    assert "observability.alertEmails[1] 'https://contoso.webhook.office.com/...' is invalid" in str(refused.value)
    assert "observability.alertEmails[2] 'hooks.slack.com/...' is invalid" in str(refused.value)
    assert not [word for word in ("slacktokenpart", "teamstoken", "teamssig", "services/T0001")
                if word in str(refused.value)], refused.value.problems
    # the webhook given in place of the list (`--set observability.alertEmails=<url>`), or beside an empty entry:
    # the list's own refusal shows it up to its host too
    for given in (hooks[0], [hooks[0], ""]):
        with pytest.raises(ConfigError) as refused:
            parse_config(stack_raw("dev", {"observability": {"alertEmails": given}}), "p", "dev")
        assert "https://hooks.slack.com/..." in str(refused.value) and "services/T0001" not in str(refused.value), \
            refused.value.problems


def test_a_credential_without_a_scheme_or_a_key_in_a_switch_is_not_shown(tmp_path, capsys):
    """`user:password@host` as docker's login takes a registry (no scheme), and a key pasted into a true/false
    setting (`gateway.apiKeyAuth`), through `make plan`'s own entry point: refused by name, neither value printed. A
    digest-pinned image and an e-mail address keep their text."""
    from llmplatform.rules import without_password
    from offline import plan as plan_cli
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set",
                          "cluster.imageRegistry=ci:hunter2@myreg.azurecr.io", "--set",
                          "gateway.apiKeyAuth=sk-live-abcdef123456"])
    captured = capsys.readouterr()
    assert code == 1 and "hunter2" not in captured.out + captured.err and "abcdef" not in captured.out + captured.err
    assert "cluster.imageRegistry 'ci:***@myreg.azurecr.io' is invalid" in captured.err
    assert "gateway.apiKeyAuth must be true or false, got a text of 20 characters, not shown" in captured.err
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path), "--set", "gateway.apiKeyAuth=enabled"])
    assert code == 1 and "got 'enabled'" in capsys.readouterr().err  # a word is shown
    for kept in ("ollama/ollama:0.5.1@sha256:ab12", "ollama:0.5.1@sha256:ab12", "myreg.io:5000/img@sha256:ab12",
                 "platform@example.com"):
        assert without_password(kept) == kept
