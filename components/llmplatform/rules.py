"""The input rules' common vocabulary: a `Problem` (which input, its value, what is allowed) and `Rules`, a reader
over one component's inputs that records every problem instead of stopping at the first.

Pure: no Pulumi import (an output, known only at deploy time, is recognised by its type and left alone), so the
stack's config layer runs the same rules on its own values and names each problem by its stack key.
"""
import difflib
import re
import unicodedata
from decimal import ROUND_UP, Decimal, DecimalException, localcontext
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Optional, Union

from .azure_names import dns_label, key_vault_secret
from .defaults import DEFAULTS

_REF = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\[\]]*)\}")


def shown(value: Any) -> str:
    """A value as a message shows it, bounded in length (a component, not its object address)."""
    if is_output(value):  # an Output answers every attribute: not a component
        return "an Output (known only at deploy time)"
    if hasattr(value, "urn") and hasattr(value, "_name") and not isinstance(value, Mapping):  # a Pulumi resource
        return f"the {type(value).__name__} component {getattr(value, '_name')!r}"
    text = without_password(repr(without_outputs(value)))
    # a long string keeps its end, where an Azure resource id names the resource
    return text if len(text) <= 80 else text[:38] + "..." + text[-39:]


# A URL's user:password@ (config/reader.py's `describe` masks the stack config's messages with this too)
_USERINFO_PASSWORD = re.compile(r"(//[^/?#@\s:'\"]*):[^\s'\"]*@")
# a user name alone is often a token (https://<token>@host): shown as *** whole
_USERINFO_TOKEN = re.compile(r"//[^/?#@\s:'\"]+@")
# ...and `user:password@host` with no scheme (a registry given as docker's login would take it); not a digest's
# `name:tag@sha256:`, nor a path's `host:port/name@...`
_BARE_USER_PASSWORD = re.compile(r"(?<![\w/.:@-])([\w.~%+-]+):[^\s'\"/@:]+@(?!sha256:)")


def without_password(text: str) -> str:
    """`text` with the password of every URL in it (`https://user:secret@host`, or `user:secret@host` without a
    scheme) replaced by `***`, and a user name given alone (`https://<token>@host`) too: a refusal goes into CI logs,
    and a registry, endpoint or webhook URL given with its credential is still refused by its shape."""
    masked = _USERINFO_TOKEN.sub("//***@", _USERINFO_PASSWORD.sub(r"\1:***@", text))
    return _BARE_USER_PASSWORD.sub(r"\1:***@", masked)


def up_to_host(text: str) -> str:
    """A URL refused where a list wants names or addresses, shown up to its host: the rest may be its credential (a
    Slack or Teams webhook's path and query are its token, pasted in place of an alert e-mail)."""
    scheme, sep, rest = text.partition("://")
    if not sep:  # a URL pasted without its scheme (hooks.slack.com/services/...): up to its first / ? or #
        head = re.split(r"[/?#]", text, maxsplit=1)[0]
        return f"{head}/..." if head != text else text
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = authority.rsplit("@", 1)[-1]  # without a user:password@
    return f"{scheme}://{host}/..." if host != rest else text


class _Withheld:
    """A refused value a message does not show (`Rules.secret_name`)."""

    def __repr__(self) -> str:
        return "(a value not shown: it may be the secret itself)"

    __str__ = __repr__


# In a refusal in place of a value that may be a secret: an input that names a Key Vault secret refuses a value that
# is no secret's name, which may be the secret itself, pasted in its place, and refusals go into CI logs.
WITHHELD = _Withheld()


class _Later:
    """An output inside a value a message shows: its repr, not the object's address."""

    def __repr__(self) -> str:
        return "<output>"


