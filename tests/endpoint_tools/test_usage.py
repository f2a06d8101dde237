"""Bad usage of the three tools, through the entry points users touch (the installed console scripts, `python -m`,
each tool's main): exit 2, argparse's usage line and error prefix naming the command as typed, the value and what is
allowed, never a traceback and never a request sent."""
import importlib.metadata
import io
import os
import re
import runpy
import sys
import warnings

import pytest

from endpoint_tools import bench, smoke, verify
from endpoint_tools.endpoint import url_problem

TOOLS = {"llm-smoke": ("endpoint_tools.smoke", smoke.main), "llm-bench": ("endpoint_tools.bench", bench.main),
         "llm-verify": ("endpoint_tools.verify", verify.main)}
ALLOWED = "give an http:// or https:// URL with a host"


def refused(main, argv, capsys) -> str:
    """Run main(argv), expect bad usage (exit 2), return stderr."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    captured = capsys.readouterr()
    assert exited.value.code == 2 and "Traceback" not in captured.err and not captured.out, captured
    return captured.err


@pytest.mark.parametrize("script", sorted(TOOLS))
def test_usage_names_the_console_script_or_python_m_as_the_user_ran_it(script, capsys, monkeypatch):
    module = TOOLS[script][0]
    entry = next(ep for ep in importlib.metadata.distribution("llmplatform-endpoint-tools").entry_points
                 if ep.group == "console_scripts" and ep.name == script)
    monkeypatch.setattr(sys, "argv", [f"/venv/bin/{script}", "--timeout", "0"])
    err = refused(lambda _: entry.load()(), None, capsys)
    assert err.startswith(f"usage: {script} [-h]") and f"\n{script}: error: argument --timeout: '0' must be" in err
    # `python -m endpoint_tools.X` runs the module as __main__ (argparse alone would say `X.py` or `__main__.py`)
    monkeypatch.setattr(sys, "argv", ["python", "--timeout", "0"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # runpy: the module is already imported by this test
        err = refused(lambda _: runpy.run_module(module, run_name="__main__", alter_sys=True), None, capsys)
    assert err.startswith(f"usage: python -m {module} [-h]") and f"\npython -m {module}: error: argument" in err
    assert "llm-" not in err


@pytest.mark.parametrize("value", ["foo", "localhost:8080", "127.0.0.1:11434", "ftp://x", "file:///etc/passwd",
                                   "http://", "http://:8080", "https://x:99999", "http://x:port", "http://x:0",
                                   "http://[::1", "http://a b", "http://x/?q=1", "http://x#f"])
@pytest.mark.parametrize("script", ["llm-smoke", "llm-bench"])
def test_a_value_that_is_not_an_http_url_is_bad_usage_not_a_connection_failure(script, value, capsys):
    """Before: `llm-smoke foo` failed as `[dns]` with exit 1, `localhost:8080` went to http:// silently."""
    err = refused(TOOLS[script][1], [value], capsys)
    assert f"{script}: error: argument URL: {value!r}" in err and err.rstrip().endswith(
        f"{ALLOWED}, e.g. http://localhost:11434")


@pytest.mark.parametrize("value", ["http://a\x01b:1", "http://a..b:1", f"http://{'a' * 64}.com", "http://\u2603.net",
                                   "http://[::1]x:1", "http://\\x:1"])
@pytest.mark.parametrize("script", ["llm-smoke", "llm-bench"])
def test_a_url_that_requests_cannot_send_is_bad_usage_not_a_connection_failure(script, value, capsys):
    """A host with a control character, an empty or 64-character label, one IDNA refuses, text after `[::1]`: each
    passed the URL check, then failed every request with exit 1 ("neither API answered ... InvalidURL talking to
    ..., LocationParseError ...")."""
    err = refused(TOOLS[script][1], [value], capsys)
    assert f"{script}: error: argument URL: {value!r} is not a valid URL" in err, err
    assert err.rstrip().endswith(f"{ALLOWED}, e.g. http://localhost:11434")


