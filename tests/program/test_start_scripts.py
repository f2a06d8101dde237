"""Shell scripts the components run in containers, run for real with /bin/sh: the model preload Job's (against a
stand-in `ollama` command) and the start command that exports secrets from CSI-mounted files."""
from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from llmplatform.inference_specs import exec_with_secret_files
from llmplatform.model_store import preload_script

FAKE_OLLAMA = """#!/bin/sh
# stand-in for the ollama CLI: `list` prints the models in $STATE, `pull` appends one, `show` finds one (exit 1 when
# absent), `serve` returns at once. A name is stored as Ollama's DisplayShortest shows it (types/model/name.go: the
# default host and namespace left out, the default tag `latest` added when no ':' follows the last '/'), and `show`
# looks it up the same way, case folded (server/routes.go getExistingName).
echo "$*" >> "$CALLS"
listed() {
  n="${1#registry.ollama.ai/}"; n="${n#library/}"
  case "${n##*/}" in *:*) echo "$n" ;; *) echo "$n:latest" ;; esac
}
case "$1" in
  serve) exit 0 ;;
  list) echo "NAME ID SIZE MODIFIED"; [ -f "$STATE" ] && sed 's/$/ abc 1GB now/' "$STATE"; true ;;
  show) [ -f "$STATE" ] && grep -qix "$(listed "$2")" "$STATE" || { echo "Error: model '$2' not found" >&2; exit 1; } ;;
  pull) listed "$2" >> "$STATE" ;;
esac
"""


def run(tmp_path: Path, models: str, dry_run: bool, present: list[str]) -> tuple[str, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "ollama"
    fake.write_text(FAKE_OLLAMA)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    state, calls = tmp_path / "state", tmp_path / "calls"
    state.write_text("".join(f"{m}\n" for m in present))
    calls.write_text("")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "MODELS": models,
           "DRY_RUN": str(dry_run).lower(), "OLLAMA_MODELS": str(tmp_path / "models"), "STATE": str(state), "CALLS": str(calls)}
    done = subprocess.run(["/bin/sh", "-c", preload_script()], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout, [c for c in calls.read_text().splitlines() if c != "serve"]


def test_pulls_only_what_is_missing(tmp_path):
    out, calls = run(tmp_path, "tinyllama llama3.1:8b", False, present=["tinyllama:latest"])
    assert "present: tinyllama" in out and "pulling: llama3.1:8b" in out
    assert "pull llama3.1:8b" in calls and "pull tinyllama" not in calls


def test_second_run_pulls_nothing(tmp_path):
    run(tmp_path, "tinyllama mistral:7b", False, present=[])
    out, calls = run(tmp_path, "tinyllama mistral:7b", False,
                     present=(tmp_path / "state").read_text().split())
    assert not any(c.startswith("pull") for c in calls) and out.count("present:") == 2


def test_names_outside_the_library_and_other_spellings_are_found_once_pulled(tmp_path):
    """A Hugging Face GGUF (`hf.co/<org>/<repo>:<quant>`), a registry with a port and no tag, and a library model
    under its full name are pulled once, then found present: the Job asks Ollama (`ollama show`) instead of
    matching its own guess of the listed name."""
    models = ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M myreg:5000/team/model "
              "registry.ollama.ai/library/gpt-oss gpt-oss:20b")
    out, calls = run(tmp_path, models, False, present=["gpt-oss:20b"])
    assert [c for c in calls if c.startswith("pull")] == [
        "pull hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "pull myreg:5000/team/model",
        "pull registry.ollama.ai/library/gpt-oss"] and "present: gpt-oss:20b" in out
    again, calls = run(tmp_path, models, False, present=(tmp_path / "state").read_text().split())
    assert not any(c.startswith("pull") for c in calls) and again.count("present:") == 4


def test_dry_run_only_lists(tmp_path):
    """It asks Ollama as a real run does (a model already there is not one it would pull) and pulls nothing."""
    out, calls = run(tmp_path, "tinyllama phi3.5", True, present=["tinyllama:latest"])
    assert out.splitlines() == ["present: tinyllama", "would pull: phi3.5"]
    assert "show phi3.5" in calls and not any(c.startswith("pull") for c in calls)


def test_every_run_lays_out_the_store_ollama_needs(tmp_path):
    """Ollama's server calls MkdirAll(<models>/blobs) at start and exits on a read-only store without it: the Job
    creates blobs/ and manifests/ even when it pulls nothing (dry run, no models)."""
    for models, dry_run in (("", False), ("tinyllama", True)):
        run(tmp_path, models, dry_run, present=[])
        assert (tmp_path / "models" / "blobs").is_dir() and (tmp_path / "models" / "manifests").is_dir()


def start(tmp_path: Path, files: dict[str, str], variables: dict[str, str]) -> subprocess.CompletedProcess:
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    script = exec_with_secret_files({var: str(tmp_path / f) for var, f in variables.items()},
                                    "sh -c 'printf \"%s|%s|%s\" \"$DATABASE_URL\" \"$PGVECTOR_DB_URL\" \"$KEY\"'")
    return subprocess.run(["/bin/sh", "-c", script], env={"PATH": os.environ["PATH"]}, capture_output=True,
                          text=True, timeout=10)


def test_secrets_reach_the_command_from_files_with_quotes_and_spaces_intact(tmp_path):
    url = "postgresql://u:p@s$w'rd with space@db:5432/webui?sslmode=require"
    done = start(tmp_path, {"database-url": url, "webui-secret-key": "k3y"},
                 {"DATABASE_URL": "database-url", "PGVECTOR_DB_URL": "database-url", "KEY": "webui-secret-key"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{url}|{url}|k3y"


def test_a_missing_secret_file_stops_the_start_before_the_command(tmp_path):
    done = start(tmp_path, {"database-url": "x"}, {"DATABASE_URL": "database-url", "KEY": "webui-secret-key"})
    assert done.returncode != 0 and done.stdout == "" and "webui-secret-key" in done.stderr


def test_names_that_would_break_the_script_are_refused():
    with pytest.raises(ValueError):
        exec_with_secret_files({"NOT-A-NAME": "/mnt/x"}, "true")
    with pytest.raises(ValueError):
        exec_with_secret_files({"OK": "/mnt/it's"}, "true")


def test_the_warm_up_runs_ollamas_preload_with_the_model_as_an_argument(tmp_path):
    """The startup probe's command (OllamaServer `warm_model`): `ollama run <model> ""` with stdin from /dev/null (the
    CLI reads a non-terminal stdin whole), its exit status the probe's; a name the shell would expand stays one
    argument."""
    from llmplatform.inference_specs import warm_up_command
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "ollama"
    # records its arguments (one per line), whether stdin is empty, and fails for a model named "missing"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do echo "[$a]"; done >> "$CALLS"\n'
                    'if [ -t 0 ] || [ -n "$(cat)" ]; then echo stdin >> "$CALLS"; fi\n'
                    '[ "$2" != missing ] || { echo "pull model manifest: file does not exist" >&2; exit 1; }\n'
                    'echo "should not reach the probe output"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls)}
    for model, status in (("llama3.1:8b", 0), ("$(touch pwned)", 0), ("missing", 1)):
        calls.write_text("")
        done = subprocess.run(warm_up_command(model), env=env, cwd=tmp_path, input="a prompt", capture_output=True,
                              text=True, timeout=10)
        assert done.returncode == status and done.stdout == ""
        assert calls.read_text().splitlines() == ["[run]", f"[{model}]", "[]"]
    assert "does not exist" in done.stderr and not (tmp_path / "pwned").exists()
