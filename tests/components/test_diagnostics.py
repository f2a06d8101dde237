"""Diagnostics (components/llmplatform/diagnostics.py): Azure diagnostic settings where the baseline asks for them."""

from tests.conftest import variant


def test_llmd_stack_plans_without_the_baseline():
    assert not variant("llmd").of_type("azure-native:monitor:DiagnosticSetting")
