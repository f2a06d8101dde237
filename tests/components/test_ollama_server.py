"""OllamaServer (components/llmplatform/ollama_server.py): pinned, hardened, probed, on the shared store, draining the
answers in flight before it stops, and refusing an env var it manages."""
from __future__ import annotations

import re

import pytest
from llmplatform.inference_specs import drain_script
import llmplatform as P
from llmplatform.checks import ComponentInputError

from config.loader import parse_config
from offline import runner as offline

from tests.conftest import VARIANTS, variant
from tests.components.test_inference_stack import deployment
from tests.components.test_components_alone import VOLUME, cluster_handle, provider_opts


def test_ollama_is_pinned_hardened_probed_and_reads_the_shared_store(dev):
    d = deployment(dev, "ollama")
    pod = d["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["image"].startswith("docker.io/ollama/ollama:") and not c["image"].endswith(":latest")
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"] is True
    sc = c["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
    assert sc["seccompProfile"]["type"] == "RuntimeDefault" and sc["runAsNonRoot"] is True
    assert c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"] >= 600
    assert c["readinessProbe"]["httpGet"]["port"] == 11434 and c["livenessProbe"]["httpGet"]["path"] == "/"
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["OLLAMA_MODELS"] == "/models" and env["OLLAMA_NUM_PARALLEL"] == "2"
    assert env["OLLAMA_KEEP_ALIVE"] == "30m" and env["OLLAMA_MAX_LOADED_MODELS"] == "1"
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "models"
    assert {t["topologyKey"] for t in pod["topologySpreadConstraints"]} == {"kubernetes.io/hostname",
                                                                            "topology.kubernetes.io/zone"}
    prod_env = {e["name"]: e["value"] for e in deployment(variant("prod"), "ollama")["spec"]["template"]["spec"][
        "containers"][0]["env"]}
    assert prod_env["OLLAMA_NUM_PARALLEL"] == "4" and prod_env["OLLAMA_MAX_LOADED_MODELS"] == "3"
    # prod's three models resident at once on its A100 (docs/decisions.md, "2026-12-07: Ollama's default context");
    # dev keeps Ollama's own default (4096 on a CPU): no variable
    assert prod_env["OLLAMA_CONTEXT_LENGTH"] == "32768" and "OLLAMA_CONTEXT_LENGTH" not in env


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_ollama_drains_the_answers_in_flight_before_it_stops(name):
    """Ollama v0.32.15 (server/routes.go, Serve) calls srvr.Close() on SIGTERM: every open stream is cut. Kubernetes
    runs the preStop hook first and sends SIGKILL at terminationGracePeriodSeconds, the hook's time included; the
    terminating pod leaves the Service's ready endpoints, so no new request arrives meanwhile."""
    stack, overrides = VARIANTS[name]
    raw = {k.split(":", 1)[1]: v for k, v in offline.stack_config(stack, overrides).items()}
    longest_answer = parse_config(raw, "p", stack).gateway.request_timeout_seconds
    pod = deployment(variant(name), "ollama")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    hook = container["lifecycle"]["preStop"]["exec"]["command"][-1]
    port = container["ports"][0]["containerPort"]
    assert f"$2 ~ /:{port:04X}$/" in hook  # /proc/net/tcp writes the local port in hex
    deadline = int(re.search(r"\$\(date \+%s\) \+ (\d+)", hook).group(1))
    assert deadline >= longest_answer and pod["terminationGracePeriodSeconds"] > deadline


def test_drain_hook_waits_for_an_established_connection_only(tmp_path):
    """The hook against /proc/net/tcp's format (Linux proc(5)): a connection to 11434 in state 01 keeps it waiting;
    a listening socket (0A) and other ports do not."""
    import subprocess
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    listen = "   0: 00000000:2CAA 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65532 0 1 1\n"
    other = "   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000 65532 0 2 1\n"
    busy = "   2: 0A00000B:2CAA 0A00000C:C350 01 00000000:00000000 00:00000000 00000000 65532 0 3 1\n"
    waited = []
    for lines in ((listen, other), (listen, other, busy)):
        (tmp_path / "tcp").write_text(header + "".join(lines))
        (tmp_path / "tcp6").write_text(header)
        log = tmp_path / "waits"
        log.write_text("")
        # one round of the loop: it waits (and here stops) only while a connection is open
        script = drain_script(11434, 60).replace("/proc/net", str(tmp_path)).replace("sleep 5", ":").replace(
            "sleep 2", f"echo wait >> {log}; exit 0")
        subprocess.run(["sh", "-c", script], check=True, timeout=10)
        waited.append(log.read_text().count("wait"))
    assert waited[0] == 0 and waited[1] >= 1


def test_ollama_server_refuses_an_env_var_it_manages_before_registering():
    registered = []

    def program():
        try:
            P.OllamaServer("llm", {"cluster": cluster_handle(), "model_volume": VOLUME,
                                   "extra_env": {"OLLAMA_MODELS": "/elsewhere"}}, provider_opts())
        except ComponentInputError as error:
            registered.append(error)
    p = offline.run_function(program)
    assert "extra_env" in str(registered[0]) and "OLLAMA_MODELS" in str(registered[0])
    assert not p.of_type("llmplatform:index:OllamaServer")


def test_a_warm_model_makes_the_startup_probe_ollamas_preload_and_a_bad_name_is_refused():
    """`warm_model`: the replica is Ready only after it loaded the model (an exec startup probe, long enough for a
    multi-GB read from the share); without it the probe is the HTTP one. A name outside Ollama's grammar is refused
    before anything registers."""
    from llmplatform.inference_specs import warm_up_command
    problems: list[ComponentInputError] = []

    def program():
        opts = provider_opts()
        P.OllamaServer("warm", {"cluster": cluster_handle(), "model_volume": VOLUME, "warm_model": "llama3.1:8b"},
                       opts)
        try:
            P.OllamaServer("bad", {"cluster": cluster_handle(), "model_volume": VOLUME, "warm_model": "llama 3"},
                           opts)
        except ComponentInputError as error:
            problems.append(error)
    p = offline.run_function(program)
    probe = next(r for r in p.kubernetes_objects() if r.inputs.get("kind") == "Deployment")
    probe = probe.inputs["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    assert probe["exec"]["command"] == warm_up_command("llama3.1:8b") and "httpGet" not in probe
    assert probe["timeoutSeconds"] >= 300 and probe["periodSeconds"] * probe["failureThreshold"] >= 900
    assert "warm_model" in str(problems[0]) and "'llama 3'" in str(problems[0]) and "model-name grammar" in str(
        problems[0])
    assert [r.name for r in p.of_type("llmplatform:index:OllamaServer")] == ["warm"]


def test_the_stacks_warm_their_first_model_and_a_dry_run_store_warms_none():
    """From stack config to the Deployment: dev and prod warm the first model their store preloads; a store that
    pulls nothing (dev-smb-nogpu's dry run) keeps the HTTP startup probe."""
    from llmplatform.inference_specs import warm_up_command
    for name, model in (("dev", "tinyllama"), ("prod", "llama3.1:8b"), ("dev-smb-nogpu", None)):
        probe = deployment(variant(name), "ollama")["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
        assert probe.get("exec", {}).get("command") == (warm_up_command(model) if model else None), name
        assert ("httpGet" in probe) is (model is None)

