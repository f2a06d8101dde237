"""llm-verify against kubeconfig exec plugins that are real programs (small shell scripts in a tmp dir): a wrapper
whose child outlives it, Ctrl-C while one waits, a renewal that fails while the credentials it would replace are
still valid, a failing plugin's long stderr, an output that is no ExecCredential, a device-code prompt no one sees,
and the terminal the plugin reads (docs/decisions.md, "The endpoint tools' login plugins, round two")."""
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from endpoint_tools import checks, verify
from tests.endpoint_tools.test_hostile_arguments import LLMD
from tests.endpoint_tools.test_verify import kubeconfig_of
from tests.kube_fake import FakeKubeApi, _Handler

PLUGIN_API = "client.authentication.k8s.io/v1beta1"
LOGIN_FAILED = "FAIL  reach          the kubeconfig's login failed: "
HINT = (" (its exec plugin, kubelogin for the stack's kubeconfig: on PATH and logged in? docs/operations.md, "
        "\"Reaching the cluster (kubelogin)\")")
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
# llm-verify runs outside a terminal's foreground (as in CI) whether or not pytest is in one: a plugin gets a
# session of its own only then (checks._in_a_terminals_foreground); the tools run here as subprocesses get a
# session of their own
NO_TERMINAL = {"start_new_session": True}


@pytest.fixture(autouse=True)
def not_in_a_terminals_foreground(monkeypatch):
    monkeypatch.setattr(checks, "_in_a_terminals_foreground", lambda: False)


def plugin(tmp_path: Path, script: str) -> str:
    """An executable shell script in tmp_path: the kubeconfig's exec plugin."""
    path = tmp_path / "plugin.sh"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return str(path)


def credential(token: str, expiry: datetime) -> str:
    """A shell line printing an ExecCredential of `token`, valid until `expiry`."""
    body = {"apiVersion": PLUGIN_API, "kind": "ExecCredential",
            "status": {"token": token, "expirationTimestamp": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}}
    return f"echo '{json.dumps(body)}'"


def outputs_with(tmp_path: Path, command: str, server: str = "https://127.0.0.1:9", stack: dict = LLMD) -> str:
    """An outputs file of `stack` whose kubeconfig logs in to `server` by running `command`."""
    config = kubeconfig_of(server, {"exec": {"apiVersion": PLUGIN_API, "command": command}})
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**stack, "kubeconfig": json.dumps(config)}))
    return str(path)


def verify_lines(tmp_path: Path, script: str, capsys) -> tuple[int, list[str], float]:
    """llm-verify (in this process) of the llm-d outputs whose kubeconfig runs `script`: its exit code, its lines
    and the seconds it took."""
    path = outputs_with(tmp_path, plugin(tmp_path, script))
    started = time.perf_counter()
    code = verify.main(["--outputs", path, "--kube-timeout", "2"])
    return code, capsys.readouterr().out.splitlines(), time.perf_counter() - started


