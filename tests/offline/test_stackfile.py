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
    """YAML 1.2 core schema: yes/on/times of day stay strings; only true/false are booleans (an unquoted date is
    refused: test_an_unquoted_date_is_refused_not_read_as_the_text_written)."""
    doc = parse_yaml(b"config:\n  p:a: yes\n  p:b: 10:30\n  p:d: true\n  p:e: 007\n", "f")
    assert project_config(doc, "p", "f") == {"a": "yes", "b": "10:30", "d": True, "e": 7}


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


TOP_LEVEL_NUMBERS = [("1e3", "1000"), ("1.50", "1.5"), ("-0.0", "0"), ("1e6", "1000000"), ("1e21", "1e+21"),
                     ("1e-7", "1e-7"), ("0.00001", "0.00001"), ("123456.5", "123456.5"), ("2.5e300", "2.5e+300")]


@pytest.mark.parametrize("written, handed", TOP_LEVEL_NUMBERS, ids=[w for w, _ in TOP_LEVEL_NUMBERS])
def test_a_number_directly_under_config_reaches_the_program_as_the_cli_text_of_it(tmp_path, written, handed):
    """The CLI hands a top-level value over as text: the JSON (Go's encoding/json) of what its second reading read
    back from go-yaml's 'g' text of the float (a whole number under 1e6 an integer again). The plan handed Python's
    JSON: `namespace: 1e3` planned the namespace '1000.0' (refused as no DNS label) where `pulumi up` deploys
    '1000'."""
    project = offline.project_name()
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text((Path(offline.PROJECT_DIR) / "Pulumi.dev.yaml").read_text()
                          + f"  {project}:namespace: {written}\n")
    assert offline.stack_config("dev", stack_file=stack_file)[f"{project}:namespace"] == handed
    if written == "1e3":
        plan = offline.run("dev", stack_file=stack_file)
        assert "1000" in [r.inputs["metadata"]["name"] for r in plan.of_type("kubernetes:core/v1:Namespace")]


def _program_config(config: dict) -> dict:
    """This project's config as the program reads it under `pulumi up`: `config` ('key': value) handed over as the
    engine hands it (an object as its JSON text) to config/runtime.py's reader."""
    import contextvars
    import json
    from pulumi.runtime import config as runtime_config
    from config.runtime import raw_project_config
    project = offline.project_name()

    def read():
        runtime_config.set_all_config({f"{project}:{k}": v if isinstance(v, str) else json.dumps(v)
                                       for k, v in config.items()})
        return raw_project_config(project)
    return contextvars.copy_context().run(read)


@pytest.mark.parametrize("config, problem", [
    ({"webui": {"extraEnv": {"START": "2024-01-01 00:00:00 +0000 UTC"}}},
     "webui.extraEnv.START is '2024-01-01 00:00:00 +0000 UTC', Go's text of a date: the stack file holds the date "
     "unquoted (2024-01-01, say), which the Pulumi CLI reads as a time.Time and hands the program as that text, not as "
     "written: quote it, '2024-01-01', for the text"),
    ({"cost": {"prices": {"vm_hourly": {"2024-01-01 10:30:00.5 +0100 CET": 3}}}},
     "a key of cost.prices.vm_hourly is '2024-01-01 10:30:00.5 +0100 CET', Go's text of a date: the stack file holds "
     "the date unquoted (2024-01-01T10:30:00.5+01:00, say)"),
    ({"prefix": "2001-12-14 21:59:43.1 -0500 -0500"}, "prefix is '2001-12-14 21:59:43.1 -0500 -0500'"),
    ({"location": "2024-01-01 10:30:00 -0300 -03"}, "(2024-01-01T10:30:00-03:00, say)"),  # a local zone's name
    ({"cluster": {"zones": ["1", "0000-02-29 23:59:59.999999999 +0000 UTC"]}},
     "cluster.zones[1] is '0000-02-29 23:59:59.999999999 +0000 UTC'"),
], ids=["value", "key", "top-level", "local-zone", "list-item"])
def test_the_program_refuses_go_text_of_a_date_as_pulumi_up_hands_it(config, problem):
    """Under `pulumi up` no stack-file reader of ours runs: an unquoted date reaches the program as Go's time.Time
    String() (the CLI's config/object.go `unmarshalObject`), which the program took as the text of the setting (an
    Open-WebUI variable's value, a price's name). Its own config read refuses it, naming the key, with the offline
    reader's advice."""
    with pytest.raises(StackFileError) as refused:
        _program_config(config)
    assert refused.value.problems == [refused.value.problems[0]] and problem in refused.value.problems[0], \
        refused.value.problems
    with pytest.raises(offline.ProgramError, match=re.escape(problem)):  # the program's own path (__main__.py)
        offline.run("dev", overrides=config)


