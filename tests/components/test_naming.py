"""Names the components derive (components/llmplatform/naming.py)."""
from llmplatform.naming import indexed_name


def test_an_item_named_after_its_name_keeps_the_alias_of_its_position_name():
    (alias,) = indexed_name("edge-api", 1, ["westeurope", "swedencentral"])
    assert alias.name == "edge-api-1"
    (alias,) = indexed_name("edge", 0, ["westeurope"], "-api-key-map")
    assert alias.name == "edge-0-api-key-map"


def test_no_position_alias_when_an_item_is_named_by_digits():
    """Items "1" and "0" in that order: the first's position name would be the second's own name, which the engine
    refuses (an alias that is another resource)."""
    assert indexed_name("fleet", 0, ["1", "0"]) == []
    assert indexed_name("fleet", 1, ["weu", "2"]) == []


def test_content_names_are_the_sha256_of_their_parts_at_a_fixed_length():
    """A derived name is part of a resource's name: another length or hash renames (replaces) the resource on the next
    `pulumi up`, so the lengths and the hash are pinned (found by mutation testing: 6 -> 5 passed every test)."""
    import hashlib
    from llmplatform.naming import content_suffix, short_hash
    assert short_hash("a", "b") == hashlib.sha256(b"a/b").hexdigest()[:6] == "c14cdd"
    assert content_suffix("x") == hashlib.sha256(b"x").hexdigest()[:8] == "2d711642"


def test_a_budget_name_is_kept_up_to_63_characters_and_cut_with_its_hash_beyond():
    from llmplatform.naming import budget_name, short_hash
    assert budget_name("x" * 56) == "budget-" + "x" * 56  # 63: as it is
    long = budget_name("x" * 57)
    assert long == "budget-" + "x" * 49 + "-" + short_hash("budget-" + "x" * 57) and len(long) == 63
    assert budget_name("x" * 57) != budget_name("x" * 56 + "y")  # distinct parts, distinct names
    assert budget_name("team a", "llm/prod") == "budget-team-a-llm-prod"


def test_a_secret_name_is_letters_digits_and_hyphens_of_at_most_127():
    from llmplatform.naming import secret_name
    assert secret_name("--key vault/secret--") == "key-vault-secret"
    assert secret_name("a" * 200) == "a" * 127
