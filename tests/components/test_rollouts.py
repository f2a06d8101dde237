"""A rolling update's surge and unavailable pods, as the Deployment controller resolves them (llmplatform.rollouts)."""
import pytest

from llmplatform.rollouts import fenceposts, rollout_starts, scaled


def test_a_percentage_is_of_the_replicas_rounded_up_or_down_and_an_integer_is_itself():
    assert [scaled("25%", n, True) for n in (1, 3, 4, 5, 8)] == [1, 1, 1, 2, 2]
    assert [scaled("25%", n, False) for n in (1, 3, 4, 5, 8)] == [0, 0, 1, 1, 2]
    assert scaled(3, 8, False) == 3
    with pytest.raises(ValueError, match="neither an integer nor a percentage"):
        scaled("a lot", 8, True)


def test_the_fenceposts_make_unavailable_one_when_both_come_to_zero():
    assert fenceposts(8) == (2, 2)
    assert fenceposts(2) == (1, 0)
    assert fenceposts(4, 0, "10%") == (0, 1)  # ResolveFenceposts: "set maxUnavailable to 1"


def test_a_rollout_starts_the_surge_and_as_many_as_it_took_down_at_most_the_replicas():
    assert [rollout_starts(n) for n in (1, 2, 3, 4, 5, 8)] == [1, 1, 1, 2, 3, 4]
    assert rollout_starts(4, "100%", 0) == 4
    assert rollout_starts(4, 0, "100%") == 4


def test_a_boolean_is_no_integer_or_percentage():
    """apimachinery's IntOrString holds an integer or a string: a YAML `true` (Python's bool, an int subclass) is
    neither, not 1 pod."""
    with pytest.raises(ValueError, match="neither an integer nor a percentage"):
        scaled(True, 8, True)
