"""The components' defaults (components/llmplatform/defaults.py): each belongs to an optional input."""

import llmplatform
import pytest

from tests.components.test_components_alone import args_type


def test_every_default_belongs_to_an_optional_input_of_its_component():
    from llmplatform.defaults import DEFAULTS
    for name, defaults in DEFAULTS.items():
        args = args_type(getattr(llmplatform, name))
        assert set(defaults) <= args.__optional_keys__, (name, set(defaults) - args.__optional_keys__)


def test_a_composite_defaults_what_it_hands_a_part_as_the_part_does_and_refuses_parts_that_disagree(monkeypatch):
    """InferenceStack's default for an input it hands OllamaServer, ApiGate or OpenWebUi is that part's default
    (so a direct user of a part and an InferenceStack user get the same behaviour), and two parts taking one input
    with different defaults is refused when the package loads, not settled by dict order."""
    from llmplatform import defaults
    from llmplatform.inference_parts import PARTS
    handed = {own: defaults.DEFAULTS[part][theirs] for part, inputs in PARTS for own, theirs in inputs.items()
              if theirs in defaults.DEFAULTS[part]}
    assert handed and {k: defaults.DEFAULTS["InferenceStack"][k] for k in handed} == handed
    assert handed["webui_replicas"] == defaults.DEFAULTS["OpenWebUi"]["replicas"]
    monkeypatch.setitem(defaults.DEFAULTS, "ApiGate", {**defaults.DEFAULTS["ApiGate"], "request_timeout_seconds": 30})
    with pytest.raises(ValueError, match="request_timeout_seconds .*30"):
        defaults._handed_defaults()