@pytest.mark.parametrize("written", ["2024-01-01", "2024-1-1 10:30:00", "2001-12-14t21:59:43.10-05:00",
                                     "2001-12-14T21:59:43Z", "2024-02-29T10:30:00.5+00:00",
                                     "2024-01-01   00:00:00.000"])
def test_the_text_the_reader_says_the_program_gets_is_what_the_program_refuses(tmp_path, written):
    """The two refusals agree: the Go text the stack-file reader names for a date is the text the program's own read
    recognises under `pulumi up`, with the same advice."""
    with pytest.raises(StackFileError) as offline_refusal:
        _read(tmp_path, f"{{a: {written}}}")
    handed = re.search(r"Go's text of it, '([^']+)'", str(offline_refusal.value))[1]
    with pytest.raises(StackFileError) as program_refusal:
        _program_config({"cost": {"prices": {"vm_hourly": {"a": handed}}}})
    assert f"cost.prices.vm_hourly.a is {handed!r}, Go's text of a date" in str(program_refusal.value)
    assert "quote it, '" in str(program_refusal.value)


def test_text_like_go_time_that_no_date_becomes_is_taken():
    """Only Go's exact form is refused: no zone, no zone name, a one-digit month, 30 February, a fraction's trailing
    zero, a date written as in the file are settings' text like any other."""
    texts = ["2024-01-01 00:00:00", "2024-01-01 00:00:00 +0000", "2024-1-01 00:00:00 +0000 UTC",
             "2024-02-30 00:00:00 +0000 UTC", "2024-01-01 00:00:00.50 +0000 UTC", "2024-01-01",
             "2024-01-01T00:00:00Z", "on 2024-01-01 00:00:00 +0000 UTC", "2024-01-01 00:00:00 +0000 GMT"]
    config = {"webui": {"extraEnv": {f"V{i}": text for i, text in enumerate(texts)}}}
    assert _program_config(config)["webui"] == config["webui"]


def _read(tmp_path: Path, prices: str) -> dict:
    """A stack file whose cost.prices.vm_hourly is `prices` (flow YAML), read as the plan CLI reads it."""
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(f"config:\n  p:cost:\n    prices:\n      vm_hourly: {prices}\n")
    return stackfile.read_stack_file(path, "p")["cost"]["prices"]["vm_hourly"]


@pytest.mark.parametrize("prices, name", [("{1e3: 1, '1000': 2}", "1000"), ("{1: 1, 1.0: 2}", "1"),
                                          ("{True: 1, 'true': 2}", "true"), ("{~: 1, '<nil>': 2}", "<nil>")])
def test_two_keys_the_pulumi_cli_names_alike_are_refused(tmp_path, prices, name):
    """`{1e3: 1, '1000': 2}` are two keys to go-yaml (a float and a string) with one name in the JSON the program gets:
    the CLI writes the file back with both as `1000` and its second reading refuses the key given twice (go-yaml
    v3.0.1 decode.go `mapping`), or keeps either. The reader took the last one without a word."""
    with pytest.raises(StackFileError, match=rf"line 4, column \d+\): keys .* of one mapping both reach the program "
                                             rf"as {re.escape(repr(name))}"):
        _read(tmp_path, prices)