def test_whitespace_in_a_url_is_named_wherever_it_is(capsys):
    """A trailing space (a pasted URL) was "Port could not be cast to integer value as '1 '"."""
    for value in ("http://x:1 ", " http://x:1", "http://x:1\n"):
        assert f"{value!r} contains whitespace" in refused(smoke.main, [value], capsys)


def test_base_urls_the_tools_accept():
    for url in ("http://localhost:11434", "https://llm.example.com", "http://10.0.0.4:8080/llm/", "http://[::1]:80",
                "HTTPS://LLM.EXAMPLE.COM", "http://user:pw@host:1", "http://b\u00fccher.example:1",
                "http://[fe80::1%25eth0]:1", f"http://{'a' * 63}.com"):
        assert url_problem(url) is None, url


@pytest.mark.parametrize("argv, option", [
    (["--gpu-operator-namespace", ""], "--gpu-operator-namespace"),
    (["--gpu-operator-namespace", "GPU-Operator"], "--gpu-operator-namespace"),
    (["--gpu-operator-namespace", "gpu-operator-"], "--gpu-operator-namespace"),
    (["--gpu-operator-namespace", "a" * 64], "--gpu-operator-namespace"),
    (["--stack", ""], "--stack"), (["--stack", "my bad"], "--stack"), (["--stack", "org//llmd"], "--stack"),
    (["--outputs", ""], "--outputs"), (["--kubeconfig", " "], "--kubeconfig"),
    (["--timeout", "nan"], "--timeout"), (["--kube-timeout", "0"], "--kube-timeout"),
])
def test_verify_refuses_an_empty_or_invalid_argument_naming_the_option(argv, option, capsys):
    err = refused(verify.main, ["--outputs", "outputs.json", *argv] if "--outputs" not in argv else argv, capsys)
    assert err.startswith("usage: llm-verify") and f"llm-verify: error: argument {option}: {argv[1]!r} " in err


@pytest.mark.parametrize("option, value", [("--timeout", "0"), ("--timeout", "inf"), ("--timeout", "x"),
                                           ("--stack", "a b"), ("--stack", "")])
def test_verify_words_a_shared_option_error_as_smoke_and_bench_do(option, value, capsys):
    """Before: `llm-verify --timeout nan` was accepted and `--timeout 0` had wording of its own."""
    errors = {script: refused(main, [option, value], capsys).splitlines()[-1] for script, (_, main) in TOOLS.items()}
    assert {script: line.split(": error: ")[0] for script, line in errors.items()} == {s: s for s in TOOLS}
    assert len({line.split(": error: ")[1] for line in errors.values()}) == 1, errors


@pytest.mark.parametrize("argv, fragment", [
    ([], "give --stack NAME or --outputs FILE"),
    (["--stack", "llmd", "--outputs", "o.json"], "give --stack llmd or --outputs o.json, not both"),
    (["--outputs", "/nonexistent/o.json"], "--outputs /nonexistent/o.json: no such file"),
])
def test_verify_needs_one_source_of_outputs(argv, fragment, capsys):
    assert refused(verify.main, argv, capsys).rstrip().endswith(f"llm-verify: error: {fragment}")


@pytest.mark.parametrize("script", ["llm-smoke", "llm-bench"])
@pytest.mark.parametrize("argv, fragment", [
    ([], "give an endpoint URL or --stack-output NAME"),
    (["http://x", "--stack-output", "modelApiUrl"], "give the endpoint URL 'http://x' or --stack-output "
                                                    "modelApiUrl, not both"),
    (["http://x", "--stack", "dev"], "--stack dev names where --stack-output is read"),
    (["--stack-output", ""], "argument --stack-output: '' must be a stack output name, not empty"),
    (["http://x", "--model", ""], "argument --model: '' must be a model name, not empty"),
])
def test_smoke_and_bench_need_one_endpoint_and_no_empty_name(script, argv, fragment, capsys):
    assert f"{script}: error: {fragment}" in refused(TOOLS[script][1], argv, capsys)


