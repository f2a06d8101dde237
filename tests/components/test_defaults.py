"""The components' defaults (components/llmplatform/defaults.py): each belongs to an optional input."""

import llmplatform

from tests.components.test_components_alone import args_type


def test_every_default_belongs_to_an_optional_input_of_its_component():
    from llmplatform.defaults import DEFAULTS
    for name, defaults in DEFAULTS.items():
        args = args_type(getattr(llmplatform, name))
        assert set(defaults) <= args.__optional_keys__, (name, set(defaults) - args.__optional_keys__)
