"""Stack names as the Pulumi CLI allows them (config/stack_names.py)."""
import pytest

from config.stack_names import stack_name_problem


@pytest.mark.parametrize("name", ["dev", "prod-westeurope", "a.b_c-1", "x" * 100, "..."])
def test_names_the_cli_allows(name):
    assert stack_name_problem(name) is None


@pytest.mark.parametrize("name", ["x" * 101, "", ".", "..", "a/b", "../x", "dev ", "dév", "a\nb", None, 3])
def test_names_it_refuses_are_named_with_the_rule(name):
    """'.' and '..' too: tools make a folder per stack, and those name the folder itself and its parent."""
    assert stack_name_problem(name) == f"stack name {name!r} is not valid: 1-100 letters, digits, '_', '.' and '-', " \
        "as the Pulumi CLI allows, and not '.' or '..'"
