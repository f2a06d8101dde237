"""How a problem's reason shows a value ("<type> <its start>", "<its start> is invalid; allowed: ..."), and how
it hides a secret's: the message reaches the console and CI logs."""
import re
from typing import Any, Mapping

from ..rules import without_outputs, without_password


def _got(value: Any) -> str:
    """A value of the wrong type as a message names it, "<type> <its start>" (an output inside it as <output>, a
    URL's password as ***, as `rules.shown` does)."""
    return f"{type(value).__name__} {_cut(without_password(repr(without_outputs(value))), 60)}"


def _invalid(value: Any, allowed: str) -> str:
    """A value a rule refuses, "<its start> is invalid; allowed: <allowed>" (a URL's password as ***)."""
    return f"{_cut(without_password(repr(without_outputs(value))), 80)} is invalid; allowed: {allowed}"


def _cut(shown: str, limit: int) -> str:
    """A value's repr cut to its first `limit` characters, then `...` and the quote it leaves open: cut without it,
    the quote ran on to the message's next one, where the component provider spelt no name (docs/decisions.md,
    "Review of the refusal names"). No more of the value is shown than before."""
    if len(shown) <= limit:
        return shown
    quote, escaped = "", False
    for char in shown[:limit]:
        if escaped:
            escaped = False
        elif quote and char == "\\":
            escaped = True
        elif char == quote:
            quote = ""
        elif not quote and char in "'\"":
            quote = char
    return shown[:limit] + "..." + quote


# the forms above, for `hidden`
_SHOWN_TYPE = re.compile(r"^(expects .*?), got (\w+) .*$", re.S)
_SHOWN_VALUE = re.compile(r"^.* is invalid; allowed: (.*)$", re.S)
_SHOWN_SUBJECT = re.compile(r"^.+? (is not (?:a whole number|one of .*))$", re.S)  # the provider's mapping
_EXAMPLE = re.compile(r" \(e\.g\. .*\)", re.S)  # to the last parenthesis: a value may hold one
# a handle's unknown key, or a field in both spellings (shapes._unknown_key)
_SHOWN_GIVEN = re.compile(
    r"^(is not an input; .*?|is '\w+' again, as the component provider names it)[,;] given .*$", re.S)


def hidden(why: str) -> str:
    """A problem's reason without the value it shows (the checks' forms: "expects X, got <type> <value>",
    "<value> is invalid; allowed: Y", and the provider's mapping's "<value> is not a whole number|one of ..."), for a
    value that is a secret: the message reaches the console and CI logs. A rule's example goes too: it may be the
    value itself, corrected (a mirror registry's "(e.g. user:password@host)", its scheme dropped)."""
    if _SHOWN_GIVEN.match(why):
        return _SHOWN_GIVEN.sub(r"\1; given a secret (its value is not shown)", why)
    if _SHOWN_TYPE.match(why):
        return _SHOWN_TYPE.sub(r"\1, got a \2 (a secret: its value is not shown)", why)
    if _SHOWN_VALUE.match(why):
        return _EXAMPLE.sub("", _SHOWN_VALUE.sub(r"a secret (its value is not shown) is invalid; allowed: \1", why))
    if _SHOWN_SUBJECT.match(why):
        return _SHOWN_SUBJECT.sub(r"a secret (its value is not shown) \1", why)
    return why


def _unshown(why: str, value: Any) -> str:
    """`why` without the secret `value` where a rule names it in another input's allowed text ("at least
    min_replicas (7)") or its own: each string or number in it as a whole word, and any quoted part of one (an ACR
    id's "not 'registryname'")."""
    leaves: list[str] = []

    def collect(item: Any) -> None:
        if isinstance(item, Mapping):
            for key, inner in item.items():
                collect(key)
                collect(inner)
        elif isinstance(item, (list, tuple)):
            for inner in item:
                collect(inner)
        elif isinstance(item, (str, int, float)) and not isinstance(item, bool) and str(item):
            leaves.extend({repr(item), str(item)})
    collect(value)
    for leaf in sorted(leaves, key=len, reverse=True):
        why = re.sub(rf"(?<![\w.]){re.escape(leaf)}(?![\w.])", "a secret", why)
    texts = [leaf.lower() for leaf in leaves]
    return _QUOTED.sub(lambda m: "a secret" if any(m[2].lower() in t for t in texts) else m[0], why)


_QUOTED = re.compile(r"(?<!\w)(['\"])([^'\"\n]+)\1(?!\w)")  # a value a rule quotes (repr), not "Door's"