def test_keys_python_holds_equal_and_go_yaml_apart_are_both_kept(tmp_path):
    """`{1: a, true: b}`: Python's dict holds 1 and True as one key, go-yaml two (an int and a bool): the CLI hands the
    program '1' and 'true', the reader had kept one entry, named '1', with b's value."""
    assert _read(tmp_path, "{1: a, true: b, 0: c, false: d}") == {"1": "a", "true": "b", "0": "c", "false": "d"}
    assert _read(tmp_path, "{-0.0: a, 100000000000000000000: b}") == {"0": "a", "1e+20": "b"}  # go-yaml: 0, 1e+20


@pytest.mark.parametrize("written", ["2024-01-01", "2024-1-1 10:30:00", "2001-12-14t21:59:43.10-05:00",
                                     "2001-12-14T21:59:43Z"])
@pytest.mark.parametrize("where", ["key", "value"])
def test_an_unquoted_date_is_refused_not_read_as_the_text_written(tmp_path, written, where):
    """go-yaml v3.0.1 reads an unquoted `2024-01-01` as a time.Time (resolve.go `parseTimestamp`; v3 keeps it one in
    an `any`), which the Pulumi CLI hands the program as Go's text of it ('2024-01-01 00:00:00 +0000 UTC',
    config/object.go `unmarshalObject`), as a value or as a key. The reader read the text as written."""
    prices = f"{{{written}: 1}}" if where == "key" else f"{{a: {written}}}"
    with pytest.raises(StackFileError, match=r"line 4, column \d+\): .* is a date, unquoted, to the Pulumi CLI .*"
                                             r"quote it"):
        _read(tmp_path, prices)
    quoted = f"{{'{written}': 1}}" if where == "key" else f"{{a: '{written}'}}"
    assert _read(tmp_path, quoted) == ({written: 1} if where == "key" else {"a": written})


def test_text_shaped_like_a_date_that_go_does_not_parse_stays_text(tmp_path):
    """Month 13, day 30 of February, a 5-digit year, a time without seconds: time.Parse refuses each, so go-yaml keeps
    the text."""
    assert _read(tmp_path, "{a: 2024-13-01, b: 2023-02-30, c: 12024-01-01, d: 2024-01-01 10:30}") == \
        {"a": "2024-13-01", "b": "2023-02-30", "c": "12024-01-01", "d": "2024-01-01 10:30"}


def test_numbers_read_as_go_yaml_reads_them_as_values_and_keys(tmp_path):
    """go-yaml v3.0.1 resolve.go: `_` dropped, then strconv.ParseInt(plain, 0, 64) (0x, 0X, 0b, 0o, a leading 0 for
    octal, a sign on any), ParseUint, then a float of YAML's form (`08` is 8.0; an overflow such as 1e999 stays text).
    The reader kept `1_000`, `0b101`, `-0x1F` and `0X1F` as text (as keys: names the program never gets) and refused
    the whole file for `08` ("invalid literal for int() with base 8")."""
    values = _read(tmp_path, "{a: 1_000, b: 0b101, c: -0x1F, d: 0X1F, e: 08, f: 09.5, g: 1e999, h: +0o17, i: 017, "
                             "j: 18446744073709551615, k: 18446744073709551616, l: 1.2.3, m: 0x, n: 0o8, o: 1_0.5}")
    assert values == {"a": 1000, "b": 5, "c": -31, "d": 31, "e": 8.0, "f": 9.5, "g": "1e999", "h": 15, "i": 15,
                      "j": 18446744073709551615, "k": 18446744073709551616.0, "l": "1.2.3", "m": "0x", "n": "0o8",
                      "o": 10.5}
    assert type(values["e"]) is float and type(values["k"]) is float
    assert _read(tmp_path, "{1_000: a, 0b101: b, 08: c, -0x10: d}") == {"1000": "a", "5": "b", "8": "c", "-16": "d"}


