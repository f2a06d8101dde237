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