@pytest.mark.parametrize("script", ["llm-smoke", "llm-bench"])
def test_max_tokens_has_the_same_bounds_in_smoke_and_bench(script, capsys):
    """llm-smoke took any count (10**30 went to the server as it was), llm-bench at most a million."""
    err = refused(TOOLS[script][1], ["http://x", "--max-tokens", "1000001"], capsys)
    assert "--max-tokens" in err and "1000000" in err.replace(",", "").replace("_", ""), err


def test_bench_takes_a_request_count_or_a_duration_not_both(capsys):
    """Before, `-n 5 --duration 3` ran for 3 s and dropped the count without a word."""
    err = refused(bench.main, ["http://x", "-n", "5", "--duration", "3"], capsys)
    assert "llm-bench: error: argument --duration: not allowed with argument -n/--requests" in err


# Kubernetes' own test vectors for a DNS-1123 label, the namespace rule (kubernetes/kubernetes
# staging/src/k8s.io/apimachinery/pkg/util/validation/validation_test.go at 008b365, TestIsDNS1123Label).
K8S_GOOD = ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2", "a" * 63]
K8S_BAD = ["", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_", "_a", "a_b", "1_",
           "_1", "1_2", ".", "a.", ".a", "a.b", "1.", ".1", "1.2", " ", "a ", " a", "a b", "1 ", " 1", "1 2", "a" * 64]
# Pulumi's own vectors for a stack name (pulumi/pulumi sdk/go/common/tokens/stack_name_test.go at 68316a5), then
# ours: `/` is refused in the stack part itself but separates org/project/stack in --stack, as the Pulumi CLI takes it.
PULUMI_GOOD = ["my-stack", "stack", "s-92", "stack_foo", "foo_bar_123"] + ["org/stack", "org/project/stack"]
PULUMI_BAD = ["", "this-stack-name-is-just-too-long-for-the-service-to-handle-and-should-be-rejected-by-the-service-"
              "because-it-is-just-too-long-for-the-service-to-handle-and-should-be-rejected-by-the-service",
              "!my stack!", "my bad", "mybad%"] + ["a/b/c/d", "/stack", "org/", "org//stack"]

def test_namespace_and_stack_name_rules_match_the_upstream_vectors():
    import argparse
    for rule, good, bad in ((smoke.namespace, K8S_GOOD, K8S_BAD), (smoke.stack_name, PULUMI_GOOD, PULUMI_BAD)):
        assert [rule(value) for value in good] == good
        for value in bad:
            with pytest.raises(argparse.ArgumentTypeError, match="^" + re.escape(f"{value!r} is not a ")):
                rule(value)


@pytest.mark.parametrize("script, option", [("llm-smoke", "--timeout"), ("llm-smoke", "--ttft-timeout"),
                                            ("llm-bench", "--timeout"), ("llm-bench", "--ttft-timeout"),
                                            ("llm-verify", "--timeout")])
def test_a_deadline_above_a_day_is_bad_usage(script, option, capsys):
    """`llm-smoke --timeout 1e10` crashed with OverflowError (a timestamp out of range inside urllib3): smoke's
    deadlines take at most a day, and so do llm-bench's (the options are smoke's) and llm-verify's --timeout (its
    smoke request's, parsed by smoke's rule)."""
    argv = ["--outputs", "o.json"] if script == "llm-verify" else ["http://127.0.0.1:9"]
    for value in ("1e10", "86400.5"):
        err = refused(TOOLS[script][1], [*argv, option, value], capsys)
        assert err.rstrip().endswith(f"{script}: error: argument {option}: {value!r} must be a number of seconds "
                                     f"above 0 and at most 86400"), err


