"""The API gate's key-map reloader, as the plans register it, run beside a real nginx with the planned nginx.conf: a
key map written anew (what the Secrets Store CSI driver's rotation does to the mounted file after a key is added,
dropped or rotated in Key Vault) is in force without a restart of the gate, and the reloader says nginx loaded it; an
unchanged one reloads nothing; a map nginx cannot load leaves the old one in force, the reloader says nginx refused it
(once, without sending it again) and the next good map loads; one written while the reloader was away is loaded when
it starts; the container stops at once on the signal the runtime stops it with. Beside a stand-in for nginx's master
(FAKE_MASTER), the timings a real nginx does not show here: new workers late but within the wait (a loaded node), a
pid file not there when the map changed (nginx restarting), the stop signal within the wait.
The script runs in dash (/bin/sh here) and in busybox's ash with busybox's applets alone on PATH, as in the router's
Alpine image (its /bin/sh, md5sum, kill, sleep and cat are busybox's): the two shells differ where it matters (ash
ignores SIGQUIT, the image's STOPSIGNAL, unless trapped)."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest
import requests

from llmplatform.inference_specs import (KEY_MAP_LOADED, KEY_MAP_POLL_SECONDS, KEY_MAP_REFUSED,
                                         KEY_MAP_RELOAD_WAIT_SECONDS, SECRETS_MOUNT, api_key_map_line)

from tests.conftest import PROJECT_DIR, plan_for
from tests.nginx_gate import KEY, rewritten, running_router

NEW_KEY = KEY[::-1]
BUSYBOX = PROJECT_DIR / ".venv" / "debian" / "bin" / "busybox"
# the router image's STOPSIGNAL (nginxinc/docker-nginx-unprivileged 872c2c0, 1.29.1 mainline/alpine-slim/Dockerfile;
# its alpine variant builds on it), which the runtime sends every container of that image, the reloader too; SIGTERM
# where an image names none
STOP_SIGNALS = (signal.SIGQUIT, signal.SIGTERM)
# the reloader's wait for nginx's new workers after its SIGHUP, instead of the planned KEY_MAP_RELOAD_WAIT_SECONDS
# (a refusal is said once it is over); nginx forks them within milliseconds, a loaded test machine's within a second
RELOAD_WAIT_S = 4
# the seconds between looks where a test waits for many looks in which nothing may happen (instead of the fixture's
# 0.2 s): the same number of looks in a quarter of the time
QUICK_LOOK_S = 0.05
# the reloader's wait where a test measures it: long enough that a look every three seconds or more shows
REFUSAL_PATIENCE_S = 6


def reloader(plan, deployment: str = "inference-router") -> tuple[dict, dict]:
    """The gate's pod spec and its reloader container, from the plan."""
    (pod,) = [r.inputs["spec"]["template"]["spec"] for r in plan.of_type("kubernetes:apps/v1:Deployment")
              if r.name == deployment]
    (container,) = [c for c in pod["containers"] if c["name"] == "key-map-reloader"]
    return pod, container


def _uid(pod: dict, container: dict):
    """The uid a container runs as: its own securityContext's runAsUser, else the pod's."""
    return (container.get("securityContext") or {}).get("runAsUser",
                                                          (pod.get("securityContext") or {}).get("runAsUser"))


