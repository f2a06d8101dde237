"""The API gate's key-map reloader, as the plans register it, run beside a real nginx with the planned nginx.conf: a
key map written anew (what the Secrets Store CSI driver's rotation does to the mounted file after a key is added,
dropped or rotated in Key Vault) is in force without a restart of the gate; an unchanged one reloads nothing."""
import re
import subprocess
import time

import pytest
import requests

from llmplatform.inference_specs import KEY_MAP_POLL_SECONDS, SECRETS_MOUNT, api_key_map_line

from tests.conftest import plan_for
from tests.nginx_gate import KEY, rewritten, running_router

NEW_KEY = KEY[::-1]


def reloader(plan, deployment: str = "inference-router") -> tuple[dict, dict]:
    """The gate's pod spec and its reloader container, from the plan."""
    (pod,) = [r.inputs["spec"]["template"]["spec"] for r in plan.of_type("kubernetes:apps/v1:Deployment")
              if r.name == deployment]
    (container,) = [c for c in pod["containers"] if c["name"] == "key-map-reloader"]
    return pod, container


def test_every_gate_with_keys_reloads_its_key_map_and_shares_its_process_namespace(dev, prod):
    for plan in (dev, prod, plan_for("llmd")):
        gates = [r for r in plan.of_type("kubernetes:apps/v1:Deployment") if r.inputs["metadata"]["name"] == "router"]
        assert gates
        for gate in gates:
            pod = gate.inputs["spec"]["template"]["spec"]
            (nginx, reload) = pod["containers"]
            assert pod["shareProcessNamespace"] is True, gate.name
            assert reload["image"] == nginx["image"], gate.name
            conf = _conf(plan, gate)
            (include,) = re.findall(rf"include ({SECRETS_MOUNT}/\S+);", conf)
            assert f"map={include};" in reload["command"][2], gate.name
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


def wait_for(what, deadline_s: float = 10):
    deadline = time.monotonic() + deadline_s
    while not what():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.1)


@pytest.fixture
def gate_and_reloader(dev, tmp_path):
    """dev's gate in nginx with a master process (as the image runs it), and its reloader's planned script run
    beside it by /bin/sh, its paths made local and its poll shortened (both asserted to be in the script)."""
    _, container = reloader(dev)
    with running_router(dev, tmp_path, master=True) as running:
        script = rewritten(container["command"][2], {
            "/tmp/": f"{tmp_path}/", f"{SECRETS_MOUNT}/": f"{tmp_path}/secrets/",
            f"sleep {KEY_MAP_POLL_SECONDS}": "sleep 0.2"})
        (key_map,) = (tmp_path / "secrets").iterdir()
        log = tmp_path / "reloader.log"
        with log.open("w") as out:
            proc = subprocess.Popen(["/bin/sh", "-c", script], stdout=out, stderr=subprocess.STDOUT)
        try:
            yield running, key_map, log
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_a_key_map_written_anew_is_in_force_without_a_restart(gate_and_reloader):
    running, key_map, log = gate_and_reloader
    assert status(running["api"], KEY) == 200
    assert status(running["api"], NEW_KEY) == 401
    key_map.write_text(api_key_map_line(NEW_KEY))  # the key rotated: the old one dropped
    wait_for(lambda: status(running["api"], NEW_KEY) == 200)
    assert status(running["api"], KEY) == 401
    assert log.read_text().count("key map changed") == 1


def test_an_unchanged_key_map_reloads_nothing(gate_and_reloader):
    running, key_map, log = gate_and_reloader
    key_map.write_text(key_map.read_text())  # written again, same keys (a rotation poll that found no new version)
    time.sleep(1)
    assert log.read_text() == ""
    assert status(running["api"], KEY) == 200