def test_a_burst_too_large_to_send_is_bad_usage(capsys):
    err = refused(smoke.main, ["http://x", "--rate-limit-burst", "1000000000"], capsys)
    assert err.rstrip().endswith("llm-smoke: error: argument --rate-limit-burst: '1000000000' must be <= 10000")


@pytest.mark.parametrize("script, argv, code", [
    ("llm-verify", ["--outputs", "{bad}.json"], 1),  # read: "... is not a JSON object of stack outputs"
    ("llm-verify", ["--outputs", "{bad}-missing.json"], 2),  # "no such file", from argparse's error
    ("llm-smoke", ["http://127.0.0.1:9/{bad}", "--timeout", "2"], 1),  # the URL in a FAIL line
    ("llm-bench", ["--compare", "{bad}.json"], 2),
])
def test_an_argument_that_is_not_utf8_is_printed_escaped_not_a_traceback(script, argv, code, tmp_path, monkeypatch):
    """A file name or URL holding a byte that is not UTF-8 (a Latin-1 file name) reaches Python as a lone surrogate;
    printed to a UTF-8 terminal (errors=strict, any locale but C/POSIX) it raised UnicodeEncodeError: a traceback.
    It is printed escaped."""
    bad = os.fsdecode(b"\xff")
    (tmp_path / f"{bad}.json").write_text("[]")
    monkeypatch.chdir(tmp_path)
    out, err = (io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict") for _ in range(2))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "argv", [script, *(a.format(bad=bad) for a in argv)])
    entry = next(ep for ep in importlib.metadata.distribution("llmplatform-endpoint-tools").entry_points
                 if ep.group == "console_scripts" and ep.name == script)
    with pytest.raises(SystemExit) as exited:
        entry.load()()
    out.flush()
    err.flush()
    printed = out.buffer.getvalue() + err.buffer.getvalue()  # type: ignore[attr-defined]
    assert exited.value.code == code and b"\\udcff" in printed and b"Traceback" not in printed, printed


@pytest.mark.parametrize("script, argv, option", [
    ("llm-bench", ["http://127.0.0.1:9", "--out", "{long}"], "--out"),
    ("llm-verify", ["--outputs", "{long}"], "--outputs"),
    ("llm-verify", ["--outputs", "{long}", "--kubeconfig", "{long}"], "--outputs"),
])
def test_a_file_name_the_system_refuses_is_bad_usage_not_a_traceback(script, argv, option, capsys):
    """A name over 255 bytes (a pasted path, a label turned file name): Path.is_dir() raises for ENAMETOOLONG (and
    for EACCES), a traceback before any request."""
    long = "a" * 300
    err = refused(TOOLS[script][1], [a.format(long=long) for a in argv], capsys)
    assert f"{option} " in err and "File name too long" in err, err


@pytest.mark.parametrize("script", sorted(TOOLS))
def test_help_describes_the_tool_in_whole_sentences(script, capsys):
    """--help's description is the module docstring's whole first paragraph: its first line alone cut llm-verify's
    at "the Ollama stack (dev," (a stranger's first look at the tool)."""
    module, main = TOOLS[script]
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    paragraph = " ".join(sys.modules[module].__doc__.split("\n\n")[0].split())
    assert exited.value.code == 0 and paragraph.endswith(".") and paragraph in shown, shown[:400]


@pytest.mark.parametrize("tool", [smoke, bench])
def test_the_help_names_the_stack_output_that_holds_the_url(tool, dev, capsys):
    """`--stack-output NAME` asks for an output name the user must know: the help names the one this repository's
    program exports with the published API's base URL, and that output is one (the plan's, a URL)."""
    with pytest.raises(SystemExit):
        tool.main(["--help"])
    named = re.search(r"this repository's stacks: (\w+),", " ".join(capsys.readouterr().out.split()))
    assert named, "the help names no stack output"
    assert str(dev.outputs.get(named.group(1), "")).startswith("http://"), named.group(1)