def test_every_gate_with_keys_reloads_its_key_map_and_shares_its_process_namespace(dev, prod):
    for plan in (dev, prod, plan_for("llmd")):
        gates = [r for r in plan.of_type("kubernetes:apps/v1:Deployment") if r.inputs["metadata"]["name"] == "router"]
        assert gates
        for gate in gates:
            pod = gate.inputs["spec"]["template"]["spec"]
            (nginx, reload) = pod["containers"]
            assert pod["shareProcessNamespace"] is True, gate.name
            assert reload["image"] == nginx["image"], gate.name
            # kill(2) without CAP_KILL (every capability is dropped): the sender's uid is the receiver's
            assert _uid(pod, reload) == _uid(pod, nginx) is not None, gate.name
            conf = _conf(plan, gate)
            (include,) = re.findall(rf"include ({SECRETS_MOUNT}/\S+);", conf)
            assert f"map={include};" in reload["command"][2], gate.name
            # both see the driver's rewrites: the CSI volume's folder mounted whole (a subPath mount is never updated)
            (csi,) = [v["name"] for v in pod["volumes"] if v.get("csi")]
            for container in (nginx, reload):
                (mount,) = [m for m in container["volumeMounts"] if m["name"] == csi]
                assert mount["mountPath"] == include.rsplit("/", 1)[0] and not mount.get("subPath"), gate.name
            # the reloader reads the pid file nginx writes, in the folder both mount
            (pid_file,) = re.findall(r"^pid (\S+);$", conf, re.M)
            assert f"pid={pid_file}\n" in reload["command"][2], gate.name
            tmp = {m["name"]: m["mountPath"] for m in nginx["volumeMounts"]}["tmp"]
            assert {m["name"]: m["mountPath"] for m in reload["volumeMounts"]}["tmp"] == tmp
            assert pid_file.startswith(tmp + "/")


def _conf(plan, gate) -> str:
    """The nginx.conf the gate's pods mount (its ConfigMap, by the name the pod's volume gives)."""
    pod = gate.inputs["spec"]["template"]["spec"]
    (name,) = [v["configMap"]["name"] for v in pod["volumes"] if v["name"] == "config"]
    (conf,) = [r.inputs["data"]["nginx.conf"] for r in plan.of_type("kubernetes:core/v1:ConfigMap")
               if r.inputs["metadata"]["name"] == name and r.inputs["metadata"]["namespace"]
               == gate.inputs["metadata"]["namespace"]]
    return conf


def status(base: str, key: str) -> int:
    return requests.post(f"{base}/api/chat", json={}, headers={"Authorization": f"Bearer {key}"},
                         timeout=5).status_code


def wait_for(what, deadline_s: float = 30):
    """Until `what()` holds; the deadline only bounds a failure (a busy machine's processes start late)."""
    deadline = time.monotonic() + deadline_s
    while not what():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.1)


def rotated(folder: Path, name: str, text: str, written: Optional[float] = None) -> None:
    """`name` in `folder` written as the Secrets Store CSI driver writes a mounted secret (kubernetes-sigs/secrets-
    store-csi-driver v1.5.6 pkg/util/fileutil/atomic_writer.go, which its rotation writes through): the visible
    file a symlink to `..data/<name>`, `..data` a symlink to a timestamped folder, swapped by a rename, the old
    folder then removed. `written`: the file's time, if not now."""
    old = [p for p in folder.glob("..2*") if p.is_dir()]
    stamp = folder / f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{time.time_ns()}"
    stamp.mkdir()
    (stamp / name).write_text(text)
    if written is not None:
        os.utime(stamp / name, (written, written))
    (folder / "..data_tmp").symlink_to(stamp.name)
    os.rename(folder / "..data_tmp", folder / "..data")
    visible = folder / name
    if not visible.is_symlink():
        visible.unlink()
        visible.symlink_to(f"..data/{name}")
    for path in old:
        for file in path.iterdir():
            file.unlink()
        path.rmdir()


def _shell(kind: str, root: Path) -> tuple[list[str], dict[str, str]]:
    """How the script is run: dash, or busybox's ash with busybox's applets alone on PATH (a folder of links, as
    Alpine installs them)."""
    if kind == "dash":
        return ["/bin/sh"], dict(os.environ)
    assert BUSYBOX.exists(), f"{BUSYBOX} is missing: `make test` unpacks Debian's busybox-static there"
    applets = root / "applets"
    applets.mkdir()
    for name in subprocess.run([str(BUSYBOX), "--list"], check=True, capture_output=True, text=True).stdout.split():
        (applets / name).symlink_to(BUSYBOX)
    return [str(applets / "sh")], {"PATH": str(applets)}


