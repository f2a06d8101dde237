"""ModelStore's preload Job on a later run (day 2), its script run for real with /bin/sh against stand-ins for
`ollama`, `df` and `sleep`: the room left on the share decides before a pull starts, and a server that never
answers fails the Job with its own log."""
from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from llmplatform.model_store import preload_script

from tests.conftest import PLANNED, planned

# `list` prints the models in $STATE, `show` finds one there (exit 1 when absent), `pull` appends one, `serve` writes
# $SERVE_LOG to its log and returns; with $DOWN set nothing answers (the CLI's "could not connect",
# cmd/start_default.go)
FAKE_OLLAMA = """#!/bin/sh
echo "$*" >> "$CALLS"
if [ -n "${DOWN:-}" ] && [ "$1" != serve ]; then
  echo "Error: could not connect to ollama server, run 'ollama serve' to start it" >&2; exit 1
fi
case "$1" in
  serve) echo "${SERVE_LOG:-}" >&2; exit 0 ;;
  list) echo "NAME ID SIZE MODIFIED"; sed 's/$/ abc 1GB now/' "$STATE" ;;
  show) grep -qx "$2" "$STATE" || { echo "Error: model '$2' not found" >&2; exit 1; } ;;
  pull) echo "$2" >> "$STATE" ;;
esac
"""
# df -Pk: 1024-blocks, used, available (KiB) of the filesystem holding the path
FAKE_DF = """#!/bin/sh
echo "Filesystem 1024-blocks Used Available Capacity Mounted on"
echo "share:/acct/models 104857600 $((104857600 - FREE_KIB)) $FREE_KIB 90% /models"
"""
GIB = 1024