def running(pid_file: Path) -> bool:
    """Whether the process whose pid the file holds still runs (a zombie has ended: this machine's init may not reap
    an orphan at once)."""
    try:
        stat = Path(f"/proc/{int(pid_file.read_text())}/stat").read_text()
    except (OSError, ValueError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def stop(*pid_files: Path) -> None:
    for pid_file in pid_files:
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def test_a_wrapper_scripts_own_login_is_stopped_with_it(tmp_path, monkeypatch, capsys):
    """A plugin that is a shell script running az or kubelogin: at the bound only the script was killed, and its
    child ran on after llm-verify ended (holding the pipes it inherited). The plugin runs in a session of its own,
    and its whole group is killed; the wait still ends at the bound."""
    monkeypatch.setattr(checks, "LOGIN_TIMEOUT_S", 0.5)
    child = tmp_path / "child.pid"
    try:
        code, lines, elapsed = verify_lines(tmp_path, f"sleep 30 & echo $! > {child}; wait", capsys)
        time.sleep(0.2)  # SIGKILL is delivered at once; let the kernel finish the child
        assert not running(child), "the plugin's child runs on"
    finally:
        stop(child)
    assert code == 1 and lines[0].startswith(f"{LOGIN_FAILED}exec: no credentials from the plugin within 0.5 s"), lines
    assert elapsed < 10, elapsed


def test_on_a_terminal_the_bound_stops_the_wrapper_scripts_login_too(tmp_path, monkeypatch, capsys):
    """With a controlling terminal the plugin keeps llm-verify's group (checks._in_a_terminals_foreground), so the
    bound cannot kill a group of its own: it killed the script alone, and its child (az, kubelogin) ran on after
    llm-verify ended, as in 0.17.0. The plugin's processes of that group are killed with it; llm-verify is not."""
    monkeypatch.setattr(checks, "_in_a_terminals_foreground", lambda: True)
    monkeypatch.setattr(checks, "LOGIN_TIMEOUT_S", 0.5)
    child, ours = tmp_path / "child.pid", tmp_path / "ours.pid"
    ours.write_text(str(os.getpid()))
    try:
        code, lines, elapsed = verify_lines(tmp_path, f"sleep 30 & echo $! > {child}; wait", capsys)
        time.sleep(0.2)  # SIGKILL is delivered at once; let the kernel finish the child
        assert child.read_text().strip() and not running(child), "the plugin's child runs on"
    finally:
        stop(child)
    assert running(ours)
    assert code == 1 and lines[0].startswith(f"{LOGIN_FAILED}exec: no credentials from the plugin within 0.5 s"), lines
    assert elapsed < 10, elapsed


class _Recorded(_Handler):
    """The fake API server's handler, keeping each request's Authorization header."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.authorizations.append(self.headers.get("Authorization"))  # type: ignore[attr-defined]
        super().do_GET()


class _RecordingApi(FakeKubeApi):
    """An empty cluster's API server (each check asks, and fails on what it finds) keeping each Authorization."""

    def __init__(self) -> None:
        super().__init__({})
        self.RequestHandlerClass = _Recorded
        self.authorizations: list[str] = []


def test_a_failed_renewal_keeps_the_credentials_until_they_expire(tmp_path, monkeypatch, capsys):
    """The Python client renews 5 minutes before the credentials' expirationTimestamp (kube_config.py
    EXPIRY_SKEW_PREVENTION_DELAY); kubectl (client-go exec.go `getCreds`) sends its cached credentials until that
    instant and asks the plugin only after. A renewal that failed while they were valid failed every check; they
    are now sent until then, the failure said once on stderr and the plugin not run again."""
    monkeypatch.setattr(checks, "LOGIN_TIMEOUT_S", 5)
    runs = tmp_path / "runs"
    valid_for_2_minutes = credential("first", datetime.now(timezone.utc) + timedelta(minutes=2))
    script = (f"echo run >> {runs}\n"
              f"if [ $(wc -l < {runs}) -gt 1 ]; then echo 'Error: failed to get token: network unreachable' >&2; "
              f"exit 1; fi\n{valid_for_2_minutes}")
    api = _RecordingApi()
    with api:
        verify.main(["--outputs", outputs_with(tmp_path, plugin(tmp_path, script), api.url), "--kube-timeout", "5"])
    captured = capsys.readouterr()
    assert "login" not in captured.out, captured.out
    assert len(api.authorizations) >= 7 and set(api.authorizations) == {"Bearer first"}, api.authorizations
    assert captured.err.count("note: renewing the kubeconfig's credentials failed (the kubeconfig's login failed: "
                              "exec: process returned 1. Error: failed to get token: network unreachable") == 1, \
        captured.err
    assert runs.read_text().count("run") == 2


KLOG = "I1207 12:00:00.000000 4242 token.go:33] request to login.microsoftonline.com took 12ms, attempt {n}"
AZ_WARNING = "WARNING: A Cloud Shell credential problem occurred. When you report the issue, include this line {n}"


@pytest.mark.parametrize("stderr_lines, shown", [
    # kubelogin -v 10: its log, then cobra's one error line last
    ([KLOG.format(n=n) for n in range(3000)] + ["Error: failed to get token: AzureCLICredential: ERROR: Please run "
                                                "'az login' to setup account."],
     "Error: failed to get token: AzureCLICredential: ERROR: Please run 'az login' to setup account. "
     "[1 of its 3,001 stderr lines]"),
    # the Azure CLI's own words: warnings, then its error
    ([AZ_WARNING.format(n=n) for n in range(5)] + ["ERROR: AADSTS70043: The refresh token has expired due to "
                                                   "inactivity. Please run 'az login' to setup account."],
     "ERROR: AADSTS70043: The refresh token has expired due to inactivity. Please run 'az login' to setup "
     "account. [1 of its 6 stderr lines]"),
    # no error line: its last lines
    ([f"step {n}" for n in range(2000)], " | ".join(f"step {n}" for n in range(1975, 2000))
     + " [25 of its 2,000 stderr lines]"),
    # one line of 100 kB: its start and its end
    (["Error: " + "x" * 100_000 + " the end"], "Error: " + "x" * 140 + " ... " + "x" * 139 + " the end"),
    # one of a megabyte: the end kept (64 KiB) is no longer an error line
    (["Error: " + "x" * 1_000_000 + " the end"], "x" * 147 + " ... " + "x" * 139 + " the end"),
])
def test_a_failing_plugins_stderr_is_cut_to_the_lines_that_say_why(tmp_path, capsys, stderr_lines, shown):
    """The client put a failing plugin's whole stderr in its message, of which the FAIL line kept the first 200
    characters: kubelogin's verbose log, or the Azure CLI's warnings, and the line saying why was lost."""
    (tmp_path / "stderr.txt").write_text("\n".join(stderr_lines) + "\n")
    code, lines, _ = verify_lines(tmp_path, f"cat {tmp_path / 'stderr.txt'} >&2; exit 1", capsys)
    assert code == 1 and lines == [f"{LOGIN_FAILED}exec: process returned 1. {shown}{HINT}"], lines
    assert len(lines[0]) < 600


def test_a_plugin_printing_noise_without_end_is_read_within_bounds(tmp_path):
    """communicate() kept all a plugin printed: one printing noise on stderr until the bound held 4 GB after 3 s
    (gigabytes a second), and quoting it took a minute. Its stderr's end is kept, the lines before counted."""
    path = outputs_with(tmp_path, plugin(tmp_path, "exec yes 'a line of noise' >&2"))
    # VmHWM: the peak of this process's memory since its exec (ru_maxrss keeps the forking pytest process's peak)
    code = ("import re, sys; from pathlib import Path; from endpoint_tools import checks, verify; "
            f"checks.LOGIN_TIMEOUT_S = 1; verify.main(['--outputs', {path!r}, '--kube-timeout', '1']); "
            "print(re.search(r'VmHWM:\\s+(\\d+) kB', Path('/proc/self/status').read_text())[1], file=sys.stderr)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    max_rss_mb = int(done.stderr.split()[-1]) / 1024
    assert max_rss_mb < 300 and elapsed < 15, (max_rss_mb, elapsed)
    assert re.search(r"; it said: a line of noise( \| a line of noise){15} \[16 of its [0-9,]{7,} stderr lines\] \(its",
                     done.stdout), done.stdout


def test_a_plugin_printing_an_output_without_end_is_stopped(tmp_path, monkeypatch, capsys):
    """Its stdout is where the credential is, a few kilobytes: past a mebibyte the plugin is stopped at once (here it
    prints 2 MB, then waits), where it was read until the bound."""
    monkeypatch.setattr(checks, "LOGIN_TIMEOUT_S", 5)
    code, lines, elapsed = verify_lines(tmp_path, "yes '{}' | head -c 2000000; exec sleep 30", capsys)
    assert code == 1 and lines == [f"{LOGIN_FAILED}exec: the plugin's output passed 1,048,576 bytes, more than any "
                                   f"ExecCredential (a token, or a certificate and its key){HINT}"], lines
    assert elapsed < 4, elapsed


@pytest.mark.parametrize("output, said", [
    ("", "exec: the plugin printed nothing (its ExecCredential, JSON, belongs on its standard output)"),
    ("Signed in as someone", "exec: the plugin's output is not JSON (20 characters; its ExecCredential, JSON, "
                             "belongs there)"),
    ("[" * 100_000, "exec: the plugin's output is not JSON (100,000 characters; its ExecCredential, JSON, belongs "
                    "there)"),
    ("null", "exec: the plugin's output is null (JSON), not an ExecCredential object"),
    ('"token"', "exec: the plugin's output is a string (JSON), not an ExecCredential object"),
    (json.dumps({"apiVersion": PLUGIN_API, "kind": "ExecCredential", "status": None}),
     "exec: the plugin's ExecCredential has a status that is null, not an object (with its token)"),
    (json.dumps({"apiVersion": PLUGIN_API, "kind": "ExecCredential", "status": 5}),
     "exec: the plugin's ExecCredential has a status that is a number, not an object (with its token)"),
    (json.dumps({"apiVersion": PLUGIN_API, "kind": "ExecCredential",
                 "status": {"token": "t", "expirationTimestamp": "in an hour"}}),
     "exec: the plugin's status.expirationTimestamp is not an RFC 3339 time (2026-12-07T17:00:00Z): 'in an hour'"),
    (json.dumps({"apiVersion": PLUGIN_API, "kind": "ExecCredential", "status": {"token": "t",
                                                                                "expirationTimestamp": 3600}}),
     "exec: the plugin's status.expirationTimestamp is not an RFC 3339 time (2026-12-07T17:00:00Z): 3600"),
    # the client's own words, already plain
    (json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                 "status": {"token": "t"}}),
     f"exec: plugin api version client.authentication.k8s.io/v1 does not match {PLUGIN_API}"),
    (json.dumps({"apiVersion": PLUGIN_API, "kind": "ExecCredential", "status": {}}),
     "exec: missing token or clientCertificateData field in plugin output"),
])
def test_a_plugin_that_exits_0_without_a_credential_is_one_plain_line(tmp_path, capsys, output, said):
    """Exit 0 with an output that is no ExecCredential: the client said it in Python's words ("Expecting value: line
    1 column 1 (char 0)", "argument of type 'NoneType' is not iterable", "maximum recursion depth exceeded",
    "'int' object has no attribute 'strip'"); never quoting the output, where a token may be."""
    (tmp_path / "out.txt").write_text(output)
    code, lines, _ = verify_lines(tmp_path, f"cat {tmp_path / 'out.txt'}", capsys)
    assert code == 1 and lines == [f"{LOGIN_FAILED}{said}{HINT}"], lines


