"""`observability.alertReceiver`: validated whole, one line per problem; unset, an advisory names it."""
from __future__ import annotations

import pytest

from config.advisories import advisories
from config.loader import parse_config
from config.reader import ConfigError
from llmplatform.rules import WITHHELD
from tests.config.test_loader import stack_raw

UNSET = "observability.alertReceiver is unset"
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXfakeSecret"  # the receiver's secret, pasted


# the in-cluster stack off (with autoscaling that needs none of it)
OFF = {"observability": {"enabled": False}, "autoscaling": {"mode": "cpu", "minReplicas": 1, "scaleToZero": False}}


def _problems(receiver, extra) -> list[str]:
    overrides = {**extra, "observability": {"alertReceiver": receiver, **extra.get("observability", {})}}
    try:
        parse_config(stack_raw("dev", overrides), "p", "dev")
    except ConfigError as error:
        return error.problems
    return []


@pytest.mark.parametrize(("receiver", "extra", "problem"), [
    ({"kind": "email", "secret": "alerts-url"}, {},
     "observability.alertReceiver.kind 'email' is invalid; allowed: webhook, msteams, slack, pagerduty"),
    # a value that is no secret's name is not shown: it may be the URL or key itself, pasted in place of its name
    ({"kind": "msteams", "secret": "alerts_url"}, {},
     f"observability.alertReceiver.secret {WITHHELD} is invalid; allowed: 1-127 letters, digits and hyphens (a Key "
     "Vault secret name)"),
    ({"kind": "slack", "secret": SLACK_URL}, {}, f"observability.alertReceiver.secret {WITHHELD} is invalid"),
    ({"secret": "alerts-url"}, {},
     "observability.alertReceiver.kind is required; allowed: webhook, msteams, slack, pagerduty"),
    ({"kind": "webhook"}, {},
     "observability.alertReceiver.secret is required: the Key Vault secret holding the receiver's URL or key"),
    ({"kind": "webhook", "secret": "alerts-url", "url": "https://example.com/hook"}, {},
     "observability.alertReceiver.url is not a known key"),
    (SLACK_URL, {}, f"observability.alertReceiver must be an object (key: value), got {WITHHELD}"),
    ({"kind": "webhook", "secret": "alerts-url"}, OFF,
     "observability.alertReceiver needs observability.enabled true"),
])
def test_each_bad_receiver_is_one_line_naming_the_key(receiver, extra, problem):
    problems = _problems(receiver, extra)
    assert len(problems) == 1 and problems[0].startswith(problem) and "\n" not in problems[0], problems
    assert "T000" not in problems[0], problems  # never the secret itself


def test_a_key_pasted_in_place_of_its_secret_name_is_not_shown():
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN\n-----END PRIVATE KEY-----"
    problems = _problems({"kind": "pagerduty", "secret": pem}, {})
    assert problems[0] == ("observability.alertReceiver.secret must be printable characters only (no newline, tab or "
                           f"other control character), got {WITHHELD}")
    assert not any("MIIE" in p or "BEGIN" in p for p in problems), problems


def test_a_good_receiver_is_taken_and_silences_the_advisory():
    cfg = parse_config(stack_raw("dev", {"observability": {"alertReceiver": {"kind": "msteams",
                                                                             "secret": "alerts-url"}}}), "p", "dev")
    assert (cfg.observability.alert_receiver.kind, cfg.observability.alert_receiver.secret) == ("msteams",
                                                                                                  "alerts-url")
    assert not any(a.startswith(UNSET) for a in advisories(cfg))
    # and handed to Observability
    from types import SimpleNamespace
    from config.inputs import observability_args
    args = observability_args(cfg, None, None, None, SimpleNamespace(server_id=None), None, None)
    assert args["alert_receiver"] == {"kind": "msteams", "secret": "alerts-url"}


def test_unset_the_plan_warns_once_that_in_cluster_alerts_page_no_one(dev):
    (warning,) = [w for w in dev.warnings if "page no one" in w]
    assert warning.startswith(UNSET)
    off = parse_config(stack_raw("dev", OFF), "p", "dev")
    assert not any(a.startswith(UNSET) for a in advisories(off))  # no in-cluster stack, no alert of its


@pytest.mark.parametrize(("receiver", "problems"), [
    ({"kind": "email"}, ["observability.alertReceiver.secret is required: the Key Vault secret holding the receiver's "
                         "URL or key",
                         "observability.alertReceiver.kind 'email' is invalid; allowed: webhook, msteams, slack, "
                         "pagerduty"]),
    ({"secret": "alerts_url"}, ["observability.alertReceiver.kind is required; allowed: webhook, msteams, slack, "
                                "pagerduty",
                                f"observability.alertReceiver.secret {WITHHELD} is invalid; allowed: 1-127 letters, "
                                "digits and hyphens (a Key Vault secret name)"]),
    ("msteams", [f"observability.alertReceiver must be an object (key: value), got {WITHHELD}"]),
])
def test_a_half_given_receiver_is_judged_whole_and_each_problem_said_once(receiver, problems):
    """Validated whole: the half written is still checked (its kind or name was not, behind the other's absence), and
    a value that is no object is said once (the section read once)."""
    assert _problems(receiver, {}) == problems
