"""llm-verify's bound on the kubeconfig's exec plugin (`checks._login_bounded`) where the first version missed it: a
plugin whose own child holds its output open, and the client's later run of the plugin when the credentials expire
(docs/decisions.md, "The kit's pool refusals and llm-verify's login bound reviewed")."""
import json
import os
import signal
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from endpoint_tools import checks, verify
from tests.endpoint_tools.test_hostile_arguments import LLMD
from tests.endpoint_tools.test_verify import kubeconfig_of

PLUGIN_API = "client.authentication.k8s.io/v1beta1"
STOPPED = "the kubeconfig's login failed: exec: no credentials from the plugin within 0.5 s"


def verify_with_plugin(tmp_path, plugin: str) -> tuple[int, float]:
    """llm-verify of the llmd outputs whose kubeconfig logs in with `python -c plugin`: its exit code and seconds."""
    config = kubeconfig_of("https://127.0.0.1:9", {"exec": {
        "apiVersion": PLUGIN_API, "command": sys.executable, "args": ["-c", plugin]}})
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**LLMD, "kubeconfig": json.dumps(config)}))
    started = time.perf_counter()
    code = verify.main(["--outputs", str(path), "--kube-timeout", "2"])
    return code, time.perf_counter() - started


def stop(pid_file) -> None:
    """Stop a process a test's plugin left running (its pid in the file), if it still runs."""
    try:
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
    except (OSError, ValueError):
        pass


def test_a_plugin_whose_child_holds_its_output_open_is_still_stopped_in_time(tmp_path, monkeypatch, capsys):
    """A wrapper (a script that runs kubelogin) killed at the bound left its child holding the pipes: the client's
    reading them to their end waited as long as the child ran. The wrapper is killed and reaped, the pipes closed."""
    monkeypatch.setattr(checks, "LOGIN_TIMEOUT_S", 0.5)
    child = tmp_path / "child.pid"
    plugin = (f"import subprocess, time; child = subprocess.Popen(['sleep', '15']); "
              f"open({str(child)!r}, 'w').write(str(child.pid)); time.sleep(15)")
    try:
        code, elapsed = verify_with_plugin(tmp_path, plugin)
    finally:
        stop(child)
    out = capsys.readouterr().out
    assert code == 1 and out.startswith(f"FAIL  reach          {STOPPED}"), out
    assert elapsed < 10, elapsed  # the child runs 15 s


@pytest.mark.parametrize("raised", [KeyboardInterrupt, RuntimeError])
def test_the_client_gets_its_own_subprocess_module_back_however_the_load_ends(raised):
    from kubernetes.config import exec_provider
    real = exec_provider.subprocess
    with pytest.raises(raised):
        with checks._login_bounded():
            assert exec_provider.subprocess is not real  # pytest's output is captured: no terminal
            raise raised()
    assert exec_provider.subprocess is real


def test_a_renewal_is_bounded_named_and_not_run_again_for_each_later_check(tmp_path, monkeypatch, capsys):
    """The plugin gives a token that has expired; the client runs it again from the next request (kube_config.py
    `refresh_api_key_hook`), after the load's bound was lifted: that run waited as long as the plugin did (here it
    hangs), unnamed. And the credentials stay expired after a renewal the bound stopped,
    so the client ran the plugin again from every later request, each waiting out the bound (LOGIN_TIMEOUT_S, 120 s
    a check). The plugin runs twice (the load, the first renewal); every check it held up fails saying why."""
    monkeypatch.setattr(checks, "LOGIN_TIMEOUT_S", 0.5)
    runs, last = tmp_path / "runs", tmp_path / "plugin.pid"
    # expired already: a renewal that fails while the credentials are still valid keeps them (test_login_plugins.py)
    expiry = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    credential = json.dumps({"apiVersion": PLUGIN_API, "kind": "ExecCredential",
                             "status": {"token": "t", "expirationTimestamp": expiry}})
    plugin = (f"import os, time, pathlib; runs = pathlib.Path({str(runs)!r}); "
              f"pathlib.Path({str(last)!r}).write_text(str(os.getpid())); ran = runs.exists()\n"
              f"with runs.open('a') as log: log.write('run\\n')\n"
              f"if ran: time.sleep(15)\n"
              f"print({credential!r})")
    try:
        code, elapsed = verify_with_plugin(tmp_path, plugin)
    finally:
        stop(last)
    assert elapsed < 10, elapsed  # one wait for the plugin alone is 15 s
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.startswith("FAIL") and not line.startswith("FAIL  smoke")]
    assert code == 1 and len(failed) == 7 and all(STOPPED in line for line in failed), out
    assert runs.read_text().count("run") == 2, runs.read_text()
