"""A PostgreSQL size Microsoft's connection table leaves out, typed in capitals: PostgresServer sends the naming
convention's spelling (`Standard_`, the family's capital, the rest in lower case), not the capitals; the size-case
tests typed such sizes in lower case alone, so a convention that kept the rest as typed passed them."""
import pytest

from tests.components.test_size_case import planned_size


@pytest.mark.parametrize("typed, tier, sent", [("STANDARD_E2ADS_V6", "MemoryOptimized", "Standard_E2ads_v6"),
                                               ("Standard_D2DS_V6", "GeneralPurpose", "Standard_D2ds_v6")])
def test_a_size_outside_the_table_in_capitals_is_sent_in_the_conventions_spelling(typed, tier, sent):
    assert planned_size(typed, tier) == sent