def run(tmp_path: Path, models: str, sizes_mib: str, present: list[str], free_mib: int,
        **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, text in (("ollama", FAKE_OLLAMA), ("df", FAKE_DF), ("sleep", "#!/bin/sh\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod((bin_dir / name).stat().st_mode | stat.S_IEXEC)
    state, calls = tmp_path / "state", tmp_path / "calls"
    state.write_text("".join(f"{m}\n" for m in present))
    calls.write_text("")
    done = subprocess.run(["/bin/sh", "-c", preload_script()], capture_output=True, text=True, timeout=30, env={
        **os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "MODELS": models, "MODEL_SIZES_MIB": sizes_mib,
        "DRY_RUN": "false", "OLLAMA_MODELS": str(tmp_path / "models"), "TMPDIR": str(tmp_path), "STATE": str(state),
        "CALLS": str(calls), "FREE_KIB": str(free_mib * 1024), **env})
    return done, [c for c in calls.read_text().splitlines() if c.split()[0] in ("show", "pull")]


def test_a_pull_the_share_has_no_room_for_fails_before_it_starts_naming_what_the_share_holds(tmp_path):
    """Day 2: the list dropped `llama3.1:70b` (40 GiB, still on the 100 GiB share: nothing deletes it) and added
    `qwen2.5:72b` (47 GiB). The stack's room check counts the listed models (47 GiB < 90 % of 100) and passes; the
    share has 30 GiB free. Ollama would download 30 GiB and fail on ENOSPC (server/download.go); the Job fails first."""
    done, calls = run(tmp_path, "tinyllama qwen2.5:72b", f"tinyllama=656 qwen2.5:72b={47 * GIB}",
                      present=["tinyllama", "llama3.1:70b"], free_mib=30 * GIB)
    assert done.returncode == 1 and not any(c.startswith("pull") for c in calls)
    assert f"{30 * GIB} MiB free" in done.stderr and f"~{47 * GIB} MiB: qwen2.5:72b" in done.stderr
    assert "llama3.1:70b abc 1GB now" in done.stderr  # what the share holds, the dropped model among them
    assert "modelStore.sizeGib" in done.stderr and "ollama rm" in done.stderr


def test_only_missing_models_count_and_partial_downloads_are_room(tmp_path):
    """tinyllama is there and needs no room; phi3.5 (2253 MiB) does not fit in 2250 MiB, but does once a partial
    download of 3 MiB is on the share: room the pull resumes into (server/download.go: `<blob>-partial`, resumed from
    its `-partial-N` records). A model without a declared size counts nothing."""
    refused, calls = run(tmp_path, "tinyllama phi3.5", "tinyllama=656 phi3.5=2253", present=["tinyllama"],
                         free_mib=2250)
    assert refused.returncode == 1 and "~2253 MiB: phi3.5" in refused.stderr and calls[-1] == "show phi3.5"
    blobs = tmp_path / "models" / "blobs"
    (blobs / ("sha256-" + "a" * 64 + "-partial")).write_bytes(os.urandom(3 * 1024 * 1024))
    done, calls = run(tmp_path, "tinyllama phi3.5", "tinyllama=656 phi3.5=2253", present=["tinyllama"], free_mib=2250)
    assert done.returncode == 0, done.stderr
    assert [c for c in calls if c.startswith("pull")] == ["pull phi3.5"] and "present: tinyllama" in done.stdout
    unsized, calls = run(tmp_path, "phi3.5", "", present=[], free_mib=1)
    assert unsized.returncode == 0 and calls[-1] == "pull phi3.5"


def test_a_dry_run_says_what_it_would_pull_and_whether_it_fits(tmp_path):
    """`preload_dry_run`: "The Job only lists what it would pull". It listed every model, those already on the share
    too; it now asks Ollama as a real run does, says whether the pull would fit, and pulls nothing."""
    done, calls = run(tmp_path, "tinyllama qwen2.5:72b", f"tinyllama=656 qwen2.5:72b={47 * GIB}",
                      present=["tinyllama"], free_mib=30 * GIB, DRY_RUN="true")
    assert done.returncode == 0 and not any(c.startswith("pull") for c in calls)
    assert done.stdout.splitlines() == ["present: tinyllama", "would pull: qwen2.5:72b",
                                        f"would not fit: ~{47 * GIB} MiB to pull, {30 * GIB} MiB free"]


def test_a_server_that_never_answers_fails_the_job_with_its_log(tmp_path):
    """Ollama's CLI starts no server on Linux (cmd/start_default.go: "could not connect to ollama server"): the Job
    used to go on to `show` and `pull` and fail with that message while the reason stayed in the server's log, on
    the pod's scratch volume; now it prints that log and stops."""
    done, calls = run(tmp_path, "tinyllama", "tinyllama=656", present=[], free_mib=100 * GIB, DOWN="1",
                      SERVE_LOG="Error: listen tcp 127.0.0.1:11434: bind: address already in use")
    assert done.returncode == 1 and calls == []
    assert "did not answer" in done.stderr and "address already in use" in done.stderr


def test_the_job_hands_the_script_each_declared_size_in_mib():
    """The sizes the stack declares (model_sizes_gib) reach the script as `<name>=<MiB>`, rounded up."""
    import llmplatform as P
    from offline import runner as offline
    from tests.components.test_components_alone import cluster_handle, provider_opts

    hf = "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"
    plan = offline.run_function(lambda: P.ModelStore("models", {
        "cluster": cluster_handle(), "account_name": "stmodels1", "namespace": "llm", "size_gib": 200,
        "models": ["tinyllama", hf, "qwen2.5:0.5b"], "model_sizes_gib": {"tinyllama": 0.64, hf: 150.0}},
        provider_opts()))
    job = plan.one("kubernetes:batch/v1:Job", "models-preload").inputs
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MODEL_SIZES_MIB"] == f"tinyllama=656 {hf}=153600"  # 0.64 GiB = 655.36 MiB; unknown sizes left out


# pulumi-kubernetes v4.32.0 (a03ff6ba; unchanged on main 94977969), provider/pkg/provider/provider.go Diff: when the
# new inputs carry `pulumi.com/replaceUnready: "true"` (metadata/overrides.go ReplaceUnready: the string "true") and the
# object is a Job, the live Job is read and, unless its checker calls it ready (await/checker/job/check.go: started and
# condition Complete=True), the Job is replaced; without the annotation a Job that failed is only awaited again
# ("Pulumi will continue to wait for readiness on the next update", gen/additionalComments.go).
def replaced_on_next_up(inputs: dict, live_conditions: dict[str, str]) -> bool:
    annotations = inputs["metadata"].get("annotations") or {}
    return (inputs.get("kind", "Job") == "Job" and annotations.get("pulumi.com/replaceUnready") == "true"
            and live_conditions.get("Complete") != "True")


def test_a_preload_job_that_failed_runs_again_at_the_next_up(dev):
    """A pull that failed (the registry, the share's room, the deadline) left the Job Failed; once the cause is
    mended, `pulumi up` with the same models must run it again, not await the failed one and fail once more. A Job
    that completed stays."""
    job = dev.one("kubernetes:batch/v1:Job", "models-preload").inputs
    assert replaced_on_next_up(job, {"Failed": "True"})
    assert replaced_on_next_up(job, {})  # still running when the last `up` stopped waiting: resumed by a new pod
    assert not replaced_on_next_up(job, {"Complete": "True"})


@pytest.mark.parametrize("name", PLANNED)
def test_every_job_a_plan_awaits_runs_again_at_the_next_up_after_failing(name):
    """The preload and Open-WebUI's database bootstrap and migration alike: once the cause of a failure is mended,
    the next `pulumi up` runs the Job again instead of awaiting the failed one."""
    jobs = planned(name).of_type("kubernetes:batch/v1:Job")
    assert all(replaced_on_next_up(job.inputs, {"Failed": "True"}) for job in jobs), [
        job.name for job in jobs if not replaced_on_next_up(job.inputs, {"Failed": "True"})]


# ollama/ollama v0.32.15 (b7871fc0): server/routes.go Serve prunes at start unless OLLAMA_NOPRUNE (envconfig/config.go
# Bool: strconv.ParseBool, a value it cannot parse counts as true); server/images.go PruneLayers removes each file of
# blobs/ older than layerPruneGracePeriod (1 h) whose name, '-' read as ':', is no digest (manifest/paths.go BlobsPath:
# ^sha256[:-][0-9a-fA-F]{64}$) — a download's `-partial` data and its `-partial-N` records (server/download.go).
# (Unreferenced blobs go too; not modelled.)
def partial_files_pruned_at_start(env: dict[str, str], ages_hours: dict[str, float]) -> set[str]:
    import re
    value = env.get("OLLAMA_NOPRUNE", "")
    falsy = {"0", "f", "F", "FALSE", "false", "False"}
    if value and value not in falsy:
        return set()
    return {name for name, age in ages_hours.items()
            if age >= 1 and not re.fullmatch(r"sha256[:-][0-9a-fA-F]{64}", name.replace("-", ":"))}


def test_a_restarted_preload_keeps_the_records_of_a_download_older_than_an_hour(dev):
    """A 40 GiB pull at 10 MB/s runs over an hour; when it fails and the container restarts, the Job's `ollama serve`
    starts again. With the start-time prune it removed the part records written over an hour before (parts created at
    the start, parts finished early) while keeping the fresh ones and the data file: the resumed download then sizes
    the file from the records left (download.go Prepare, `Truncate(b.Total)`) and misses the forgotten parts, ending in
    a digest mismatch, or, as it removes the records by index once done (`-partial-0`, `-partial-1`, ...), in an error
    on a pruned one at every retry. The Job runs as the model servers do, without the prune, on the same
    OLLAMA_MODELS."""
    job = dev.one("kubernetes:batch/v1:Job", "models-preload").inputs
    job_env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    blob = "sha256-" + "b" * 64
    records = {f"{blob}-partial": 0.0, f"{blob}-partial-0": 1.5, f"{blob}-partial-7": 0.1, f"{blob}-partial-39": 1.5}
    assert partial_files_pruned_at_start({}, records) == {f"{blob}-partial-0", f"{blob}-partial-39"}  # the rule
    assert partial_files_pruned_at_start(job_env, records) == set()
    server = next(d.inputs for d in dev.of_type("kubernetes:apps/v1:Deployment") if d.inputs["metadata"]["name"] ==
                  "ollama")["spec"]["template"]["spec"]["containers"][0]
    server_env = {e["name"]: e.get("value") for e in server["env"]}
    for key in ("OLLAMA_MODELS", "OLLAMA_NOPRUNE"):
        assert job_env[key] == server_env[key], key
