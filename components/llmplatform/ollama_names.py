"""Ollama model names, read the way the pinned Ollama reads them (v0.32.15, b7871fc0):

- `types/model/name.go` `ParseName` = `ParseNameBare` merged with the defaults (host `registry.ollama.ai`, namespace
  `library`, tag `latest`); `Name.IsValid` = every part present and valid (`isValidPart`): host
  `[A-Za-z0-9_][A-Za-z0-9_.:-]*` (1-350), namespace `[A-Za-z0-9_][A-Za-z0-9_-]*` (1-80), model and tag
  `[A-Za-z0-9_][A-Za-z0-9_.-]*` (1-80). A separator with nothing beside it (`/m`, `m:`) makes a part missing.
  `DisplayShortest` is the name `ollama list` shows (host and namespace left out when they are the defaults).
- `internal/modelref/modelref.go` `ParseRef`: a `:cloud` / `:local` suffix, or a tag ending `-cloud`, is a source
  suffix (a model served by ollama.com, not weights to pull), not part of the name.
- `server/routes.go` `PullHandler` refuses a name that is not valid after those two (`ollama pull` answers
  "invalid model name").

Pure (no Pulumi import): the component's input rules and the stack's config read names with it alike.
"""

from typing import NamedTuple, Optional

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
MISSING = "!MISSING!"  # name.go MissingPart: a part a separator promised but that is empty
_MAX = {"host": 350, "namespace": 80, "model": 80, "tag": 80}
GRAMMAR = "[host/][namespace/]model[:tag] (Ollama's model-name grammar, e.g. 'qwen2.5:7b' or " \
          "'hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M')"


class Name(NamedTuple):
    host: str
    namespace: str
    model: str
    tag: str


def _cut_promised(s: str, sep: str) -> tuple[str, str, bool]:
    """name.go cutPromised: split at the last `sep`; an empty side is MISSING."""
    i = s.rfind(sep)
    if i < 0:
        return s, "", False
    return s[:i] or MISSING, s[i + len(sep):] or MISSING, True


def parse_bare(s: str) -> Name:
    """name.go ParseNameBare (no defaults; the scheme, if any, is dropped)."""
    host = namespace = tag = ""
    if s.rfind(":") > s.rfind("/"):  # "/" is no tag character, so a ':' after the last '/' starts the tag
        s, tag, _ = _cut_promised(s, ":")
    s, model, promised = _cut_promised(s, "/")
    if not promised:
        return Name("", "", s, tag)
    s, namespace, promised = _cut_promised(s, "/")
    if not promised:
        return Name("", s, model, tag)
    scheme, sep, rest = s.partition("://")
    host = rest if sep else scheme
    return Name(host, namespace, model, tag)


def parse(s: str) -> Name:
    """name.go ParseName: ParseNameBare merged with the defaults."""
    bare = parse_bare(s)
    return Name(bare.host or DEFAULT_HOST, bare.namespace or DEFAULT_NAMESPACE, bare.model, bare.tag or DEFAULT_TAG)


def _part_problem(kind: str, s: str) -> Optional[str]:
    """name.go isValidPart, as the reason a part is not valid."""
    if s == MISSING:
        return f"its {kind} is empty"
    if not 1 <= len(s) <= _MAX[kind]:
        return f"its {kind} must be 1-{_MAX[kind]} characters"
    extra = {"host": "_-.:", "namespace": "_-", "model": "_-.", "tag": "_-."}[kind]
    first_ok = s[0].isascii() and (s[0].isalnum() or s[0] == "_")
    rest_ok = all(c.isascii() and (c.isalnum() or c in extra) for c in s[1:])
    if not (first_ok and rest_ok):
        shown = " ".join(f"'{c}'" for c in extra)
        return f"its {kind} {s!r} must start with a letter, digit or '_' and hold only letters, digits and {shown}"
    return None


def source_suffix(s: str) -> Optional[str]:
    """modelref.go parseSourceSuffix: the `:cloud`, `:local` or `-cloud` suffix of `s`, if it has one."""
    i = s.rfind(":")
    if i < 0:
        return None
    suffix = s[i + 1:].strip().lower()
    if suffix in ("cloud", "local"):
        return ":" + suffix
    if "/" not in suffix and suffix.endswith("-cloud"):
        return "-cloud"
    return None


def name_problem(s: str) -> Optional[str]:
    """Why `s` is not a name `ollama pull` takes as a model to download (None when it is)."""
    if not s:
        return "an Ollama model name: " + GRAMMAR
    if s != s.strip():
        return "a name without leading or trailing spaces"
    if "://" in s:
        return "a name without a scheme ('https://'): Ollama pulls over https, and `ollama list` shows no scheme"
    suffix = source_suffix(s)
    if suffix:
        return (f"a name without the source suffix {suffix!r}: with it Ollama serves the model from ollama.com "
                "(cloud) or only from what is already local, and there are no weights to preload")
    name = parse(s)
    for kind, part in zip(Name._fields, name):
        problem = _part_problem(kind, part)
        if problem:
            return f"an Ollama model name {GRAMMAR}; {problem}"
    return None


def display_shortest(s: str) -> str:
    """name.go DisplayShortest of ParseName(s): the name `ollama list` shows for it."""
    n = parse(s)
    if n.host.lower() != DEFAULT_HOST:
        return f"{n.host}/{n.namespace}/{n.model}:{n.tag}"
    if n.namespace.lower() != DEFAULT_NAMESPACE:
        return f"{n.namespace}/{n.model}:{n.tag}"
    return f"{n.model}:{n.tag}"


def same_model(a: str, b: str) -> bool:
    """Whether two names are one model to Ollama: the same name once defaults are filled in, ignoring case (its
    handlers look models up with `Name.EqualFold`)."""
    return display_shortest(a).casefold() == display_shortest(b).casefold()


def has_tag(s: str) -> bool:
    """modelref.go HasExplicitTag: a ':' after the last '/' (a registry port does not count)."""
    return s.rfind(":") > s.rfind("/")


def is_library(s: str) -> bool:
    """A model of ollama.com's library (the default host and namespace, written or not)."""
    n = parse(s)
    return n.host.lower() == DEFAULT_HOST and n.namespace.lower() == DEFAULT_NAMESPACE
