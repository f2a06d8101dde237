"""Azure naming rules (components/llmplatform/azure_names.py): each case derived from the upstream rule it encodes,
then cross-checked against Azure/terraform-azurerm-naming's resourceDefinition.json (vendored in tests/upstream/)."""

import json
import re
import string

import pytest
from llmplatform import azure_names as names, azure_names
from hypothesis import given, settings, strategies as st

from tests.conftest import upstream_dir


@pytest.mark.parametrize("rule, good, bad", [
    (names.storage_account, ["st1", "stteamamodels", "a" * 24], ["st", "St-Team", "a" * 25, "st_team"]),
    (names.key_vault, ["kv1", "kv-team-a-llm", "K" * 24], ["kv", "1kv", "kv-", "kv--a", "k" * 25, "kv_a"]),
    (names.postgres_server, ["psq", "psql-team-1"], ["ps", "-psql", "psql-", "PSQL", "p" * 64]),
    (names.aks_cluster, ["a", "aks-Team-1", "a" * 54], ["aks_team", "-aks", "aks-", "a" * 55]),
    (names.agent_pool, ["gpu", "system", "a" * 12], ["GPU", "1gpu", "gpu-a", "a" * 13]),
    (names.resource_group, ["rg", "rg-a.b_(c)"], ["rg.", "r" * 91, "rg a", "rg-café"]),  # Go's \w: ASCII
    (names.file_share, ["models", "m0d"], ["mo", "Models", "a--b", "-ab"]),
    (names.dns_label, ["llm", "a" * 63], ["LLM", "llm_", "-llm", "a" * 64]),
    # apimachinery IsDNS1123Subdomain: labels of any length joined by '.' (the rule took `a..b`, `a.-b`, `a-.b`)
    (names.dns_subdomain, ["sa", "llm.gateway", "a" * 253, "a" * 100 + "." + "b" * 100],
     ["a..b", "a.-b", "a-.b", ".a", "a.", "A", "a_b", "a" * 254, "", "a\n"]),
    (names.managed_identity, ["id-a", "id_a"], ["id", "-id-a"]),
    (names.key_vault_secret, ["a", "api-key"], ["api_key", "a" * 128]),
    (names.recovery_services_vault, ["rs", "rsv-stmodels1", "R" * 50], ["r", "1rsv", "rsv-", "rsv_a", "r" * 51]),
])
def test_azure_naming_rules(rule, good, bad):
    assert [n for n in good if rule(n)] == []
    assert [n for n in bad if not rule(n)] == []


_DEFINITIONS = {d["name"]: d for d in json.loads(
    (upstream_dir() / "azure-naming" / "resourceDefinition.json").read_text())}

# rule -> (module definition, relation, shortest): "same" = one verdict for every name; "stricter" = ours accepts
# a subset. Below `shortest` the module's regex (first, middle+, last character) cannot match although its own
# length table allows the name: there ours is held to that table's minimum only.
PAIRS = {
    "storage_account": ("storage_account", "same", 0),
    "key_vault": ("key_vault", "same", 0),
    "key_vault_secret": ("key_vault_secret", "same", 0),
    "file_share": ("storage_share", "same", 0),
    # the module's regex needs three characters (first, middle+, last); Azure's pattern takes two
    "recovery_services_vault": ("recovery_services_vault", "same", 3),
    "virtual_network": ("virtual_network", "same", 3),
    "resource_group": ("resource_group", "same", 2),
    # the module leaves out the first-character rule Microsoft's table gives (letter or number)
    "managed_identity": ("user_assigned_identity", "stricter", 0),
    # Azure lowercases PostgreSQL server names; ours asks for lowercase up front
    "postgres_server": ("postgresql_server", "stricter", 0),
    # the cluster name is also the DNS prefix here (1-54, no '_' or '.')
    "aks_cluster": ("kubernetes_cluster", "stricter", 3),
}

_ALPHABET = string.ascii_letters + string.digits + "-_.()"
_names = st.one_of(st.text(alphabet=_ALPHABET, max_size=130),
                   st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=70))