def test_a_device_code_prompt_no_one_sees_is_quoted_when_the_bound_stops_it(tmp_path, monkeypatch, capsys):
    """kubelogin's device code (its default login) prints where to sign in on stderr and waits: with the output
    no terminal the client hides it; at the bound the FAIL line now says what the plugin asked."""
    monkeypatch.setattr(checks, "LOGIN_TIMEOUT_S", 0.5)
    prompt = ("To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code "
              "ABCD1234 to authenticate.")
    code, lines, elapsed = verify_lines(tmp_path, f"echo '{prompt}' >&2; exec sleep 30", capsys)
    assert code == 1 and lines == [
        f"{LOGIN_FAILED}exec: no credentials from the plugin within 0.5 s (a login it asks for is not shown when the "
        f"output is no terminal); it said: {prompt}{HINT}"], lines
    assert elapsed < 10, elapsed


@pytest.mark.parametrize("output_to_a_file", [False, True])
def test_the_plugin_reads_the_terminal_it_is_given(tmp_path, output_to_a_file):
    """On a terminal the client shows the plugin's prompt and gives it the terminal (interactive): no bound, no
    session of its own, the answer reaches it. With the output to a file (`llm-verify > log` on a terminal), the
    bounded plugin still reads the terminal: it keeps llm-verify's foreground group (a process group of its own
    would be a background group, stopped by the terminal when it reads, SIGTTIN, until the bound killed it)."""
    answer = tmp_path / "answer"
    script = (f"echo 'enter the code:' >&2; read line; echo \"$line\" > {answer}\n"
              + credential("t", datetime.now(timezone.utc) + timedelta(hours=1)))
    path = outputs_with(tmp_path, plugin(tmp_path, script))
    log = tmp_path / "verify.log"
    pid, terminal = pty.fork()
    if pid == 0:  # the child: llm-verify with the pty as its controlling terminal, in the foreground
        if output_to_a_file:
            os.dup2(os.open(log, os.O_WRONLY | os.O_CREAT), 1)
        os.execv(sys.executable, [sys.executable, "-c", "from endpoint_tools import verify; verify.cli()",
                                  "--outputs", path, "--kube-timeout", "1"])
    shown, answered, deadline = b"", False, time.monotonic() + 30
    try:
        while time.monotonic() < deadline and not (answered and answer.exists()):
            if select.select([terminal], [], [], 0.1)[0]:
                shown += os.read(terminal, 65536)
            if not answered and (b"enter the code:" in shown or output_to_a_file):
                os.write(terminal, b"ABCD1234\n")
                answered = True
        assert answer.exists() and answer.read_text() == "ABCD1234\n", shown
        assert (b"enter the code:" in shown) != output_to_a_file, shown  # a prompt on a terminal only
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(terminal)


