"""Runs the real __main__.py under the Pulumi SDK's mocks and records every registration.

One runner serves `make plan` and the tests, so what the tests prove is what users see. No Pulumi CLI, no Azure
credentials and no cluster are involved. The mocks, the recording monitor and the engine's refusals are the
package's own testing kit (`llmplatform.testing`), which any consumer uses the same way; this module adds what is
about this repository's program: its stack files, read as the Pulumi CLI reads them, and StackReferences answered
from the referenced stacks' own offline plans.
"""
from __future__ import annotations

import copy
import runpy
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from llmplatform.mappings import deep_merge  # noqa: F401 (re-exported)
from llmplatform.testing import (DEPLOYER, SECRET_SIG, SIG_KEY, SUBSCRIPTION, TENANT,  # noqa: F401 (re-exported)
                                 OfflineMocks, Plan, ProgramError, RecordingMonitor, Registration, refusals,
                                 run as run_function)
from llmplatform.testing.stand_ins import _fake_kubeconfig, _unwrap_secrets  # noqa: F401 (re-exported)

from config.go_yaml import top_level_number_text

from .stackfile import ConfigError as StackFileError, apply_sets, read_stack_file
# a stack's name and stack file, read without the SDK (the plan CLI's early refusals use them alone)
from .stacks import (PROJECT_DIR, WHAT_IF, check_stack_name, find_stack_file,  # noqa: F401 (re-exported)
                     project_file, project_name)


# ---- config -----------------------------------------------------------------------------------------------------

def stack_config(stack: str, overrides: Optional[dict[str, Any]] = None, program_dir: Path = PROJECT_DIR,
                 sets: Optional[list[str]] = None, stack_file: Optional[Path] = None) -> dict[str, Any]:
    """What the Pulumi CLI would hand the program, keyed 'project:key': Pulumi.yaml defaults, the stack file (read
    as the CLI reads it), then `--set` paths (as `pulumi config set --path`) and test overrides (deep-merged).
    Raises StackFileError for a stack file or --set the CLI would refuse; FileNotFoundError for an unknown stack."""
    project = project_file(program_dir)
    name = project["name"]
    values: dict[str, Any] = {}
    for key, decl in (project.get("config") or {}).items():
        if isinstance(decl, dict) and "default" in decl:
            values[key] = decl["default"]
    # a number directly under `config:` reaches the program as the CLI's text of it: `1e3` as '1000', not '1000.0'
    values.update({k: top_level_number_text(v) if isinstance(v, float) else v
                   for k, v in read_stack_file(find_stack_file(stack, program_dir, stack_file), name).items()})
    try:
        values = apply_sets(copy.deepcopy(values), sets or [], name)
    except StackFileError as error:  # the rest of the config is still checked, so every problem is told at once
        error.config = {f"{name}:{k}": v  # type: ignore[attr-defined]
                        for k, v in deep_merge(getattr(error, "values", values), overrides or {}).items()}
        raise
    values = deep_merge(values, overrides or {})
    return {f"{name}:{k}": v for k, v in values.items()}


# ---- running ----------------------------------------------------------------------------------------------------

def referenced_stacks(config: dict[str, Any], project: str) -> list[str]:
    """The stacks a global stack reads through StackReferences (its `global.regions`), in order."""
    regions = (config.get(f"{project}:global") or {}).get("regions") if isinstance(
        config.get(f"{project}:global"), dict) else None
    return [r for r in regions or [] if isinstance(r, str)]


def run(stack: str, overrides: Optional[dict[str, Any]] = None, program_dir: Path = PROJECT_DIR,
        sets: Optional[list[str]] = None, stack_file: Optional[Path] = None,
        references: Optional[dict[str, dict[str, Any] | Plan]] = None, preview: bool = False) -> Plan:
    """Run a program's __main__.py (by default this repository's) for a stack under mocks, in a fresh context and
    event loop; raise ProgramError on RunError or on what the real engine would refuse. A stack that references
    others reads their outputs from `references`, or from their own offline plans, made first (their secret outputs
    read secret, as the engine's StackReference reads them: existing stacks, in a preview too). `preview=True`: as
    `pulumi preview` of the stack with nothing created yet (llmplatform.testing.run)."""
    def program() -> None:
        if str(program_dir) not in sys.path:
            sys.path.insert(0, str(program_dir))
        runpy.run_path(str(program_dir / "__main__.py"), run_name="__main__")
    config = stack_config(stack, overrides, program_dir, sets, stack_file) \
        if (program_dir / "Pulumi.yaml").exists() else {}
    project = project_name(program_dir)
    if references is None:
        references = {other: run(other, program_dir=program_dir)
                      for other in referenced_stacks(config, project)}
    return run_function(program, project, stack, config, references, preview)