# go-yaml v3.0.1 (resolve.go `resolve`, `parseTimestamp`; decode.go `scalar`, `parser.node`): scalars the reader read
# otherwise, each as the Pulumi CLI hands it to the program
GO_YAML_READS = [
    (".5_0", 0.5),  # '.' hint: strconv.ParseFloat, `_` between digits (atof.go readFloat, underscoreOK)
    (".5e3", 500.0), (".5e-999", 0.0),
    (".5e999", ".5e999"), ("._5", "._5"), (".5_", ".5_"),  # ParseFloat's range or syntax error: the text
    ("-.nan", "-.nan"), ("+.NaN", "+.NaN"),  # not in resolveMap, no number: the text
    ("!!str 123", "123"), ("!!str 2024-01-01", "2024-01-01"), ("!!str ~", "~"),
    ('!!int "12"', 12), ("!!int '0x1F'", 31),  # a quoted scalar with a tag is resolved by the tag
    ("! '123'", "123"), ("! >-\n          123", "123"),  # `!` on a quoted or block scalar: !!str (PyYAML: 123)
    ("! 123", 123),
    ("!!float 1", 1.0), ("!!float 9223372036854775807", 9.223372036854776e18), ("!!float 08", 8.0),
    ("!!bool TRUE", True), ('!!null ""', None),
    ("!!binary aGVsbG8=", "hello"),  # base64 decoded (PyYAML: bytes, refused)
    ("2024-01-01,10:30:00", "2024-01-01,10:30:00"), ("2024/01/01", "2024/01/01"),
    ("2024-01-01T10:30:00+0100", "2024-01-01T10:30:00+0100"),  # "Z07:00" needs the colon
    ("2024-01-01 10:30:00 +01:00", "2024-01-01 10:30:00 +01:00"), ("2024-01-01 10:30:00Z", "2024-01-01 10:30:00Z"),
    ("2024-01-01T10:30:00", "2024-01-01T10:30:00"), ("2024-01-01T10:30:00z", "2024-01-01T10:30:00z"),
    ("2024-01-01T10:30:00.Z", "2024-01-01T10:30:00.Z"),
]


def _price(project: str, written: str) -> str:
    """A stack file's lines setting cost.prices.vm_hourly.X (a free name: any value reaches the program as read)."""
    return f"  {project}:cost:\n    prices:\n      vm_hourly:\n        X: {written}\n"


@pytest.mark.parametrize("written, handed", GO_YAML_READS, ids=[w for w, _ in GO_YAML_READS])
def test_scalars_read_as_go_yaml_reads_them(tmp_path, written, handed):
    """What the Pulumi CLI hands the program for each: the plan's config is the same value."""
    project = offline.project_name()
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text((Path(offline.PROJECT_DIR) / "Pulumi.dev.yaml").read_text() + _price(project, written))
    value = offline.stack_config("dev", stack_file=stack_file)[f"{project}:cost"]["prices"]["vm_hourly"]["X"]
    assert value == handed and type(value) is type(handed), value


# what go-yaml refuses (the Pulumi CLI stops on the file), or decodes into something other than what is written
GO_YAML_REFUSES = [
    (".NaN", "json: unsupported value: NaN"), ("+.inf", "json: unsupported value: +Inf"),
    ("-.Inf", "json: unsupported value: -Inf"), ("!!float .nan", "json: unsupported value: NaN"),
    ("!!int abc", "cannot decode !!str `abc` as a !!int"), ("!!int 1.5", "cannot decode !!float `1.5` as a !!int"),
    ("!!int 08", "cannot decode !!float `08` as a !!int"), ("!!int 1:30", "cannot decode !!str `1:30` as a !!int"),
    ("!!int 2024-01-01", "cannot decode !!str `2024-01-01` as a !!int"),
    ("!!float 18446744073709551615", "cannot decode !!int `18446744073709551615` as a !!float"),
    ("!!bool yes", "cannot decode !!str `yes` as a !!bool"), ("!!null abc", "cannot decode !!str `abc` as a !!null"),
    ("!!timestamp abc", "cannot decode !!str `abc` as a !!timestamp"),
    ("!!timestamp 123", "cannot decode !!int `123` as a !!timestamp"),
    ("!!timestamp 2024-01-01", "'2024-01-01 00:00:00 +0000 UTC', not what is written: remove the !!timestamp tag"),
    ("!!timestamp '2024-01-01'", "remove the !!timestamp tag and quote it, '2024-01-01'"),
    ("!!binary aGVsbG8", "invalid base64 data"), ("!!binary /w==", "not UTF-8"),
    ("2024-01-01   10:30:00", "'2024-01-01 10:30:00 +0000 UTC'"),  # time.Parse's skip: a run of spaces for one
    ("0000-01-01", "'0000-01-01 00:00:00 +0000 UTC'"),  # year 0 (a leap year) is Go's too
    ("2024-02-29t10:30:00,5Z", "'2024-02-29 10:30:00.5 +0000 UTC'"),  # a comma before the fraction (Go 1.17+)
    ("2024-1-2T3:4:5.1234567891+05:30", "'2024-01-02 03:04:05.123456789 +0530 +0530' (the last part the zone"),
    ("2024-01-01T10:30:00-00:00", "'2024-01-01 10:30:00 +0000 UTC'"),  # offset 0 is written back as Z
]