# The dispositions a container's first process starts with: a signal ignored by whoever started pytest (a background
# job's SIGQUIT and SIGINT) would be ignored by the shell too, and could not be trapped. Set by a launcher that then
# execs the shell (its pid stays the shell's), not by `preexec_fn`: a fork in a worker with other threads alive (the
# endpoint tools' alarm thread, grpcio's) now and then left a child that never ran the script, which never printed
# "watching" (as test_plan.py's Ctrl-C test found of its own child)
DEFAULT_SIGNALS = ("import os, signal, sys\n"
                   "for s in (signal.SIGQUIT, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n"
                   "    signal.signal(s, signal.SIG_DFL)\n"
                   "os.execv(sys.argv[1], sys.argv[1:])")


def with_default_signals(command: list[str]) -> list[str]:
    return [sys.executable, "-I", "-S", "-c", DEFAULT_SIGNALS, *command]


@pytest.fixture(params=["dash", "busybox"])
def gate_and_reloader(request, dev, tmp_path):
    """dev's gate in nginx with a master process (as the image runs it), its key map laid out as the CSI driver
    lays it out, and a starter of its reloader's planned script beside it (paths made local, each asserted to be in
    the script; `poll`: the seconds between looks, instead of the planned KEY_MAP_POLL_SECONDS; the wait for new
    workers RELOAD_WAIT_S)."""
    _, container = reloader(dev)
    started: list[subprocess.Popen] = []
    with running_router(dev, tmp_path, master=True) as running:
        (key_map,) = (tmp_path / "secrets").iterdir()
        script = rewritten(container["command"][2],
                           {"/tmp/": f"{tmp_path}/", f"{SECRETS_MOUNT}/": f"{tmp_path}/secrets/",
                            f"patience={KEY_MAP_RELOAD_WAIT_SECONDS}\n": f"patience={RELOAD_WAIT_S}\n"})
        (pid_file,) = re.findall(r"pid=(\S+)\n", script)
        wait_for(Path(pid_file).exists)
        # the same map, as the driver mounts it: written before nginx started
        rotated(key_map.parent, key_map.name, key_map.read_text(), Path(pid_file).stat().st_mtime - 10)
        shell, env = _shell(request.param, tmp_path)
        log = tmp_path / "reloader.log"

        def start(poll: float = 0.2) -> subprocess.Popen:
            script_polling = rewritten(script, {f"sleep {KEY_MAP_POLL_SECONDS} ": f"sleep {poll} "})
            with log.open("w") as out:
                started.append(subprocess.Popen(with_default_signals([*shell, "-c", script_polling]), stdout=out,
                                                stderr=subprocess.STDOUT, env=env))
            wait_for(lambda: "watching" in log.read_text())  # its first checksum taken: a change from here is seen
            return started[-1]
        try:
            yield {**running, "start": start, "key_map": key_map, "log": log, "probe": container["livenessProbe"],
                   "shell": shell, "env": env, "errors": tmp_path / "logs" / "error.log", "pid_file": Path(pid_file)}
        finally:
            for proc in started:
                proc.kill()
                proc.wait(timeout=10)


def _workers(gate: dict) -> set[int]:
    """The pids of nginx's workers: its master's children (the 4th field of /proc/<pid>/stat, after the name), once
    it has forked as many as its conf's worker_processes (it listens before it forks them)."""
    master = gate["pid_file"].read_text().strip()
    (count,) = re.findall(r"^worker_processes (\d+);", gate["conf"], re.M)
    found: set[int] = set()

    def forked() -> bool:
        found.clear()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile
            if fields[1] == master:
                found.add(int(stat.parent.name))
        return len(found) >= int(count)
    wait_for(forked)
    return found


def said(log: Path, words: str) -> bool:
    return words in log.read_text()