def test_a_plugin_that_asks_through_dev_tty_is_answered_with_the_output_to_a_file(tmp_path):
    """`llm-verify > log` on a terminal: the client pipes the plugin's stderr (no one sees a prompt there) and a
    plugin that asks through /dev/tty (Python's getpass, a script's `read < /dev/tty`) reaches the person. In a
    session of its own it had no controlling terminal ("cannot create /dev/tty: No such device or address") and
    failed; with one, llm-verify's session and group stay the plugin's."""
    answer = tmp_path / "answer"
    script = (f"echo 'enter the code:' > /dev/tty; read line < /dev/tty; echo \"$line\" > {answer}\n"
              + credential("t", datetime.now(timezone.utc) + timedelta(hours=1)))
    path = outputs_with(tmp_path, plugin(tmp_path, script))
    pid, terminal = pty.fork()
    if pid == 0:  # llm-verify with the pty as its controlling terminal, its output to a file
        os.dup2(os.open(tmp_path / "verify.log", os.O_WRONLY | os.O_CREAT), 1)
        os.execv(sys.executable, [sys.executable, "-c", "from endpoint_tools import verify; verify.cli()",
                                  "--outputs", path, "--kube-timeout", "1"])
    shown, answered, deadline = b"", False, time.monotonic() + 30
    try:
        while time.monotonic() < deadline and not answer.exists():
            if select.select([terminal], [], [], 0.1)[0]:
                try:
                    shown += os.read(terminal, 65536)
                except OSError:  # the child ended: the terminal has no other end
                    break
            if not answered and b"enter the code:" in shown:
                os.write(terminal, b"ABCD1234\n")
                answered = True
        assert answer.exists() and answer.read_text() == "ABCD1234\n", shown
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(terminal)


