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


@pytest.mark.parametrize("key", ["~", "null", "Null"])
def test_a_null_key_in_a_config_object_is_refused_once_before_anything_is_planned(tmp_path, capsys, key):
    """`vm_hourly: {~: 3}` reached the program as the name 'null' (Python's JSON of the key), which it took, and the
    plan CLI's second reading of the file as no name, which it refused after the whole plan had been printed. The
    Pulumi CLI hands the program '<nil>' (go-yaml's map[any]any key through fmt's %v, config/object.go): the reader
    refuses it, naming where, before the plan prints anything."""
    from offline import plan as plan_cli
    text = (Path(offline.PROJECT_DIR) / "Pulumi.dev.yaml").read_text()
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(text + f"  aks-llm-platform:cost:\n    prices:\n      vm_hourly:\n        {key}: 3\n")
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path / "b"), "--stack-file", str(stack_file)])
    out, err = capsys.readouterr()
    assert code == 1 and out == "", out[-400:]
    assert err.count("cost.prices.vm_hourly has an entry whose name is null") == 1 and "'<nil>'" in err, err
    assert "Traceback" not in err and not (tmp_path / "b").exists()


def test_keys_that_are_no_strings_read_as_the_pulumi_cli_hands_them_to_the_program():
    """A key the YAML reads as a number or a boolean reaches the program as Go's `%v` of it (the Pulumi CLI's
    `fmt.Sprintf("%v", key)`), and the plan CLI's second reading of the file sees the same names the program does
    (before, the program read 1e3 as '1000.0', Python's JSON, and the second reading as the float 1000.0)."""
    doc = parse_yaml(b"config:\n  p:cost:\n    prices:\n      os_disk_monthly: {128: 1}\n"
                     b"      t: [{1e3: 1, true: 2, 1.5: 3, 1e6: 4, 0x10: 5}]\n", "f")
    values = project_config(doc, "p", "f")
    assert values == {"cost": {"prices": {"os_disk_monthly": {"128": 1},
                                          "t": [{"1000": 1, "true": 2, "1.5": 3, "1e+06": 4, "16": 5}]}}}
    import json
    assert json.loads(json.dumps(values)) == values  # what the program is handed is what the second reading reads


def test_the_program_refuses_the_name_pulumi_gives_a_null_key():
    """Under `pulumi up` no offline reader runs: the program's own config read refuses '<nil>', the name the engine
    hands over for a null key, with the reader's words."""
    with pytest.raises(offline.ProgramError, match=r"webui\.extraEnv has an entry whose name is null"):
        offline.run("dev", overrides={"webui": {"extraEnv": {"<nil>": "x"}}})