def test_a_key_map_written_anew_is_in_force_without_a_restart(gate_and_reloader):
    gate, key_map, log = gate_and_reloader, gate_and_reloader["key_map"], gate_and_reloader["log"]
    gate["start"]()
    assert status(gate["api"], KEY) == 200
    assert status(gate["api"], NEW_KEY) == 401
    rotated(key_map.parent, key_map.name, api_key_map_line(NEW_KEY))  # the key rotated: the old one dropped
    wait_for(lambda: status(gate["api"], NEW_KEY) == 200)
    # the old workers stop taking connections once the master has started the new ones: a moment later
    wait_for(lambda: status(gate["api"], KEY) == 401)
    # what the operator reads: nginx loaded it (its new workers seen), within the reloader's wait
    wait_for(lambda: said(log, f"key map changed: {KEY_MAP_LOADED}"), RELOAD_WAIT_S + 30)
    assert log.read_text().count("key map changed") == 1
    assert KEY_MAP_REFUSED not in log.read_text()


def test_an_unchanged_key_map_reloads_nothing(gate_and_reloader):
    gate, key_map, log = gate_and_reloader, gate_and_reloader["key_map"], gate_and_reloader["log"]
    gate["start"](poll=QUICK_LOOK_S)
    workers = _workers(gate)
    rotated(key_map.parent, key_map.name, key_map.read_text())  # written again, same keys
    time.sleep(5 * QUICK_LOOK_S)  # five looks
    # neither at its start nor after: no reload (nginx starts new workers within milliseconds of a SIGHUP; the
    # reloader's verdict would come only after its first second of waiting for them), so no verdict either
    assert _workers(gate) == workers
    assert "key map changed" not in log.read_text() and "key map newer" not in log.read_text()
    assert status(gate["api"], KEY) == 200


def test_a_key_map_nginx_cannot_load_leaves_the_old_one_in_force_and_the_reloader_says_so(gate_and_reloader):
    gate, key_map, log, errors = (gate_and_reloader, gate_and_reloader["key_map"], gate_and_reloader["log"],
                                  gate_and_reloader["errors"])
    gate["start"](poll=QUICK_LOOK_S)
    # a map line without its `;`, as a secret edited by hand might hold
    rotated(key_map.parent, key_map.name, api_key_map_line(NEW_KEY).replace(";", ""))
    wait_for(lambda: "[emerg]" in errors.read_text())  # the reload refused, the old workers kept
    wait_for(lambda: said(log, f"key map changed: {KEY_MAP_REFUSED}"), RELOAD_WAIT_S + 30)
    assert KEY_MAP_LOADED not in log.read_text()
    assert status(gate["api"], KEY) == 200  # the previous map, as the reloader says
    assert status(gate["api"], NEW_KEY) == 401
    assert _probe_passes(gate_and_reloader)  # the pod stays ready: it still answers, with the previous map
    # said once, and the refused map not sent again: many looks later (ten), one refusal, one [emerg] (one SIGHUP)
    time.sleep(10 * QUICK_LOOK_S)
    assert log.read_text().count("key map changed") == 1
    assert errors.read_text().count("[emerg]") == 1
    rotated(key_map.parent, key_map.name, api_key_map_line(NEW_KEY))  # a good map after it is loaded
    wait_for(lambda: status(gate["api"], NEW_KEY) == 200)
    # the old workers stop taking connections once the master has started the new ones: a moment later
    wait_for(lambda: status(gate["api"], KEY) == 401)
    wait_for(lambda: said(log, f"key map changed: {KEY_MAP_LOADED}"), RELOAD_WAIT_S + 30)
    assert log.read_text().count("key map changed") == 2


def test_a_key_map_written_while_the_reloader_was_away_is_loaded_when_it_starts(gate_and_reloader):
    """Its first checksum is its own: a rotation while it restarted would otherwise never reach nginx."""
    gate, key_map, log = gate_and_reloader, gate_and_reloader["key_map"], gate_and_reloader["log"]
    # a second after nginx started at the least (busybox's `test -nt` compares whole seconds)
    rotated(key_map.parent, key_map.name, api_key_map_line(NEW_KEY), gate["pid_file"].stat().st_mtime + 2)
    gate["start"]()
    wait_for(lambda: status(gate["api"], NEW_KEY) == 200)
    wait_for(lambda: status(gate["api"], KEY) == 401)
    wait_for(lambda: said(log, f"key map newer than nginx: {KEY_MAP_LOADED}"), RELOAD_WAIT_S + 30)