def _theirs(definition: dict, name: str) -> bool:
    length = definition["length"]
    return (re.fullmatch(definition["regex"], name) is not None
            and length["min"] <= len(name) <= length["max"])


def test_every_pair_names_a_rule_and_a_definition():
    for rule, (definition, _, _) in PAIRS.items():
        assert callable(getattr(azure_names, rule)), rule
        assert definition in _DEFINITIONS, definition


@settings(max_examples=400, deadline=None)
@given(_names)
def test_the_package_agrees_with_the_azure_naming_module(name):
    for rule, (definition, relation, shortest) in PAIRS.items():
        ours = getattr(azure_names, rule)(name) is None
        if len(name) < shortest:
            assert not ours or len(name) >= _DEFINITIONS[definition]["length"]["min"], \
                f"{rule} accepts {name!r}, shorter than Azure allows"
            continue
        theirs = _theirs(_DEFINITIONS[definition], name)
        if relation == "stricter":
            assert theirs or not ours, f"{rule} accepts {name!r}, which Azure refuses"
        else:
            assert ours == theirs, f"{rule}: {name!r} ours={ours} Azure={theirs}"


def test_known_names_on_both_sides():
    """Edge names of each rule, so the property above is not left to chance."""
    cases = {"storage_account": ["abc", "ab", "a" * 24, "a" * 25, "Abc", "ab-c"],
             "key_vault": ["kv1", "1kv", "kv-", "k--v", "k-v", "a" * 24, "a" * 25],
             "file_share": ["abc", "a--b", "-ab", "ab-", "a" * 63, "a" * 64, "Abc"],
             "virtual_network": ["vn_", "vn.", "-vn", "a" * 64, "a" * 65]}
    for rule, names in cases.items():
        definition = _DEFINITIONS[PAIRS[rule][0]]
        for name in names:
            assert (getattr(azure_names, rule)(name) is None) == _theirs(definition, name), (rule, name)


# each rule's length range as its message states it (and as its upstream rule, named at the rule, gives it): the
# shortest and the longest name taken, one character fewer and one more refused. Found by mutation testing: a bound
# moved by one (`{0,89}` to `{1,89}`, `{1,61}` to `{1,60}`) passed every case above.
@pytest.mark.parametrize("rule, shortest, longest", [
    (names.storage_account, 3, 24), (names.key_vault, 3, 24), (names.postgres_server, 3, 63),
    (names.aks_cluster, 1, 54), (names.agent_pool, 1, 12), (names.resource_group, 1, 90),
    (names.virtual_network, 2, 64), (names.managed_identity, 3, 128), (names.key_vault_secret, 1, 127),
    (names.budget, 1, 63), (names.file_share, 3, 63), (names.dns_label, 1, 63), (names.dns_subdomain, 1, 253),
    (names.postgres_database, 1, 63), (names.name_prefix, 1, 40), (names.azure_name_start, 1, 40),
    (names.recovery_services_vault, 2, 50),
])
def test_each_rule_takes_exactly_the_lengths_its_message_states(rule, shortest, longest):
    assert [n for n in range(shortest, longest + 1) if rule("a" * n)] == []
    too_long, too_short = rule("a" * (longest + 1)), rule("a" * (shortest - 1))
    assert too_long is not None and str(longest) in too_long and too_short is not None


def test_a_new_namespace_is_a_dns_label_and_none_of_kubernetes_own():
    for own in names.KUBERNETES_NAMESPACES:
        assert "a namespace other than Kubernetes' own" in names.new_namespace(own)
    assert names.new_namespace("team-a") is None
    assert names.new_namespace("Team_A") == names.dns_label("Team_A") is not None  # the label's own message


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_lowercase + string.digits, min_size=3, max_size=24))
def test_a_model_stores_snapshot_vault_is_named_within_azures_rule_from_any_account_name(account):
    """ModelStore's vault is `rsv-<account_name>` (share_snapshots.vault_name): from any storage account name Azure
    takes, a name Azure's vault rule takes too, so the store needs no vault-name input of its own."""
    from llmplatform.share_snapshots import vault_name
    assert names.storage_account(account) is None
    assert names.recovery_services_vault(vault_name(account)) is None