def test_in_a_background_job_a_plugin_that_asks_through_dev_tty_fails_at_once(tmp_path):
    """`llm-verify > log &`, or `timeout 60 llm-verify` (GNU timeout puts itself and the tool in a process group of
    their own): a controlling terminal, but a background group. A plugin kept in that group and reading /dev/tty is
    stopped by the terminal (SIGTTIN) until the 120 s bound; in a session of its own it is told at once that there
    is no terminal, and llm-verify quotes it."""
    script = "echo 'enter the code:' > /dev/tty; read line < /dev/tty"
    path = outputs_with(tmp_path, plugin(tmp_path, script))
    log = tmp_path / "verify.log"
    pid, terminal = pty.fork()
    if pid == 0:  # the session's leader (a shell) starts llm-verify in a background group, its output to a file
        job = os.fork()
        if job == 0:
            os.setpgid(0, 0)
            (tmp_path / "job.pid").write_text(str(os.getpid()))
            os.dup2(os.open(log, os.O_WRONLY | os.O_CREAT), 1)
            os.execv(sys.executable, [sys.executable, "-c", "from endpoint_tools import verify; verify.cli()",
                                      "--outputs", path, "--kube-timeout", "1"])
        os._exit(os.waitpid(job, 0)[1] >> 8)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and os.waitpid(pid, os.WNOHANG) == (0, 0):
            if select.select([terminal], [], [], 0.1)[0]:
                try:
                    os.read(terminal, 65536)
                except OSError:
                    break
        said = log.read_text() if log.exists() else ""
        assert said.startswith(LOGIN_FAILED) and "/dev/tty" in said, said
    finally:
        try:
            os.killpg(int((tmp_path / "job.pid").read_text()), signal.SIGKILL)  # llm-verify and a stopped plugin
        except (OSError, ValueError):
            pass
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:  # it has ended and been reaped
            pass
        os.close(terminal)


# (signal, llm-verify's status, its stderr): Ctrl-C's message and 130, or the status of a process the signal ended
ENDINGS = [(signal.SIGINT, 130, "interrupted\n"), (signal.SIGTERM, -signal.SIGTERM, ""),
           (signal.SIGHUP, -signal.SIGHUP, "")]


