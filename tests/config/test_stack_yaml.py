"""Stack files' YAML as the Pulumi CLI reads it (config/stack_yaml.py): go-yaml's merges, and what it refuses."""
import re

import pytest

from config.reader import ConfigError
from config.stack_yaml import parse_yaml


def test_yaml_1_2_scalars_and_a_key_given_twice():
    assert parse_yaml(b"a: yes\nb: 10:30\nc: 0x1f\nd: .5\ne: ~\n", "f") == {
        "a": "yes", "b": "10:30", "c": 31, "d": 0.5, "e": None}  # `.inf` as a value: refused (test_go_yaml_scalars)
    with pytest.raises(ConfigError, match=re.escape("f: not valid YAML (line 2, column 1): key 'a' appears twice")):
        parse_yaml(b"a: 1\na: 2\n", "f")


@pytest.mark.parametrize("text, problem", [
    (b"a: &a {x: 1}\nb: &b {y: 1}\nc:\n  <<: *a\n  <<: *b\n", "key '<<' appears twice"),
    (b"a: &a {<<: *a, y: 1}\n", "merges itself"),
    (b"a:\n  1: x\n  '1': y\n", "key '1' appears twice"),  # compared as written, as go-yaml compares keys
    # a chain of merges of nine merges: PyYAML copies each merged pair again at every level (4 s at 6 levels, 43 s at 7)
    (b"a0: &a0 {k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8}\n" + b"".join(
        f"a{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * 9)}]}}\n".encode() for i in range(1, 7)),
     "excessive aliasing"),
    (b"a: &a {x: 1}\nl: &l [*a]\nc:\n  <<: *l\n", "not an alias of a list"),
], ids=["two-merge-keys", "self-merge", "one-and-quoted-one", "merge-chain", "merge-of-an-aliased-list"])
def test_merges_go_yaml_refuses_are_refused(text, problem):
    with pytest.raises(ConfigError, match=re.escape(problem)):
        parse_yaml(text, "f")


def test_a_merged_mapping_is_checked_for_its_own_keys_only():
    """b merges {x: 1} and sets x itself; c merges b: b's explicit x wins, and is not taken for a duplicate."""
    doc = parse_yaml(b"c: {<<: &b {<<: {x: 1}, x: 2}, d: *b}\n", "f")
    assert doc == {"c": {"x": 2, "d": {"x": 2}}}
