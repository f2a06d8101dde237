"""The three console scripts run as a user runs them (their installed `llm-smoke`, `llm-bench`, `llm-verify`), given
files and arguments a user gets wrong: each is a line naming the argument, the value and what is allowed, an exit
code, no traceback, no secret (docs/decisions.md, "The endpoint tools' last known defects and hostile arguments")."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from endpoint_tools import verify

BIN = Path(sys.executable).parent
TOKEN = "s3cr3t-t0ken-of-the-kubeconfig"
# llm-verify's llm-d part, with nothing else: enough to reach the kubeconfig
LLMD = {"llmdNamespace": "llm-d", "llmdInferencePool": "llmd"}


def run(tool: str, *argv: str, timeout_s: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / tool), *argv], capture_output=True, text=True, timeout=timeout_s)


def said_plainly(done: subprocess.CompletedProcess) -> bool:
    return "Traceback" not in done.stdout + done.stderr and TOKEN not in done.stdout + done.stderr


@pytest.mark.parametrize("name, problem", [
    ("/dev/zero", "is not a file or a pipe"),
    ("folder", "is a folder, not a file"),
    ("missing.json", "no such file"),
])
def test_compare_names_a_file_it_cannot_read_as_results_and_never_reads_a_device(name, problem, tmp_path):
    """`llm-bench --compare /dev/zero` read until memory ran out (Path.read_text), and a folder was named in
    Python's words ("[Errno 21] Is a directory: ..."); the files are checked as llm-verify checks its own."""
    (tmp_path / "folder").mkdir()
    path = name if name.startswith("/") else str(tmp_path / name)
    done = run("llm-bench", "--compare", path, timeout_s=20)
    assert done.returncode == 2 and said_plainly(done), done.stderr
    assert done.stderr.splitlines()[-1] == f"llm-bench: error: cannot compare: {path}: {problem}", done.stderr


def kubeconfig(server) -> dict:
    cluster = {} if server is None else {"server": server}
    return {"apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": cluster}], "users": [{"name": "u", "user": {"token": TOKEN}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}


SHAPE = ("it is YAML of another shape ({}), where a kubeconfig is a mapping of apiVersion, clusters, contexts, users "
         "and current-context")
HTTPS = "give the API server's https:// URL, e.g. https://NAME.hcp.REGION.azmk8s.io:443"


@pytest.mark.parametrize("text, said", [
    (f"- {TOKEN}\n- b\n", SHAPE.format("list")),
    (f"{TOKEN}\n", SHAPE.format("str")),
    ("", "it is empty"),
    (json.dumps(kubeconfig(None)), f"its cluster names no server (clusters[].cluster.server): give the API "
                                   f"server's https:// URL"),
    (json.dumps(kubeconfig("https://127.0.0.1:99999")),
     f"'https://127.0.0.1:99999' is not a valid URL (Port out of range 0-65535): {HTTPS}"),
    (json.dumps(kubeconfig("127.0.0.1:6443")), f"'127.0.0.1:6443' does not start with http:// or https://: {HTTPS}"),
])
def test_a_kubeconfig_of_the_wrong_shape_or_server_is_one_line_saying_so(text, said, tmp_path):
    """YAML that is no mapping failed inside the Kubernetes client's loader in Python's words ("list indices must
    be integers or slices, not str"); a cluster without a server sent every call to no host (urllib3's FutureWarning
    on stderr, "cannot reach the API server: No host specified." on each line), and a port out of range read
    "cannot reach the API server at URL: URL/api/v1/nodes?labelSelector=". A token beside it is never shown."""
    outputs, config = tmp_path / "outputs.json", tmp_path / "kubeconfig"
    outputs.write_text(json.dumps(LLMD))
    config.write_text(text)
    done = run("llm-verify", "--outputs", str(outputs), "--kubeconfig", str(config), "--kube-timeout", "2")
    assert done.returncode == 1 and said_plainly(done) and done.stderr == "", done.stderr
    assert done.stdout == f"FAIL  reach          the kubeconfig is not usable: {said}\n", done.stdout


def test_a_kubeconfig_output_of_the_wrong_shape_is_named_as_a_file_is(tmp_path, capsys):
    """The stack's kubeconfig output is read by the same rule as --kubeconfig's file."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**LLMD, "kubeconfig": f"- {TOKEN}\n"}))
    assert verify.main(["--outputs", str(path), "--kube-timeout", "2"]) == 1
    out = capsys.readouterr().out
    assert out == f"FAIL  reach          the kubeconfig is not usable: {SHAPE.format('list')}\n", out


@pytest.mark.parametrize("argv, said", [
    ([b"llm-bench", b"http://127.0.0.1:9", b"--prompt", b"caf\xe9"],
     "argument --prompt: 'caf\ufffd' holds the byte 0xE9 (character 4), which is not UTF-8: give the prompt as UTF-8 "
     "text (a file of another encoding: `iconv -t utf-8`)"),
    ([b"llm-smoke", b"http://127.0.0.1:9", b"--model", b"m\xff"],
     "argument --model: 'm\ufffd' holds the byte 0xFF (character 2), which is not UTF-8: give a model name as UTF-8 "
     "text (a file of another encoding: `iconv -t utf-8`)"),
])
def test_text_sent_to_the_server_that_is_not_utf8_is_bad_usage_not_sent_as_escapes(argv, said):
    """A prompt of a Latin-1 terminal, or `--prompt "$(cat notes.txt)"` of another encoding: Python reads each byte
    that is not UTF-8 as a lone surrogate (PEP 383), and the request's JSON carried `caf\\udce9`, a text the user
    never wrote (a server decodes it to U+FFFD or fails on it); the result file kept it too."""
    done = subprocess.run([bytes(BIN / argv[0].decode()), *argv[1:]], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines()[-1] == f"{argv[0].decode()}: error: {said}", done.stderr


def test_an_exec_plugin_that_never_gives_credentials_is_stopped_and_named(tmp_path, monkeypatch, capsys):
    """The Kubernetes client waits for the kubeconfig's exec plugin with no timeout and, when the output is no
    terminal, hides its stderr (kubernetes-client/python 37.0.2 config/exec_provider.py `run`): a kubelogin waiting
    for a device-code login no one was shown held llm-verify for as long, without a word. Its wait is bounded (here
    shortened) and the plugin stopped."""
    import os
    import time
    from endpoint_tools import checks
    from tests.endpoint_tools.test_verify import kubeconfig_of
    monkeypatch.setattr(checks, "LOGIN_TIMEOUT_S", 0.5)
    pid_file = tmp_path / "plugin.pid"
    plugin = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(10)"
    config = kubeconfig_of("https://127.0.0.1:9", {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable, "args": ["-c", plugin]}})
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**LLMD, "kubeconfig": json.dumps(config)}))
    started = time.perf_counter()
    assert verify.main(["--outputs", str(path), "--kube-timeout", "2"]) == 1
    elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert out.startswith("FAIL  reach          the kubeconfig's login failed: exec: no credentials from the plugin "
                          "within 0.5 s (a login it asks for is not shown when the output is no terminal)"), out
    assert elapsed < 5, elapsed
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)  # stopped and reaped
