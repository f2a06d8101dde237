"""The engine's ignoreChanges as offline/plan_diff/ignore_changes.py transcribes it, held to pulumi/pulumi's own test
tables (1b594989, `sdk/go/common/resource/properties_path_test.go` `TestPropertyPath` and `TestReset`, the cases
without secrets: the plans hold secret values plain)."""
import copy

import pytest

from offline.plan_diff.ignore_changes import process_ignore_changes, reset
from offline.property_path import parse_path

PARSED = [
    ("root", ["root"]), ("root.nested", ["root", "nested"]), ('root["nested"]', ["root", "nested"]),
    ('root["double"]["nest"]', ["root", "double", "nest"]), ("root.array[0].nested", ["root", "array", 0, "nested"]),
    ("root.array2[0][1].nested", ["root", "array2", 0, 1, "nested"]),
    ('root["key with \\"escaped\\" quotes"]', ["root", 'key with "escaped" quotes']),
    ('root["key with a ."]', ["root", "key with a ."]), ('["root key with a ."][1]', ["root key with a .", 1]),
    ("root.array.[1]", ["root", "array", 1]), ('root.["key with a ."]', ["root", "key with a ."]),
    ('root["*"].field[1]', ["root", "*", "field", 1]), ("root[*].field[2]", ["root", "*", "field", 2]),
    ("root[3].*[3]", ["root", 3, "*", 3]), ("*.bar", ["*", "bar"]),
    ("agentPoolProfiles[0].count", ["agentPoolProfiles", 0, "count"]),
]


@pytest.mark.parametrize("path, parsed", PARSED)
def test_a_path_parses_as_the_engine_parses_it(path, parsed):
    assert parse_path(path) == parsed


@pytest.mark.parametrize("path", ["root[", 'root["nested]', "root.array[abc]", "root.", ".root"])
def test_a_path_the_engine_cannot_parse_is_skipped(path):
    assert parse_path(path) is None
    assert process_ignore_changes({"root": 1}, {"root": 2}, [path]) == ({"root": 2}, [])