@pytest.mark.parametrize("signum, status, said", ENDINGS, ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_while_the_plugin_waits_stops_it_and_its_child(tmp_path, signum, status, said):
    """Ctrl-C: in its own session the plugin does not get the terminal's SIGINT, and the client's communicate() lets
    the interrupt through after a quarter second without stopping the plugin; it is killed with its group (before
    the session, a SIGINT sent to llm-verify alone, a CI runner cancelling a job, left the plugin running too).
    SIGTERM (`timeout 60 llm-verify`, which signals its process group; a CI runner's cancel) or SIGHUP (the terminal
    closed) ended llm-verify with the plugin in its group, so they reached the plugin too; in a session of its own
    it got neither and ran on with its child, unbounded. llm-verify still ends by the signal, as before, and the
    plugin's group is killed first."""
    script_pid, child = tmp_path / "plugin.pid", tmp_path / "child.pid"
    path = outputs_with(tmp_path, plugin(tmp_path, f"echo $$ > {script_pid}; sleep 30 & echo $! > {child}; wait"))
    tool = subprocess.Popen([sys.executable, "-c", "from endpoint_tools import verify; verify.cli()", "--outputs",
                             path, "--kube-timeout", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **NO_TERMINAL)
    try:
        deadline = time.monotonic() + 20
        while not (child.exists() and child.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)
        tool.send_signal(signum)
        out, err = tool.communicate(timeout=20)
        time.sleep(0.2)
        assert tool.returncode == status and out == "" and err == said, (tool.returncode, out, err)
        assert not running(script_pid) and not running(child), "the plugin or its child runs on"
    finally:
        tool.kill()
        stop(script_pid, child)


def test_a_long_stderr_of_characters_wider_than_a_byte_is_quoted(tmp_path, capsys):
    """Of a long stderr the last 64 KiB are kept, cut at a byte: a cut inside a character (an accented or Asian
    message, kubelogin's or the Azure CLI's in the user's language) failed to decode, and the FAIL line said
    "'utf-8' codec can't decode byte 0x80 in position 0" instead of the plugin's error. Here every cut is inside
    one: "…" is 3 bytes, after 2 of ASCII, and each write (read whole: the pipe is drained between them) holds
    whole characters."""
    piece = tmp_path / "piece.txt"
    piece.write_text("…" * 10_000)  # 30,000 bytes
    code, lines, _ = verify_lines(
        tmp_path, f"printf ab >&2; for n in 1 2 3 4 5 6; do cat {piece} >&2; sleep 0.05; done\n"
                  f"echo >&2; echo 'Error: failed to get token: the end' >&2; exit 1", capsys)
    assert code == 1 and lines == [f"{LOGIN_FAILED}exec: process returned 1. Error: failed to get token: the end "
                                   f"[1 of its 2 stderr lines]{HINT}"], lines


def test_a_plugin_whose_daemon_holds_its_output_is_named_at_the_bound(tmp_path, monkeypatch, capsys):
    """A plugin that starts a daemon of its own session (setsid) which keeps the plugin's output open: the pipes do
    not end when the plugin does (the client's communicate(), and kubectl's cmd.Run(), wait for their end), so the
    bound stops the read; the daemon, of another session, is not killed. The line said "no credentials from the
    plugin ... (a login it asks for is not shown ...)" of a plugin that had printed them and exited 0."""
    monkeypatch.setattr(checks, "LOGIN_TIMEOUT_S", 1)
    daemon = tmp_path / "daemon.pid"
    try:
        code, lines, elapsed = verify_lines(
            tmp_path, f"setsid sh -c 'echo $$ > {daemon}; exec sleep 30' &\n"
                      + credential("t", datetime.now(timezone.utc) + timedelta(hours=1)), capsys)
    finally:
        stop(daemon)
    assert code == 1 and lines == [f"{LOGIN_FAILED}exec: the plugin ended (exit code 0), but a process it left running "
                                   f"(a daemon?) held its output open until the 1 s bound{HINT}"], lines
    assert elapsed < 10, elapsed


def test_a_plugin_that_closes_its_output_and_waits_is_stopped_at_the_bound(tmp_path, monkeypatch, capsys):
    """Its pipes end when it closes them, and it may run on: the wait for its exit is the rest of the bound, not
    unbounded (a guard of _read's last wait: no other case reaches it)."""
    monkeypatch.setattr(checks, "LOGIN_TIMEOUT_S", 1)
    code, lines, elapsed = verify_lines(tmp_path, "exec >&- 2>&-; exec sleep 30", capsys)
    assert code == 1 and lines == [f"{LOGIN_FAILED}exec: no credentials from the plugin within 1 s (a login it asks "
                                   f"for is not shown when the output is no terminal){HINT}"], lines
    assert elapsed < 10, elapsed