@pytest.mark.parametrize("written, fragment", GO_YAML_REFUSES, ids=[w for w, _ in GO_YAML_REFUSES])
def test_scalars_go_yaml_refuses_or_reads_otherwise_are_refused_naming_the_key(tmp_path, capsys, written, fragment):
    """Through the plan CLI: one refusal naming the config path and the line, before anything is planned. The
    reader had read these as PyYAML does (NaN into the program, `!!bool yes` as true, `!!int 08` refusing the whole
    file with Python's words) or kept the text of dates go-yaml decodes."""
    from offline import plan as plan_cli
    project = offline.project_name()
    text = (Path(offline.PROJECT_DIR) / "Pulumi.dev.yaml").read_text()
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(text + _price(project, written))
    code = plan_cli.main(["--stack", "dev", "--out", str(tmp_path / "b"), "--stack-file", str(stack_file)])
    out, err = capsys.readouterr()
    assert code == 1 and out == "", out[-400:]
    line = len(text.splitlines()) + 4
    assert f"{project}:cost.prices.vm_hourly.X (line {line}, column 12): " in err and fragment in err, err
    assert err.count(f"{project}:cost.prices.vm_hourly.X (line") == 1 and "Traceback" not in err
    assert not (tmp_path / "b").exists()


def test_a_date_key_or_a_nan_in_a_list_is_named_where_it_is(tmp_path):
    """A refusal names the mapping a key is in, a list item by its index; NaN and infinity as keys are names (Go's
    `%v` of the float, which no JSON encoding meets)."""
    with pytest.raises(StackFileError, match=r"Pulumi.dev.yaml: a key of p:cost.prices.vm_hourly \(line 4, "
                                             r"column 25\): 2024-01-01 is a date"):
        _read(tmp_path, "{a: 1, 2024-01-01: 2}")
    with pytest.raises(StackFileError, match=r"p:cost.prices.vm_hourly.a\[1\] \(line 4, column 26\): .nan is the "
                                             r"number NaN"):
        _read(tmp_path, "{a: [1, .nan]}")
    assert _read(tmp_path, "{.nan: 1, .inf: 2, -.inf: 3}") == {"NaN": 1, "+Inf": 2, "-Inf": 3}  # keys: Go's %v


def test_the_project_file_is_read_as_the_pulumi_cli_reads_it(tmp_path):
    """Pulumi.yaml was read with PyYAML's YAML 1.1 loader, where `yes` and `on` are True; the CLI reads it with
    go-yaml v3, as the stack files are read: the text `yes` and `on`."""
    from offline import stacks
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\nconfig:\n  p:flag:\n    default: yes\n"
                                         "  p:mode:\n    default: on\n")
    project = stacks.project_file(tmp_path)
    assert project["config"] == {"p:flag": {"default": "yes"}, "p:mode": {"default": "on"}}
    assert stacks.project_name(tmp_path) == "p"
