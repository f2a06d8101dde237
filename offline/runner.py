"""Runs the real __main__.py under the Pulumi SDK's mocks and records every registration.

One runner serves `make plan` and the tests, so what the tests prove is what users see. No Pulumi CLI, no Azure
credentials and no cluster are involved. The mocks, the recording monitor and the engine's refusals are the
package's own testing kit (`llmplatform.testing`), which any consumer uses the same way; this module adds what is
about this repository's program: its stack files, read as the Pulumi CLI reads them, and StackReferences answered
from the referenced stacks' own offline plans.
"""
from __future__ import annotations

import copy
import functools
import runpy
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import yaml

from llmplatform.mappings import deep_merge  # noqa: F401 (re-exported)
from llmplatform.naming import stack_name_problem
from llmplatform.testing import (DEPLOYER, SECRET_SIG, SIG_KEY, SUBSCRIPTION, TENANT,  # noqa: F401 (re-exported)
                                 OfflineMocks, Plan, ProgramError, RecordingMonitor, Registration, _unwrap_secrets,
                                 _fake_kubeconfig, refusals, run as run_function)

from .stackfile import ConfigError as StackFileError, apply_sets, read_stack_file

PROJECT_DIR = Path(__file__).resolve().parent.parent

# ---- config -----------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def _parsed_project(text: str) -> Any:
    return yaml.safe_load(text)


def _project_file(program_dir: Path) -> Any:
    """Pulumi.yaml as read now (each run reads it afresh; the same text is parsed once: a plan read it four times)."""
    return copy.deepcopy(_parsed_project((program_dir / "Pulumi.yaml").read_text()))


def project_name(program_dir: Path = PROJECT_DIR) -> str:
    return _project_file(program_dir)["name"]


def stack_config(stack: str, overrides: Optional[dict[str, Any]] = None, program_dir: Path = PROJECT_DIR,
                 sets: Optional[list[str]] = None, stack_file: Optional[Path] = None) -> dict[str, Any]:
    """What the Pulumi CLI would hand the program, keyed 'project:key': Pulumi.yaml defaults, the stack file (read
    as the CLI reads it), then `--set` paths (as `pulumi config set --path`) and test overrides (deep-merged).
    Raises StackFileError for a stack file or --set the CLI would refuse; FileNotFoundError for an unknown stack."""
    project = _project_file(program_dir)
    name = project["name"]
    values: dict[str, Any] = {}
    for key, decl in (project.get("config") or {}).items():
        if isinstance(decl, dict) and "default" in decl:
            values[key] = decl["default"]
    values.update(read_stack_file(find_stack_file(stack, program_dir, stack_file), name))
    try:
        values = apply_sets(copy.deepcopy(values), sets or [])
    except StackFileError as error:  # the rest of the config is still checked, so every problem is told at once
        error.config = {f"{name}:{k}": v  # type: ignore[attr-defined]
                        for k, v in deep_merge(getattr(error, "values", values), overrides or {}).items()}
        raise
    values = deep_merge(values, overrides or {})
    return {f"{name}:{k}": v for k, v in values.items()}



def _stacks(program_dir: Path) -> str:
    return ', '.join(sorted(p.name[7:-5] for p in program_dir.glob('Pulumi.*.yaml')))


WHAT_IF = ".what-if"  # the suffix of a plan run with --set or --stack-file: beside build/<stack>/, never over it


def check_stack_name(stack: str, program_dir: Path = PROJECT_DIR) -> None:
    """FileNotFoundError for a name that is no stack's (Pulumi.<stack>.yaml must stay in the project folder, and the
    plan's folder in --out), naming the stacks there are."""
    problem = stack_name_problem(stack)
    if problem:
        raise FileNotFoundError(f"{problem} (a stack's config is Pulumi.<stack>.yaml in {program_dir}); stacks: "
                                f"{_stacks(program_dir)}")


def find_stack_file(stack: str, program_dir: Path = PROJECT_DIR, stack_file: Optional[Path] = None) -> Path:
    """The file a stack's config is read from (`--stack-file`, else Pulumi.<stack>.yaml); FileNotFoundError naming
    the stacks there are when the name is none or the file is missing."""
    check_stack_name(stack, program_dir)
    if stack_file is not None:
        if not stack_file.exists():
            raise FileNotFoundError(f"--stack-file {stack_file}: no such file")
        return stack_file
    path = program_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path} for stack {stack!r}; stacks: {_stacks(program_dir)}")
    return path


# ---- running ----------------------------------------------------------------------------------------------------

def referenced_stacks(config: dict[str, Any], project: str) -> list[str]:
    """The stacks a global stack reads through StackReferences (its `global.regions`), in order."""
    regions = (config.get(f"{project}:global") or {}).get("regions") if isinstance(
        config.get(f"{project}:global"), dict) else None
    return [r for r in regions or [] if isinstance(r, str)]


def run(stack: str, overrides: Optional[dict[str, Any]] = None, program_dir: Path = PROJECT_DIR,
        sets: Optional[list[str]] = None, stack_file: Optional[Path] = None,
        references: Optional[dict[str, dict[str, Any]]] = None) -> Plan:
    """Run a program's __main__.py (by default this repository's) for a stack under mocks, in a fresh context and
    event loop; raise ProgramError on RunError or on what the real engine would refuse. A stack that references
    others reads their outputs from `references`, or from their own offline plans, made first."""
    def program() -> None:
        if str(program_dir) not in sys.path:
            sys.path.insert(0, str(program_dir))
        runpy.run_path(str(program_dir / "__main__.py"), run_name="__main__")
    config = stack_config(stack, overrides, program_dir, sets, stack_file) \
        if (program_dir / "Pulumi.yaml").exists() else {}
    project = project_name(program_dir)
    if references is None:
        references = {other: run(other, program_dir=program_dir).outputs
                      for other in referenced_stacks(config, project)}
    return run_function(program, project, stack, config, references)