@pytest.mark.parametrize("stop", STOP_SIGNALS, ids=lambda s: s.name)
def test_the_reloader_stops_at_once_on_its_stop_signal(gate_and_reloader, stop):
    """With the planned poll: the signal arrives while the script waits out its 30 s."""
    proc = gate_and_reloader["start"](poll=KEY_MAP_POLL_SECONDS)
    time.sleep(0.5)
    proc.send_signal(stop)
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{gate_and_reloader['shell'][0]} still runs 3 s after {stop.name}: the pod would stay "
                    "Terminating for its whole grace period")


def _probe_passes(gate_and_reloader) -> bool:
    """The reloader's planned liveness probe, its path made local, in the test's shell."""
    key_map = gate_and_reloader["key_map"]
    command = gate_and_reloader["probe"]["exec"]["command"]
    assert command[:2] == ["/bin/sh", "-c"]
    probe = rewritten(command[2], {f"{SECRETS_MOUNT}/": f"{key_map.parent}/"})
    return subprocess.run([*gate_and_reloader["shell"], "-c", probe], env=gate_and_reloader["env"],
                          timeout=5).returncode == 0


def test_the_probe_passes_while_the_key_map_is_readable(gate_and_reloader):
    assert _probe_passes(gate_and_reloader)
    gate_and_reloader["key_map"].unlink()
    assert not _probe_passes(gate_and_reloader)


# A stand-in for nginx's master where a real nginx on a test machine shows no timing but its own (it forks its new
# workers within milliseconds of a SIGHUP), nor a pid file that is not there: the reloader's script reads nothing of
# nginx but the pid file, the parent pid in /proc/<pid>/stat and the signal's delivery. On SIGHUP it forks a new
# "worker" after `delay` seconds (a loaded node), at once (0), or never (below 0: a configuration refused); it writes
# each SIGHUP's arrival (its time.monotonic(), the system's one clock) to `<pid file>.hups`.
FAKE_MASTER = r"""
import os, signal, sys, time
pid_file, delay = sys.argv[1], float(sys.argv[2])
due = []
def worker():
    if os.fork() == 0:
        time.sleep(3600)
        os._exit(0)
def hup(signum, frame):
    with open(pid_file + ".hups", "a") as out:
        out.write(f"hup {time.monotonic()}\n")
    if delay == 0:
        worker()
    elif delay > 0:
        due.append(time.monotonic() + delay)
signal.signal(signal.SIGHUP, hup)
worker()
with open(pid_file + ".new", "w") as out:
    out.write(f"{os.getpid()}\n")
os.rename(pid_file + ".new", pid_file)
while True:
    time.sleep(0.01)
    if due and time.monotonic() >= due[0]:
        due.pop(0)
        worker()
"""


@pytest.fixture(params=["dash", "busybox"])
def stand_in(request, dev, tmp_path):
    """The planned reloader (paths made local, a look every 0.2 s, `patience` its wait for new workers) beside
    FAKE_MASTER forking after `delay`, its key map written before the master started (no reload at the start)."""
    _, container = reloader(dev)
    started: list[subprocess.Popen] = []
    (tmp_path / "secrets").mkdir()
    shell, env = _shell(request.param, tmp_path)
    log = tmp_path / "reloader.log"

    def start(delay: float, patience: int = RELOAD_WAIT_S) -> dict:
        script = rewritten(container["command"][2],
                           {"/tmp/": f"{tmp_path}/", f"{SECRETS_MOUNT}/": f"{tmp_path}/secrets/",
                            f"patience={KEY_MAP_RELOAD_WAIT_SECONDS}\n": f"patience={patience}\n",
                            f"sleep {KEY_MAP_POLL_SECONDS} ": "sleep 0.2 "})
        (pid_file,) = re.findall(r"pid=(\S+)\n", script)
        (key_map,) = re.findall(r"map=(\S+);", script)
        Path(key_map).write_text(api_key_map_line(KEY))
        os.utime(key_map, (time.time() - 10, time.time() - 10))
        started.append(subprocess.Popen([sys.executable, "-c", FAKE_MASTER, pid_file, str(delay)],
                                        start_new_session=True))
        wait_for(Path(pid_file).exists)
        with log.open("w") as out:
            started.append(subprocess.Popen(with_default_signals([*shell, "-c", script]), stdout=out,
                                            stderr=subprocess.STDOUT, env=env))
        wait_for(lambda: "watching" in log.read_text())
        return {"reloader": started[-1], "key_map": Path(key_map), "pid_file": Path(pid_file),
                "hups": Path(pid_file + ".hups"), "log": log}
    try:
        yield start
    finally:
        for proc in started:
            if FAKE_MASTER in proc.args:  # its own session, its "workers" with it
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
            proc.wait(timeout=10)


