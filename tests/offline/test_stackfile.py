"""The stack file reader (stackfile): YAML read as the Pulumi CLI reads it, provider namespaces left alone, and only
values or a ConfigError out of any input."""

import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from offline.stackfile import ConfigError as StackFileError, parse_yaml, project_config
from offline import runner as offline, stackfile

from tests.config.test_loader import _CONFIGS
from tests.strategies import unicode_text


def test_yaml_is_read_as_the_pulumi_cli_reads_it():
    """YAML 1.2 core schema: yes/on/dates/times stay strings; only true/false are booleans."""
    doc = parse_yaml(b"config:\n  p:a: yes\n  p:b: 10:30\n  p:c: 2024-01-01\n  p:d: true\n  p:e: 007\n", "f")
    assert project_config(doc, "p", "f") == {"a": "yes", "b": "10:30", "c": "2024-01-01", "d": True, "e": 7}


def test_merge_keys_merge_as_go_yaml_does_the_mappings_own_keys_winning(tmp_path):
    """`<<: *anchor` shares settings between sections (go-yaml v3 resolves merge keys): the stack file reads as the
    one with the values written out; `<<` as a value stays a string."""
    project = offline.project_name()
    written_out = (Path(offline.PROJECT_DIR) / "Pulumi.dev.yaml").read_text()
    merged = written_out.replace(f"  {project}:gpu:\n", f"  {project}:gpu: &gpu\n", 1) + (
        f"  {project}:llmd:\n    <<: *gpu\n")
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(merged)
    config = offline.stack_config("dev", stack_file=stack_file)
    assert config[f"{project}:llmd"] == config[f"{project}:gpu"]
    doc = parse_yaml(b"config:\n  p:base: &b {a: 1, b: 2}\n  p:x:\n    <<: *b\n    b: 3\n  p:y: <<\n", "f")
    assert project_config(doc, "p", "f") == {"base": {"a": 1, "b": 2}, "x": {"a": 1, "b": 3}, "y": "<<"}


def test_provider_namespaces_are_left_to_their_providers():
    doc = parse_yaml(b"config:\n  azure-native:location: westeurope\n  p:prefix: abc\n", "f")
    assert project_config(doc, "p", "f") == {"prefix": "abc"}


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200) | unicode_text(max_size=200).map(str.encode) |
       _CONFIGS.map(lambda c: re.sub(r"^", "  ", repr(c), flags=re.M).encode()))
def test_stack_file_reader_only_returns_values_or_raises_config_error(data):
    try:
        doc = parse_yaml(b"config:\n" + data, "f")
        project_config(doc, "p", "f")
    except StackFileError as error:
        assert error.problems


def test_an_unreadable_stack_file_is_one_error(tmp_path):
    missing = Path(tmp_path) / "Pulumi.dev.yaml"
    missing.mkdir()
    with pytest.raises(FileNotFoundError, match="a folder, not a stack file"):  # the CLI's bad usage (exit 2)
        offline.stack_config("dev", stack_file=missing)
    (tmp_path / "file").write_text("")
    with pytest.raises(StackFileError, match="cannot be read"):  # a path the system refuses to open
        stackfile.read_stack_file(tmp_path / "file" / "Pulumi.dev.yaml", "p")