def without_outputs(value: Any) -> Any:
    """The value with every output inside a list or map replaced by `<output>`, for a message's repr."""
    if is_output(value):
        return _Later()
    if isinstance(value, Mapping):
        return {k: without_outputs(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(without_outputs(v) for v in value)
    return value


# Words other tools spell differently for the same input (AKS's CLI and Terraform say node counts, a VM size is often
# called its SKU): a typo in one matches the name in the other. Small on purpose: a pair goes here only when a real
# typo suggested a wrong input without it.
_SAME_WORD = {"nodes": "count", "node": "count", "sku": "size", "address": "ip", "gib": "gb", "gb": "gib",
              "ns": "namespace", "region": "location"}  # region: Azure's word for it (`location` in its API)
_CLOSE_WORD = 0.8  # two words this alike (difflib's ratio) are one word mistyped: "replcas", "modle", "maxCont"
_CLOSE_NAME = 0.75  # a name with no word in common this alike as a whole is a typo of it ("vmsize"); not "taints"


def name_words(name: str) -> list[str]:
    """The words of an input name, snake_case or camelCase: `maxCount` and `max_count` are ["max", "count"]."""
    return [w for w in re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower().split("_") if w]


def _word_match(typed: str, word: str) -> bool:
    return typed == word or _SAME_WORD.get(typed) == word or (len(typed) >= 4 and word.startswith(typed)) or \
        difflib.SequenceMatcher(None, typed, word).ratio() >= _CLOSE_WORD


def nearest_names(name: str, known: Iterable[str]) -> list[str]:
    """The known names a mistyped `name` most likely means, best first: one, or two that explain the typed words
    equally well with about as few words of their own; none when no name is close. Scored by words, not letters: `max_nodes` means `max_count` (not
    `max_pods`, one letter nearer), `keda_endpoints` means `keda`, `timeout` one of the `*_timeout_seconds`; first by
    how many typed words a name explains, then by how few words it adds, then by letters. A name with no word in
    common counts only when it is the same letters mistyped as a whole (`vmsize`, `replcas`)."""
    typed = name_words(name)
    joined = "".join(typed)
    scored: list[tuple[float, float, float, str]] = []
    for candidate in known:
        words = name_words(candidate)
        whole = difflib.SequenceMatcher(None, joined, "".join(words)).ratio()
        if not typed or not words:
            continue
        if joined == "".join(words) or [_SAME_WORD.get(w, w) for w in typed] == words:
            return [candidate]  # the same words, spelt another way
        shared = sum(any(_word_match(t, w) for w in words) for t in typed)
        if shared or whole >= _CLOSE_NAME:
            scored.append((shared / len(typed), shared / len(words), whole, candidate))
    scored.sort(key=lambda s: (-s[0], -s[1], -s[2], s[3]))
    # a runner-up as likely: it explains the typed words as well and adds not many more words than the best
    return [s[3] for s in scored[:2] if s[0] == scored[0][0] and s[1] >= 0.75 * scored[0][1]]


def within(path: str, outer: str) -> bool:
    """The input path `path` is `outer` or a field or item under it (`a.b`, `a[0]` are within `a`)."""
    return path == outer or path.startswith((f"{outer}.", f"{outer}["))


def nearest_or_all(name: str, known: Iterable[str], listed: str = "known", near: Optional[str] = None) -> str:
    """What to tell someone who typed an unknown `name`: the nearest known name when one is close (or `near`, a
    caller's better guess), two when both are as likely, else every known name."""
    known = sorted(known)
    found = [near] if near else nearest_names(name, known)
    if not found:
        return f"{listed}: {', '.join(known)}"
    return "did you mean " + " or ".join(repr(n) for n in found) + "?"


class Problem(NamedTuple):
    """One input that cannot be built from. `allowed` may name other inputs as `{path}` (the renderer names them as
    its reader knows them: Python input paths, or stack config keys)."""

    path: str
    value: Any
    allowed: str

    def allowed_text(self, name: Callable[[str], str] = str) -> str:
        return _REF.sub(lambda m: name(m.group(1)), self.allowed)

    def reason(self, name: Callable[[str], str] = str) -> str:
        return f"{shown(self.value)} is invalid; allowed: {self.allowed_text(name)}"

    def sentence(self, name: Callable[[str], str] = str) -> str:
        return f"input {name(self.path)}={shown(self.value)} is invalid; allowed: {self.allowed_text(name)}"


def is_output(value: Any) -> bool:
    """A pulumi.Output (or anything else only known at deploy time), without importing Pulumi; or an unknown value as
    the component provider's Construct hands it over in a preview (`pulumi.output.Unknown`, inside an input that
    carries no dependency: the SDK's server passes such an input on as it is)."""
    kind = type(value)
    return kind.__module__.startswith("pulumi") and (hasattr(value, "apply") or kind.__name__ == "Unknown")


def has_output(value: Any) -> bool:
    """An output, or a list or map holding one at any depth (a handle's list field arrives through the component
    provider as a list of outputs)."""
    if is_output(value):
        return True
    if isinstance(value, (list, tuple)):
        return any(has_output(v) for v in value)
    if isinstance(value, Mapping):
        return any(has_output(v) for v in value.values())
    return False


def known(handle: Any, key: str, default: Any = None) -> Any:
    """A handle field whose value is known when the component is built (a Python caller's plain value), else
    `default`: an output, a value holding one, or a handle that arrives as one output through the component provider,
    is not known yet."""
    value = handle.get(key, default) if isinstance(handle, Mapping) else default
    return default if has_output(value) else value


class Found(list):
    """The problems one component's rules found, and what they declared about each input they read (its allowed
    values or bounds, by input path): the stack config's reference documents the same limits."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.declared: dict[str, dict[str, Any]] = {}


class Rules:
    """Reads one component's inputs (or one nested spec of them) and records a Problem for each bad value. Every
    read returns the value to build from, or None when it is absent, unknown yet (an output) or refused."""

    def __init__(self, args: Any, component: Optional[str] = None, prefix: str = "",
                 problems: Optional[Found] = None):
        self.args: Mapping[str, Any] = args if isinstance(args, Mapping) else {}
        self.defaults = DEFAULTS.get(component or "", {})
        self.prefix = prefix
        self.problems: Found = Found() if problems is None else problems

    def path(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def ref(self, key: str) -> str:
        """`{path}`: names another input in an `allowed` text."""
        return "{" + self.path(key) + "}"

    def declare(self, key: str, **facts: Any) -> None:
        """What is allowed for an input, as data (allowed=(...) or minimum=, maximum=); the first one holds."""
        self.problems.declared.setdefault(self.path(key), facts)

    def add(self, key: str, value: Any, allowed: str) -> None:
        self.problems.append(Problem(self.path(key), value, allowed))

    def given(self, key: str) -> Any:
        """The caller's value when it is known now, else None."""
        value = self.args.get(key)
        return None if value is None or is_output(value) else value

    def get(self, key: str) -> Any:
        """The caller's known value, the default when absent, None when unknown yet."""
        value = self.args.get(key)
        if value is None:
            return self.defaults.get(key)
        return None if is_output(value) else value

    def section(self, key: str) -> "Rules":
        """The nested spec under `key`, its problems recorded with this one's."""
        return Rules(self.given(key), None, f"{self.path(key)}.", self.problems)

    def items(self, key: str) -> list[tuple["Rules", Any]]:
        """Each element of a list input: (its reader, its value)."""
        value = self.given(key)
        if not isinstance(value, (list, tuple)):
            return []
        return [(Rules(v, None, f"{self.path(key)}[{i}].", self.problems), v) for i, v in enumerate(value)]

    # ---- typed reads -------------------------------------------------------------------------------------------
    def choice(self, key: str, allowed: Iterable[Any]) -> Any:
        allowed = tuple(allowed)
        self.declare(key, allowed=allowed)
        value = self.get(key)
        if value is not None and value not in allowed:
            self.add(key, value, ", ".join(map(str, allowed)))
            return None
        return value

    def whole(self, key: str, low: int, high: int, why: str = "") -> Optional[int]:
        self.declare(key, minimum=low, maximum=high)
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(key, value, f"a whole number from {low} to {high}{why}")
            return None
        return value

    def number(self, key: str, low: float, high: float, what: str = "") -> Optional[float]:
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            self.add(key, value, what or f"a number from {low:g} to {high:g}")
            return None
        return float(value)

    def flag(self, key: str) -> Optional[bool]:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.add(key, value, "true or false")
            return None
        return value

    def text(self, key: str, rule: Callable[[str], Optional[str]], withhold: bool = False) -> Optional[str]:
        """A string checked by `rule`, which returns what is allowed when the string breaks it (else None); refused
        as WITHHELD with `withhold`."""
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(key, WITHHELD if withhold else value, "a string")
            return None
        wrong = rule(value)
        if wrong:
            self.add(key, WITHHELD if withhold else value, wrong)
            return None
        return value

    def secret_name(self, key: str) -> Optional[str]:
        """The name of a Key Vault secret; a refusal does not show the value (WITHHELD)."""
        return self.text(key, key_vault_secret, withhold=True)

    def texts(self, key: str, rule: Callable[[str], Optional[str]],
              show: Callable[[str], str] = lambda text: text) -> list[str]:
        """A list of strings, each checked by `rule`; the good ones. A refused string is shown as `show` has it."""
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, (list, tuple)):
            self.add(key, value, "a list of strings")
            return []
        good = []
        for i, item in enumerate(value):
            if is_output(item):
                continue
            wrong = "a string" if not isinstance(item, str) else rule(item)
            if wrong:
                self.add(f"{key}[{i}]", show(item) if isinstance(item, str) else item, wrong)
            else:
                good.append(item)
        return good


def pattern(regex: str, allowed: str) -> Callable[[str], Optional[str]]:
    """A rule from a regular expression the whole string must match."""
    compiled = re.compile(regex)
    return lambda value: None if compiled.fullmatch(value) else allowed


# ---- small formats several components share -------------------------------------------------------------------
GUID = pattern(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", "an Entra object id (GUID)")

# An action group's e-mail receiver (AzureMonitoring's alert_emails). Azure's API gives the address no pattern and no
# length (Microsoft.Insights 2024-10-01-preview actionGroups_API.json `EmailReceiver`, the version the provider sends;
# `az monitor action-group create` checks nothing either); Azure Monitor's service limits do: "The character limit in
# an e-mail address is 64" and "1,000 email actions in an action group" (azure-monitor-docs
# alerts/includes/azure-monitor-limits-action-groups.md). Within them, an address mail can reach: a dot-atom local
# part (RFC 5322 3.2.3, 3.4.1: no leading, trailing or double dot) and DNS labels under a top-level domain of letters
# or an internationalised one in punycode (`xn--p1ai`).
ALERT_EMAIL_MAX_LENGTH = 64
ALERT_EMAILS_MAX = 1000
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ALERT_EMAIL = re.compile(rf"{_ATEXT}(\.{_ATEXT})*@([A-Za-z0-9]([A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+"
                          r"([A-Za-z]{2,63}|[Xx][Nn]--[A-Za-z0-9-]{0,58}[A-Za-z0-9])")


def alert_email_problem(address: str) -> Optional[str]:
    """What an action group's e-mail address must be (above), when `address` is not one; else None."""
    if not _ALERT_EMAIL.fullmatch(address):
        return "an e-mail address"
    if len(address) > ALERT_EMAIL_MAX_LENGTH:
        return (f"an e-mail address of at most {ALERT_EMAIL_MAX_LENGTH} characters (Azure Monitor's limit for an "
                "action group's e-mail receiver)")
    return None


# The HTML standard's "valid e-mail address" (input type=email; its own regular expression, whatwg/html bb81453c
# review-drafts/2026-07.wattsi), what a browser lets Open-WebUI's sign-in field (`type="email"`,
# src/routes/auth/+page.svelte) send; its server takes the admin's address as any text, lowercased
# (backend/open_webui/utils/auth.py `create_admin_user`), so `ops@localhost` signs in
SIGN_IN_EMAIL = pattern(r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
                        r"(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*",
                        "an e-mail address a browser's e-mail field takes, like ops@example.com or admin@localhost")

# What Let's Encrypt (Boulder, letsencrypt/boulder 038170a4 policy/pa.go `validDomain`) issues for: 2-10 labels, each
# 1-63 letters, digits and '-' not at either end, at most 253 in all, a label with '--' third and fourth only as
# valid punycode (`xn--`), not an IP address, ending in an ICANN TLD. Without the public-suffix list here, the TLD is
# letters or punycode and none of the names reserved from the root (RFC 2606, 6761, 6762, 8375; ICANN's .internal,
# and .corp, .home, .mail it will not delegate): a name in a private zone gets no certificate.
_RESERVED_TLDS = ("test", "example", "invalid", "localhost", "local", "internal", "corp", "home", "mail", "lan")
PUBLIC_DNS_NAME_ALLOWED = ("a lowercase public DNS name Let's Encrypt issues for, like llm.example.com (2-10 labels "
                           "of letters, digits and '-', at most 253 characters, under a public top-level domain)")


def _punycode_problem(label: str) -> bool:
    """A label with '--' third and fourth that is no valid, NFC-normal punycode (Boulder's errInvalidRLDH and
    errMalformedIDN)."""
    if not label.startswith("xn--") or label.rfind("-") == 4:  # '-' only first: Go's punycode decode refuses it
        return True
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except UnicodeError:
        return True
    return not decoded or not unicodedata.is_normalized("NFC", decoded)


def public_dns_name_problem(name: str) -> Optional[str]:
    """A certificate's DNS name as Let's Encrypt judges it (above); None when it issues for it."""
    labels = name.split(".")
    if len(name) > 253 or not 2 <= len(labels) <= 10 or any(dns_label(label) for label in labels):
        return PUBLIC_DNS_NAME_ALLOWED
    if any(label[2:4] == "--" and _punycode_problem(label) for label in labels):
        return PUBLIC_DNS_NAME_ALLOWED + "; a label with '--' third and fourth only as punycode (xn--)"
    tld = labels[-1]
    public = tld.isalpha() and len(tld) > 1 or tld.startswith("xn--")
    if not public or tld in _RESERVED_TLDS or name.endswith(".home.arpa"):
        return PUBLIC_DNS_NAME_ALLOWED + f"; .{tld} is no public top-level domain"
    return None


def acme_email_problem(address: str) -> Optional[str]:
    """An ACME account's contact as Boulder reads it (`ValidEmail`: Go's net/mail address, the domain lowercased
    and then `validDomain`). example.com, .net and .org, which Boulder also refuses (`forbiddenMailDomains`), are the
    stack templates' placeholders: the config warns of them (config/advisories.py `_examples_left`)."""
    local, _, domain = address.rpartition("@")
    dot_atom = re.fullmatch(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*", local)
    if not dot_atom or len(local) > 64:
        return "an e-mail address Let's Encrypt takes as an account's contact, like ops@yourcompany.com"
    wrong = public_dns_name_problem(domain.lower())
    return f"an e-mail address whose domain is {wrong}" if wrong else None


# The Prometheus CRD's `retention` pattern (prometheus-operator v0.93.1, tests/upstream/crds/monitoring.coreos.com/
# Prometheus.yaml), less its empty string and its `0` (Prometheus then keeps its own default)
PROMETHEUS_DURATION = pattern(r"(?=.)([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?",
                              "a Prometheus duration like '15d', '4w' or '30d12h' (units y, w, d, h, m, s, ms in "
                              "that order)")
HH_MM = pattern(r"([01][0-9]|2[0-3]):[0-5][0-9]", "HH:MM (24h)")
UTC_OFFSET = pattern(r"[+-](0[0-9]|1[0-4]):[0-5][0-9]", "+HH:MM or -HH:MM, e.g. '+00:00' or '-05:00'")
KUBERNETES_VERSION = pattern(r"1\.[0-9]{2}(\.[0-9]{1,3})?", "a Kubernetes version like '1.33' or '1.33.2'")
# huggingface_hub's `validate_repo_id` (huggingface/huggingface_hub 0a57df9c src/huggingface_hub/utils/
# _validators.py), which vLLM's download runs on the id: `namespace/name`, each ASCII letters, digits, '_', '-', '.',
# starting and ending with a letter, digit or '_', the name at most 96, no '--' or '..', not ending '.git'. The Hub
# also takes a bare `name`, but its models without a namespace (gpt2) moved under one (openai-community/gpt2) and
# redirect; a bare name here is most often an Ollama name (`llama3`), which the Hub has no model of
_HF_REPO_ID = re.compile(r"\b[\w.-]+\b/\b[\w.-]{1,96}\b", re.ASCII)
HF_MODEL_ALLOWED = ("a Hugging Face model id like 'Qwen/Qwen3-8B' ('namespace/name': letters, digits, '_', '-' and "
                    "'.', each part starting and ending with a letter, digit or '_', the name at most 96, no '--' or "
                    "'..', not ending in '.git')")
# a Kubernetes label value (apimachinery eed236ce IsValidLabelValue, pkg/api/validate/content/kube.go): the served
# name (the model id's name, lowercased) labels the vLLM pods (llm-d.ai/model)
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?")


def HF_MODEL(model: str) -> Optional[str]:
    if model.count("/") > 1 or not _HF_REPO_ID.fullmatch(model) or "--" in model or ".." in model \
            or model.endswith(".git"):
        return HF_MODEL_ALLOWED
    if not LABEL_VALUE.fullmatch(model.rsplit("/", 1)[-1]):
        return ("a Hugging Face model id whose name (after the '/') is at most 63 characters and starts and ends "
                "with a letter or digit: lowercased, it labels the vLLM pods (llm-d.ai/model)")
    return None


# A Go duration (Go's time.ParseDuration, src/time/format.go): an optional sign, then one or more numbers (digits
# with an optional fraction, at least one digit) each with its unit; "0" alone needs none. Pulumi's engine reads a
# resource's customTimeouts so (pulumi/pulumi 1b5949891b pkg/resource/deploy/source_eval.go
# `generateTimeoutInSeconds`) and fails the registration on anything else.
_GO_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_GO_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_GO_DURATION_MAX_SECONDS = (2 ** 63 - 1) / 1e9  # an int64 of nanoseconds


def go_duration_seconds(text: Any) -> Optional[float]:
    """A Go duration ("30m", "1h30m", "500ms", "-1.5h", "0") in seconds, or None when Go refuses it ("", "30",
    "30 minutes", "1e3s", ".s")."""
    if not isinstance(text, str):
        return None
    rest, negative = (text[1:], text[0] == "-") if text[:1] in ("+", "-") else (text, False)
    if rest == "0":
        return 0.0
    total, pos = 0.0, 0
    while pos < len(rest):
        match = _GO_DURATION_PART.match(rest, pos)
        if not match or match.group(1) in ("", "."):
            return None
        total += float(match.group(1)) * _GO_DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos == 0 or total > _GO_DURATION_MAX_SECONDS:
        return None
    return -total if negative else total


KEEP_ALIVE_ALLOWED = ("a Go duration like '30m', '1h30m' or '0', or whole seconds like '300'; a negative one keeps "
                      "models loaded")


def keep_alive_problem(value: str) -> Optional[str]:
    """OLLAMA_KEEP_ALIVE as Ollama reads it (ollama/ollama fb307609 envconfig/config.go `KeepAlive`): a Go duration,
    else a base-10 int64 of seconds (`-1`: negative is forever). Anything else Ollama drops for its 5-minute default
    without a word, so it is refused here."""
    if go_duration_seconds(value) is not None:
        return None
    if re.fullmatch(r"[+-]?[0-9]+", value) and abs(int(value)) <= _GO_DURATION_MAX_SECONDS:
        return None
    return KEEP_ALIVE_ALLOWED


# A Kubernetes quantity as the API server parses it (kubernetes/apimachinery 357557a6 pkg/api/resource/quantity.go
# `parseQuantityString`, suffix.go `interpret`): a sign, digits with an optional fraction (`.5`, `5.` too), then one
# suffix: binary (Ki to Ei), decimal (n, u, m, none, k, M, G, T, P, E) or a decimal exponent (`e3`, `E-2`). Stricter
# only where the server reads nonsense as zero (`+`, `.`).
_QUANTITY = re.compile(r"([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?")
_SUFFIX: dict[str, Union[int, Decimal]] = {
    "": 1, "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9,
    "T": 10**12, "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def parse_quantity(text: str) -> Optional[Decimal]:
    """A Kubernetes quantity ("500m", "2", "4Gi", ".5Gi", "1e3") in base units (cores or bytes), or None when it is
    not one."""
    match = _QUANTITY.fullmatch(str(text).strip())
    if not match:
        return None
    sign, number, suffix = match.groups()
    try:
        with localcontext() as context:
            context.prec = len(number) + 20  # exact: a 28-digit default would round a long spelling (Ei is 19 digits)
            factor = Decimal(_SUFFIX[suffix or ""]) if (suffix or "") in _SUFFIX else Decimal(10) ** int(suffix[1:])
            return -Decimal(number) * factor if sign == "-" else Decimal(number) * factor
    except (DecimalException, ValueError):  # an exponent past what a Decimal holds
        return None


# How the API server writes a quantity back, whatever its spelling (apimachinery eed236ce pkg/api/resource
# quantity.go `ParseQuantity`, `CanonicalizeBytes`; amount.go `AsCanonicalBytes`, `AsCanonicalBase1024Bytes`): rounded
# up to a nano, the largest suffix of the spelling's kind that leaves a whole number (`1000m` -> `1`, `0.5` -> `500m`,
# `1024Mi` -> `1Gi`); a binary one (Ki to Ei) under 1024 or not whole is written decimal (`0.5Gi` -> `512Mi`, `1.5Ki`
# -> `1536`), and an exponent's stays one (`1.5e3` -> `1500`, `2e3` -> `2e3`). Two spellings of one value keep their
# kinds apart (`1Gi` and `1073741824`). But `ParseQuantity` keeps the spelling itself where its quick test takes it
# for that form ("if the number is in canonical form, reuse the string"), and `String`, `MarshalJSON` and
# `ToUnstructured` write that: `+1`, `01`, `1.`, `2.500`, `1E3`, `1e+3`, `01Ki` are stored as spelled.
_DECIMAL_SUFFIXES = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}
_DECIMAL_EXPONENTS = {suffix: exponent for exponent, suffix in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIXES = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_LARGEST_BINARY = Decimal(2**63 - 1)  # a binary quantity is capped there (`maxAllowed`)


def _kept_as_spelled(number: str, suffix: str) -> bool:
    """Whether `ParseQuantity` keeps this spelling as the quantity's string: its int64 path (18 digits at most, no
    digit below a nano; a binary one without a fraction and in 15 digits less its suffix's) and then its test, the
    digits without leading zeros (`shifted`) not a multiple of 8 for a binary suffix, or else a scale (the suffix's
    exponent less the fraction's digits) that is a multiple of 3, no trailing `000` and no leading `0`."""
    whole, _, fraction = number.partition(".")
    numerator = whole.lstrip("0") or "0"
    shifted = numerator + fraction
    if suffix in _BINARY_SUFFIXES[1:]:
        power = 10 * _BINARY_SUFFIXES.index(suffix)
        return not fraction and len(numerator) + power * 3 // 10 + 1 <= 15 and int(shifted) % 8 != 0
    scale = (_DECIMAL_EXPONENTS[suffix] if suffix in _DECIMAL_EXPONENTS else int(suffix[1:])) - len(fraction)
    return (len(shifted) <= 18 and scale >= -9 and scale % 3 == 0 and not shifted.endswith("000")
            and not shifted.startswith("0"))


def canonical_quantity(text: str) -> Optional[str]:
    """A Kubernetes quantity as the API server stores it (`1000m` -> "1", `1024Mi` -> "1Gi", `+1` -> "+1"), or None
    when `text` is no quantity (or one of a size the server cannot write back)."""
    spelled = str(text).strip()
    value = parse_quantity(spelled)
    match = _QUANTITY.fullmatch(spelled)
    if value is None or match is None:
        return None
    number, suffix = match[2], match[3] or ""
    if _kept_as_spelled(number, suffix):
        return spelled
    try:
        return _canonical_form(value, suffix)
    except (DecimalException, ValueError):  # digits past what the written form can hold
        return None


def _canonical_form(value: Decimal, suffix: str) -> Optional[str]:
    """`CanonicalizeBytes` of `value` parsed with `suffix`."""
    with localcontext() as context:
        context.prec = len(value.as_tuple().digits) + 12  # every digit kept (a nano's more, a carry)
        size = abs(value)
        if size.as_tuple().exponent < -9:  # type: ignore[operator]
            size = size.quantize(Decimal("1e-9"), rounding=ROUND_UP)
        if size == 0:
            return "0"
        sign = "-" if value < 0 else ""
        if suffix in _BINARY_SUFFIXES[1:]:
            size = min(size, _LARGEST_BINARY)
            if size >= 1024 and size == size.to_integral_value():
                number, power = int(size), 0
                while number % 1024 == 0 and power < len(_BINARY_SUFFIXES) - 1:
                    number, power = number // 1024, power + 1
                return f"{sign}{number}{_BINARY_SUFFIXES[power]}"
        _, digits, exponent = size.normalize().as_tuple()
        mantissa, exponent = int("".join(map(str, digits))), int(exponent)
        mantissa, exponent = mantissa * 10 ** (exponent % 3), exponent - exponent % 3
    if suffix not in _DECIMAL_EXPONENTS and suffix not in _BINARY_SUFFIXES:  # an exponent (`e3`, `E-2`)
        return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")
    return f"{sign}{mantissa}{_DECIMAL_SUFFIXES[exponent]}" if exponent in _DECIMAL_SUFFIXES else None


def _amount_problem(value: str) -> Optional[str]:
    """A request or limit: a quantity the API server takes for one (its validation refuses a negative amount)."""
    quantity = parse_quantity(value)
    return None if quantity is not None and quantity >= 0 else "a Kubernetes quantity, not negative, like '500m', " \
        "'2' or '4Gi'"


def resources_rules(r: Rules) -> None:
    """A ResourcesSpec: every value a Kubernetes quantity, each limit at least its request."""
    values: dict[str, Decimal] = {}
    for key in ("cpu_request", "cpu_limit", "memory_request", "memory_limit"):
        text = r.text(key, _amount_problem)
        quantity = parse_quantity(text) if text is not None else None
        if quantity is not None and quantity >= 0:
            values[key] = quantity
    for request, limit in (("cpu_request", "cpu_limit"), ("memory_request", "memory_limit")):
        if request in values and limit in values and values[limit] < values[request]:
            r.add(limit, r.given(limit), f"at least {r.ref(request)} ({r.given(request)})")