# (name, path, old, new, new after the reset or None for a path error), TestReset's cases in its order
RESET = [
    ("Missing key, not in object", ["missing"], {"root": 1}, {"root": 2}, {"root": 2}),
    ("Missing key, not an object", ["root", "missing"], {"root": 1}, {"root": 2}, {"root": 2}),
    ("Missing index, changed from an object", ["root", "nested"], {"root": {"nested": 1}}, {"root": 2}, None),
    ("Missing index, changed to an object", ["root", "nested"], {"root": 1}, {"root": {"nested": 2}}, {"root": {}}),
    ("Missing key along path, not in object", ["missing", "path"], {"root": 1}, {"root": 2}, {"root": 2}),
    ("Missing key along path, not an object", ["root", "missing", "path"], {"root": 1}, {"root": 2}, {"root": 2}),
    ("Missing index, not in array", ["array", 1], {"array": [1]}, {"array": [1]}, {"array": [1]}),
    ("Missing index, not an array", ["root", 0], {"root": 1}, {"root": 2}, {"root": 2}),
    ("Missing index, changed from an array", ["root", 0], {"root": [1]}, {"root": 2}, None),
    ("Missing index, changed to an array", ["root", 0], {"root": 1}, {"root": [2]}, None),
    ("Invalid index, not in array", ["array", -1], {"array": [1]}, {"array": [1]}, None),
    ("Invalid index, not an array", ["root", -1], {"root": 1}, {"root": 2}, None),
    ("Index out of bound in old", ["root", 1], {"root": [2]}, {"root": [3, 4]}, None),
    ("Index out of bound in new", ["root", 1], {"root": [1, 2]}, {"root": [3]}, None),
    ("Missing index along path", ["root", 0, "other"], {"root": {"nested": 1}}, {"root": {"nested": 2}},
     {"root": {"nested": 2}}),
    ("Index out of bound in old along path", ["root", 1, "nested"], {"root": [{"nested": 1}]},
     {"root": [{"nested": 3}, {"nested": 4}]}, None),
    ("Index out of bound in new along path", ["root", 1, "nested"], {"root": [{"nested": 1}, {"nested": 2}]},
     {"root": [{"nested": 3}]}, None),
    ("Single path element", ["root"], {"root": 1}, {"root": 2}, {"root": 1}),
    ("Nested path element, changed", ["root", "nested"], {"root": {"nested": 1}}, {"root": {"nested": 2}},
     {"root": {"nested": 1}}),
    ("Nested path element, added", ["root", "nested"], {"root": {}}, {"root": {"nested": 2}}, {"root": {}}),
    ("Nested path element, removed", ["root", "nested"], {"root": {"nested": 1}}, {"root": {}},
     {"root": {"nested": 1}}),
    ("Nested path element, fully removed", ["root", "nested"], {"root": {"nested": 1}}, {}, None),
    ("Nested path element, nested added", ["root", "nested"], {}, {"root": {"nested": 2}}, {"root": {}}),
    ("Array index", ["array", 0], {"array": [1]}, {"array": [2]}, {"array": [1]}),
    ("Array index, along path", ["array", 0, "item"], {"array": [{"item": 1}]}, {"array": [{"item": 2}]},
     {"array": [{"item": 1}]}),
    ("Array index, added", ["array", 0], {"array": []}, {"array": [2]}, None),
    ("Array index, removed", ["array", 0], {"array": [1]}, {"array": []}, None),
    ("Single wildcard at root", ["*"], {"root": 1}, {"root": 2}, {"root": 1}),
    ("Wildcard followed by path element", ["*", "nested"], {"root": {"nested": 1}}, {"root": {"nested": 2}},
     {"root": {"nested": 1}}),
    ("Wildcard in array followed by path element", ["root", "*", "nested"], {"root": [{"nested": 1}, {"nested": 2}]},
     {"root": [{"nested": 3}, {"nested": 4}]}, {"root": [{"nested": 1}, {"nested": 2}]}),
    ("Nested wildcard", ["root", "*"], {"root": {"nested": 1}}, {"root": {"nested": 2}}, {"root": {"nested": 1}}),
    ("Nested wildcard in array", ["root", "*"], {"root": [1, 2]}, {"root": [3, 4]}, {"root": [1, 2]}),
    ("Nested wildcard, added", ["root", "*"], {"root": {}}, {"root": {"nested": 2}}, {"root": {}}),
    ("Nested wildcard, removed", ["root", "*"], {"root": {"nested": 2}}, {"root": {}}, {"root": {"nested": 2}}),
    ("Nested wildcard, change of type (array)", ["root", "*"], {"root": [1]}, {"root": {"nested": 2}},
     {"root": {"nested": 2}}),
    ("Nested wildcard, change of type (object)", ["root", "*"], {"root": {"nested": 2}}, {"root": [1]},
     {"root": [1]}),
    ("Nested wildcard, change of type (number)", ["root", "*"], {"root": {"nested": 2}}, {"root": 1}, None),
    ("Untraversable in old wildcard followed by path element", ["root", "*", "nested"], {"root": 1},
     {"root": {"nested": 2}}, None),
    ("Untraversable in new (not an object) wildcard followed by path element", ["root", "*", "nested"],
     {"root": {"nested": 1}}, {"root": 2}, None),
    ("Untraversable in new (missing) wildcard followed by path element", ["root", "*", "nested"],
     {"root": {"nested": 1}}, {"root": {}}, None),
    ("Nested object wildcard index reset fails", ["root", "*", 0], {"root": {"passes": 1, "fails": [1]}},
     {"root": {"passes": 2, "fails": []}}, None),
    ("Nested array wildcard, new array is shorter fails", ["root", "array", "*"], {"root": {"array": [1]}},
     {"root": {"array": []}}, None),
    ("Nested array wildcard index reset fails", ["root", "*", 0], {"root": [1, [1]]}, {"root": [2, []]}, None),
    ("Nested array wildcard index, old array is longer fails", ["root", "*", 0], {"root": [1, 2]}, {"root": [3]},
     None),
    ("Nested array wildcard index, new array is longer fails", ["root", "*", 0], {"root": [1]}, {"root": [3, 4]},
     None),
]


@pytest.mark.parametrize("name, path, old, new, expected", RESET, ids=[case[0] for case in RESET])
def test_a_reset_does_what_the_engines_does(name, path, old, new, expected):
    before = copy.deepcopy(old)
    got = copy.deepcopy(new)
    assert reset(path, old, got) is (expected is not None)
    if expected is not None:
        assert got == expected
    assert old == before  # the old inputs are only read


def test_a_path_the_engine_cannot_reset_is_reported_and_the_rest_still_ignored():
    """Since v3.190.0 (pulumi/pulumi#20278) a path error is the engine's info line, not a failed update; the other
    paths are still reset, and the arrays' common part too (#20465, v3.194.0)."""
    old = {"a": 1, "pools": [{"v": "1.33"}, {"v": "1.33"}], "profile": {"defender": {"on": True}}}
    new = {"a": 2, "pools": [{"v": "1.35"}], "tags": {}}
    inputs, unheld = process_ignore_changes(old, new, ["a", "pools[*].v", "profile.defender"])
    assert inputs == {"a": 1, "pools": [{"v": "1.33"}], "tags": {}}
    assert unheld == ["pools[*].v", "profile.defender"]
    assert new == {"a": 2, "pools": [{"v": "1.35"}], "tags": {}}  # a copy is reset, not the program's inputs
    assert process_ignore_changes(old, new, [])[0] is new