def _hups(run: dict) -> int:
    return run["hups"].read_text().count("hup") if run["hups"].exists() else 0


def test_a_master_slow_to_fork_on_a_loaded_node_has_loaded_the_map(stand_in):
    """New workers two seconds after the SIGHUP, within the reloader's wait: loaded, not refused."""
    run = stand_in(delay=2)
    run["key_map"].write_text(api_key_map_line(NEW_KEY))
    wait_for(lambda: said(run["log"], f"key map changed: {KEY_MAP_LOADED}"), RELOAD_WAIT_S + 30)
    assert KEY_MAP_REFUSED not in run["log"].read_text() and _hups(run) == 1


def test_a_sighup_that_could_not_be_sent_is_sent_at_a_later_look(stand_in):
    """No pid file (nginx restarting) when the map changes: no SIGHUP went out, so the map is not done with; the
    next look once the pid file is back sends it."""
    run = stand_in(delay=0)
    away = run["pid_file"].with_suffix(".away")
    run["pid_file"].rename(away)
    run["key_map"].write_text(api_key_map_line(NEW_KEY))
    time.sleep(1.5)  # several looks
    assert _hups(run) == 0 and "key map changed" not in run["log"].read_text()
    away.rename(run["pid_file"])
    wait_for(lambda: said(run["log"], f"key map changed: {KEY_MAP_LOADED}"), RELOAD_WAIT_S + 30)
    assert _hups(run) == 1


def test_a_refusal_is_said_when_the_wait_it_names_is_over(stand_in):
    """A master that forks nothing after the SIGHUP (nginx refused the map): the reloader says so after its wait of
    `patience` looks, one a second, as its words say ("no new workers within <patience> s"), not three times later.
    wait_for's deadline bounds only a failure (30 s past the wait, for a loaded machine), so the wait's length is
    measured here: from the SIGHUP's arrival to the verdict, with a margin of a second a look for a busy machine."""
    run = stand_in(delay=-1, patience=REFUSAL_PATIENCE_S)
    run["key_map"].write_text(api_key_map_line(NEW_KEY))
    wait_for(lambda: said(run["log"], f"key map changed: {KEY_MAP_REFUSED}"), REFUSAL_PATIENCE_S + 30)
    told = time.monotonic()
    (sent,) = [float(line.split()[1]) for line in run["hups"].read_text().splitlines()]
    assert REFUSAL_PATIENCE_S <= told - sent < 2 * REFUSAL_PATIENCE_S + 2, \
        f"the refusal came {told - sent:.1f} s after the SIGHUP, for a wait of {REFUSAL_PATIENCE_S} s"


@pytest.mark.parametrize("stop", STOP_SIGNALS, ids=lambda s: s.name)
def test_the_reloader_stops_at_once_while_it_waits_for_new_workers(stand_in, stop):
    """The stop signal arriving within the wait after a SIGHUP (here 30 s, a master that never forks)."""
    run = stand_in(delay=-1, patience=30)
    run["key_map"].write_text(api_key_map_line(NEW_KEY))
    wait_for(lambda: _hups(run) == 1)
    time.sleep(0.5)
    run["reloader"].send_signal(stop)
    try:
        run["reloader"].wait(timeout=3)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still runs 3 s after {stop.name} while waiting for nginx's new workers")
    assert run["reloader"].returncode == 0 and "key map changed" not in run["log"].read_text()
