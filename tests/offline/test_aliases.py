"""The engine's aliases as offline/plan_diff/urns.py transcribes them, held to pulumi/pulumi's own table
(`pkg/resource/deploy/step_generator_test.go` `TestGenerateAliases` at 1b5949891b), and what they decide in the PR
check: which old resource a new one is."""
import pytest

from offline import plan_diff
from offline.plan_diff.urns import generate_aliases

STACK, PROJECT = "stack", "project"


def _urn(name: str, type_: str) -> str:  # resource.CreateURN(name, type, "", project, stack)
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"


PARENT = _urn("myres", "test:resource:type")
PARENT_TYPE_ALIAS = _urn("myres", "test:resource:type2")
PARENT_NAME_ALIAS = _urn("myres2", "test:resource:type")
ORIGINAL_PARENT = _urn("originalparent", "test:resource:original")


# (name, parent alias, child aliases as the plans write them, expected): TestGenerateAliases' cases, in its order
CASES = [
    ("no aliases", None, [], []),
    ("child alias (type), no parent aliases", None, [{"spec": {"type": "test:resource:child2"}}],
     ["urn:pulumi:stack::project::test:resource:type$test:resource:child2::myres-child"]),
    ("child alias (name), no parent aliases", None, [{"spec": {"name": "child2"}}],
     ["urn:pulumi:stack::project::test:resource:type$test:resource:child::child2"]),
    ("child alias (type, noParent), no parent aliases", None,
     [{"spec": {"type": "test:resource:child2", "noParent": True}}],
     ["urn:pulumi:stack::project::test:resource:child2::myres-child"]),
    ("child alias (type, parent), no parent aliases", None,
     [{"spec": {"type": "test:resource:child2", "parentUrn": ORIGINAL_PARENT}}],
     ["urn:pulumi:stack::project::test:resource:original$test:resource:child2::myres-child"]),
    ("child alias (name), parent alias (type)", PARENT_TYPE_ALIAS, [{"spec": {"name": "myres-child2"}}],
     ["urn:pulumi:stack::project::test:resource:type$test:resource:child::myres-child2",
      "urn:pulumi:stack::project::test:resource:type2$test:resource:child::myres-child",
      "urn:pulumi:stack::project::test:resource:type2$test:resource:child::myres-child2"]),
    ("child alias (name), parent alias (name)", PARENT_NAME_ALIAS, [{"spec": {"name": "myres-child2"}}],
     ["urn:pulumi:stack::project::test:resource:type$test:resource:child::myres-child2",
      "urn:pulumi:stack::project::test:resource:type$test:resource:child::myres2-child",
      "urn:pulumi:stack::project::test:resource:type$test:resource:child::myres2-child2"]),
]


@pytest.mark.parametrize("name, parent_alias, aliases, expected", CASES, ids=[c[0] for c in CASES])
def test_generate_aliases_is_pulumi_s_own_table(name, parent_alias, aliases, expected):
    matched = {PARENT: parent_alias} if parent_alias else {}
    assert generate_aliases("myres-child", "test:resource:child", PARENT, aliases, parent_alias, STACK, PROJECT,
                            matched) == expected


def _res(urn: str, type_: str, name: str, parent: str = "", aliases: list = ()) -> dict:
    return {"urn": urn, "type": type_, "name": name, "parent": parent or None, "inputs": {}, "dependencies": [],
            "options": {"aliases": list(aliases)}}


def test_a_child_s_alias_is_first_taken_under_its_new_parent():
    """`collapseAliasToUrn` puts an alias that names no parent under the resource's *new* parent, before the aliases
    its parent's alias makes (under the old parent): with both old URNs in the state, the engine takes the first
    (the PR check once tried the old parent's first, and so compared the child with another old resource)."""
    new_parent, old_parent = _urn("app", "test:resource:type"), _urn("app", "test:resource:oldtype")
    under_new = f"urn:pulumi:{STACK}::{PROJECT}::test:resource:type$test:resource:child::child-old"
    under_old = f"urn:pulumi:{STACK}::{PROJECT}::test:resource:oldtype$test:resource:child::child-old"
    old = {old_parent: _res(old_parent, "test:resource:oldtype", "app"),
           under_old: _res(under_old, "test:resource:child", "child-old", old_parent),
           under_new: _res(under_new, "test:resource:child", "child-old", old_parent)}
    new_child = f"urn:pulumi:{STACK}::{PROJECT}::test:resource:type$test:resource:child::child"
    new = {new_parent: _res(new_parent, "test:resource:type", "app", aliases=[{"urn": old_parent}]),
           new_child: _res(new_child, "test:resource:child", "child", new_parent, [{"spec": {"name": "child-old"}}])}
    assert generate_aliases("child", "test:resource:child", new_parent, [{"spec": {"name": "child-old"}}],
                            old_parent, STACK, PROJECT, {new_parent: old_parent}) == [
        under_new, f"urn:pulumi:{STACK}::{PROJECT}::test:resource:oldtype$test:resource:child::child", under_old]
    assert plan_diff.alias_matches(old, new) == {new_parent: old_parent, new_child: under_new}
