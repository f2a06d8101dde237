"""This project's stacks as the Pulumi CLI names them: a stack's name, the file its config is read from, the project's
name in Pulumi.yaml. No Pulumi SDK and no component package behind it: the plan CLI (offline/plan.py) refuses an
unknown or invalid stack with this alone, before it imports them (tests/offline/test_plan.py checks that);
offline/runner.py re-exports these names.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from config.stack_names import STACK_NAME, STACK_NAME_ALLOWED, stack_name_problem  # noqa: F401 (re-exported)
from config.stack_yaml import parse_yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent

WHAT_IF = ".what-if"  # the suffix of a plan run with --set or --stack-file: beside build/<stack>/, never over it


def project_file(program_dir: Path) -> Any:
    """Pulumi.yaml as the Pulumi CLI reads it: go-yaml v3 (YAML 1.2's core schema: `default: yes` is the text `yes`,
    not PyYAML's True), as the stack files are read (config/stack_yaml.py `parse_yaml`: read afresh each run, the
    same bytes parsed once, each caller handed its own copy)."""
    return parse_yaml((program_dir / "Pulumi.yaml").read_bytes(), "Pulumi.yaml")


def project_name(program_dir: Path = PROJECT_DIR) -> str:
    return project_file(program_dir)["name"]


def _stacks(program_dir: Path) -> str:
    return ', '.join(sorted(p.name[7:-5] for p in program_dir.glob('Pulumi.*.yaml')))


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
        if stack_file.is_dir():
            raise FileNotFoundError(f"--stack-file {stack_file}: a folder, not a stack file (Pulumi.<stack>.yaml)")
        return stack_file
    path = program_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path} for stack {stack!r}; stacks: {_stacks(program_dir)}")
    return path
