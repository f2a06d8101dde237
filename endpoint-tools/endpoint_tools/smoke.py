"""Smoke test of a deployed LLM endpoint.

`llm-smoke URL [--model M] [--api-key K] ...` (or `python -m endpoint_tools.smoke ...`).

Prints one PASS/FAIL line per check. Exit codes: 0 all checks passed, 1 a check failed or the endpoint could not
be reached, 2 bad usage, 130 on Ctrl-C, 141 when stdout is closed early (`| head`; as a program stopped by SIGPIPE,
without a word). Never a traceback: every endpoint failure is a named kind with one line.
"""

import argparse
import difflib
import os
import re
import sys
import threading
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar
from urllib.parse import urlsplit

import requests

from .endpoint import EndpointError, resolve, shown_url, url_problem, without_v1
from .api_errors import KINDS, ApiError, Deadlines, api_key_problem
from .llm_api import APIS, MAX_TOKENS, Completion, LlmClient, detect_api

KEY_ENV = "LLM_API_KEY"
KEY_OPTION = ("--api-key", KEY_ENV)  # where a gate's key comes from, named when it is missing or bad
MAX_SECONDS = 86400.0  # a day: the longest deadline or duration the tools take (urllib3 overflows near 1e10 s)
# The flag that sets each deadline an ApiError names (`ApiError.deadline`), for the hint on a timeout's line.
DEADLINE_FLAGS = {"total": "--timeout", "first_token": "--ttft-timeout"}
T = TypeVar("T")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def not_listed(expected: str, models: list[str]) -> str:
    """A model the server does not list, with the listed names nearest to it (or the first few): a server of many
    models printed all of them on one line."""
    near = difflib.get_close_matches(expected, models, 3, 0.5)
    shown = ", ".join(repr(m) for m in (near or models[:5]))
    which = "nearest" if near else ("listed" if len(models) <= 5 else "the first 5")
    return f"{expected!r} is not among the {len(models)} model(s) the server lists ({which}: {shown})"


def check_models(client: LlmClient, expected: Optional[str]) -> tuple[Check, Optional[str]]:
    models = client.list_models()
    if not models:
        return Check("models", False, "the model list is empty"), None
    if expected and expected not in models:
        return Check("models", False, not_listed(expected, models)), None
    model = expected or models[0]
    return Check("models", True, f"{len(models)} model(s); using {model!r}"), model


def reasoning_only(done: Completion) -> str:
    """The words for an answer that was all reasoning (a reasoning model cut at --max-tokens before its answer):
    the model generated, so the check passes, saying so; "" for any other answer."""
    if done.content.strip() or not done.reasoning.strip():
        return ""
    return ", all of its reasoning (the answer had not begun within --max-tokens)"


def answer_lost_in_reasoning(done: Completion) -> str:
    """Why an answer that is all reasoning fails: the server said the model finished ("stop", not "length": it was not
    cut at --max-tokens), so a client reading the answer's content (every OpenAI client) got an empty answer. vLLM's
    reasoning parsers take an output without the end-of-thinking tag whole for reasoning (vllm/reasoning/
    basic_parsers.py), so a parser that does not fit the model does this to every answer; "" for any other answer
    (one with content, one cut at the limit, one whose server gave no finish reason)."""
    if done.content.strip() or not done.reasoning.strip() or done.finish_reason in (None, "length"):
        return ""
    tokens = "" if done.output_tokens is None else f" {done.output_tokens} tokens,"
    return (f"the model finished (finish reason {done.finish_reason!r}) and all of it came as reasoning,{tokens} no "
            f"content: a client reading the answer gets an empty one (a reasoning parser that does not fit the model "
            f"takes an answer without its end-of-thinking tag for reasoning: vLLM's --reasoning-parser)")


def check_completion(client: LlmClient, model: str, max_tokens: int) -> Check:
    done = client.chat(model, "Reply with one short sentence.", max_tokens)
    if not done.content.strip() and not done.reasoning.strip():
        return Check("completion", False, "empty content")
    if answer_lost_in_reasoning(done):
        return Check("completion", False, answer_lost_in_reasoning(done))
    if done.output_tokens is None:
        return Check("completion", False, "no usage (output token count) in the answer")
    if not done.output_tokens:  # a count of 0 for an answer that has text: a token count not to be believed
        return Check("completion", False, "the answer has text but its usage counts 0 output tokens "
                                          "(completion_tokens, or Ollama's eval_count): the server's token count is "
                                          "wrong, and llm-bench's tokens/s with it")
    return Check("completion", True, f"{done.output_tokens} tokens in {done.latency_s * 1000:.0f} ms"
                 + reasoning_only(done))


# A stream is held back when its content arrives all at once at the end: something between the client and the model
# server buffered the response (a proxy; Azure Front Door's websocket page notes that Front Door does not support
# Server-Sent Events, learn.microsoft.com azure/frontdoor/standard-premium/websocket). A model server writes one event
# per token and a gate that does not buffer forwards each as written (tests/components/test_router_nginx.py), so
# BUFFERED_MIN_CHUNKS events take at least 7 token times, over 5 ms below ~1,400 tokens/s for one answer. With fewer
# chunks a fast server's short answer may fit one read: no verdict.
BUFFERED_MIN_CHUNKS = 8
BUFFERED_SPREAD_S = 0.005


def arrived_at_once(chunk_times_s: list[float]) -> bool:
    """Whether a stream's content chunks (their arrival times) came together, as a buffered response does."""
    return len(chunk_times_s) >= BUFFERED_MIN_CHUNKS and chunk_times_s[-1] - chunk_times_s[0] < BUFFERED_SPREAD_S


def check_stream(client: LlmClient, model: str, max_tokens: int) -> Check:
    done = client.chat_stream(model, "Count from one to five.", max_tokens)
    if done.chunks < 1 or done.ttft_s is None:  # chat_stream sets ttft_s with the first chunk
        return Check("stream", False, "no content chunks before the stream ended")
    spread_ms = (done.chunk_times_s[-1] - done.chunk_times_s[0]) * 1000
    if arrived_at_once(done.chunk_times_s):
        return Check("stream", False, f"all {done.chunks} chunks arrived together ({spread_ms:.1f} ms apart) "
                                      f"{done.ttft_s * 1000:.0f} ms after the request: something between here and "
                                      "the model server held the answer back until it ended (a proxy that buffers "
                                      "responses; Front Door documents Server-Sent Events as unsupported; or the "
                                      "server wrote the whole answer at once), so a "
                                      "client sees no token before the whole answer and a long one meets the "
                                      "proxy's response timeout")
    if answer_lost_in_reasoning(done):
        return Check("stream", False, answer_lost_in_reasoning(done))
    chunks = f"{done.chunks} chunk{'' if done.chunks == 1 else 's'}"
    return Check("stream", True, f"{chunks} over {spread_ms:.0f} ms, first after "
                                 f"{done.ttft_s * 1000:.0f} ms, terminated" + reasoning_only(done))


def check_generate(client: LlmClient, model: str, max_tokens: int) -> Check:
    done = client.generate(model, "Say hello.", max_tokens)
    ok = bool(done.content.strip() or done.reasoning.strip()) and done.finished
    tokens = "no token count" if done.output_tokens is None else f"{done.output_tokens} tokens"
    if ok and answer_lost_in_reasoning(done):
        return Check("generate", False, answer_lost_in_reasoning(done))
    return Check("generate", ok, tokens + reasoning_only(done) if ok else "empty or unfinished /api/generate")


def check_wrong_key_refused(client: LlmClient) -> Check:
    wrong = LlmClient(client.base_url, client.api, api_key="smoke-test-wrong-key", deadlines=client.deadlines)
    try:
        wrong.list_models()
    except ApiError as error:
        if error.kind == "unauthorized":
            return Check("auth", True, f"a wrong API key is refused ({error.status})")
        raise
    if wrong.key_dropped_at:  # the key was not accepted: it never arrived (requests 2.34.2 `should_strip_auth`)
        return Check("auth", False, f"the key was never checked: a redirect to {wrong.key_dropped_at} left it behind "
                                    f"(no Authorization header goes to another host, port or scheme) and the server "
                                    f"there answered without one: give the URL it redirects to")
    return Check("auth", False, "a wrong API key was accepted")


def check_rate_limit(client: LlmClient, burst: int) -> Check:
    """A burst past the gate's limit gets 429s; the detail says whether they told the client when to retry (the
    platform's gates send Retry-After; an edge in front, such as Front Door's WAF, answers its own 429 without)."""
    def one(_: int) -> tuple[int, Optional[str]]:
        try:
            client.list_models()
            return 200, None
        except ApiError as error:
            return error.status or 0, error.retry_after

    answers = daemon_map(one, burst, 32)
    waits = sorted({wait for status, wait in answers if status == 429 and wait is not None})
    limited = sum(status == 429 for status, _ in answers)
    told = (f", with Retry-After {', '.join(waits)}" if waits else
            ", without Retry-After (the platform's gates send it: an older gate, or an edge in front answered)")
    return Check("rate-limit", limited > 0, f"{limited} of {burst} burst requests answered 429"
                 + (told if limited else ""))


def daemon_map(fn: Callable[[int], T], count: int, most: int) -> list[T]:
    """[fn(0), ..., fn(count - 1)] from at most `most` threads, daemon ones: on Ctrl-C the main thread stops waiting
    at once and the process exits, where a ThreadPoolExecutor (joined on leaving its `with`, and again at exit)
    waited for every request still out to reach its deadline (the burst's 120 s by default)."""
    answers: list[Optional[T]] = [None] * count
    indexes = iter(range(count))
    lock = threading.Lock()
    raised: list[BaseException] = []  # what fn raised, raised again here (a thread's would be a traceback on stderr)

    def work() -> None:
        while not raised:
            with lock:
                index = next(indexes, None)
            if index is None:
                return
            try:
                answers[index] = fn(index)
            except BaseException as error:  # noqa: BLE001 - handed to the main thread
                raised.append(error)
    threads = [threading.Thread(target=work, name=f"llm-smoke-burst-{n}", daemon=True)
               for n in range(min(count, most))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # a signal interrupts it (POSIX): Ctrl-C is KeyboardInterrupt here, at once
    if raised:
        raise raised[0]
    return answers  # type: ignore[return-value]  # every index was filled


def failure_text(error: ApiError, key_given: Optional[bool] = None, url_user: bool = False,
                 key_option: tuple[str, str] = KEY_OPTION) -> str:
    """`[kind] message` of a failed request; a timeout says which flag gives that deadline more time, a WAF's block
    that the key is not the cause, and a 401/403 (with `key_given` known: llm-smoke's, llm-bench's and llm-verify's
    first request) where the key comes from (`key_option`: the flag and variable), or that the URL's user[:password]@
    (`url_user`, sent as HTTP Basic auth) was refused."""
    flag = DEADLINE_FLAGS.get(error.deadline or "")
    text = f"[{error.kind}] {error}" + (f"; raise it with {flag} SECONDS (a cold start can take minutes)"
                                        if flag else "")
    if error.kind == "blocked":
        text += ("; not the API key: a web application firewall in front blocked it (through the global endpoint, "
                 "a managed rule of Front Door's WAF matched the request): FrontDoorWebApplicationFirewallLog names "
                 "the rule by the answer's tracking reference (docs/components/global-endpoint-and-fleet.md)")
    # a redirect that dropped the key, a 401 asking for another scheme: said in the error's own words already
    if error.kind == "unauthorized" and key_given is not None and not error.key_dropped and not error.other_scheme:
        text += "; " + key_hint(key_given, url_user, key_option)
    return text


def key_hint(key_given: bool, url_user: bool = False, key_option: tuple[str, str] = KEY_OPTION) -> str:
    """What a 401/403 of the gate (not a WAF's, not after a redirect that dropped the key) says of the key: the one
    given refused, the URL's user[:password]@ refused, or where a key comes from."""
    return (f"the key given ({key_option[0]} or ${key_option[1]}) was refused" if key_given else
            f"the URL's user and password (sent as HTTP Basic auth, not as a bearer key) were refused: the "
            f"platform's gate takes a key, from {key_option[0]} or ${key_option[1]}, with the URL without them"
            if url_user else
            f"no key was given: pass {key_option[0]} or set ${key_option[1]} (the platform's gate: the key "
            f"in the Key Vault secret its stack output apiKeySecret names, docs/operations.md)")


def run_checks(client: LlmClient, model: Optional[str], max_tokens: int, auth: bool, burst: int,
               shown: Callable[[Check], None] = lambda check: None, key_given: Optional[bool] = None,
               url_user: bool = False, key_option: tuple[str, str] = KEY_OPTION) -> list[Check]:
    """The checks in order; `shown` is handed each as soon as it is made (llm-smoke prints it then: a Ctrl-C, or a
    check that waits out its deadline, leaves the lines of those before it on the screen). `key_given`, `url_user`
    and `key_option` (llm-smoke's, llm-verify's) let a 401 on the model list, the first request when `--api` skipped
    the detection, say where a key comes from, as the detection's does."""
    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        shown(check)

    def attempt(name: str, fn: Callable[[], Check]) -> None:
        try:
            add(fn())
        except ApiError as error:
            add(Check(name, False, failure_text(error)))

    try:
        first, model = check_models(client, model)
    except ApiError as error:
        add(Check("models", False, failure_text(error, key_given, url_user, key_option)))
        return checks
    add(first)
    if model:
        attempt("completion", lambda: check_completion(client, model, max_tokens))
        attempt("stream", lambda: check_stream(client, model, max_tokens))
        if client.api == "ollama":
            attempt("generate", lambda: check_generate(client, model, max_tokens))
    if auth:
        attempt("auth", lambda: check_wrong_key_refused(client))
    if burst:
        attempt("rate-limit", lambda: check_rate_limit(client, burst))
    return checks


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default where there is a real one (not for None or off switches)."""

    def _get_help_string(self, action: argparse.Action) -> Optional[str]:
        if action.default in (None, False) or "default" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


def above_zero(unit: str, most: Optional[float] = None) -> Callable[[str], float]:
    """An argparse type: a finite number of `unit` above zero (and at most `most`, when given; worded as
    llm-bench's number_in)."""
    allowed = "above 0" + (f" and at most {most:g}" if most is not None else "")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {unit}") from None
        if not (0 < value <= (float("inf") if most is None else most)) or value == float("inf"):  # nan fails
            raise argparse.ArgumentTypeError(f"{text!r} must be a number of {unit} {allowed}")
        return value
    return parse


positive = above_zero("seconds", MAX_SECONDS)


def count(low: int, high: Optional[int] = None):
    """An argparse type: a whole number >= low (and <= high, when given)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} must be >= {low}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{text!r} must be <= {high}")
        return value
    return parse


def endpoint_url(text: str) -> str:
    """An argparse type: an endpoint's base URL (endpoint.url_problem is the rule)."""
    problem = url_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def named(what: str):
    """An argparse type: a name that is not empty or blank (a model, a stack output, a file...)."""
    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{text!r} must be {what}, not empty")
        return text
    return parse


def utf8(what: str, parse: Callable[[str], str] = lambda text: text):
    """An argparse type: text sent to the server or written to a result as given (a prompt, a model, a label), read
    by `parse` too. A byte that is not UTF-8 (a Latin-1 terminal, `$(cat file)` of another encoding) reaches Python
    as a lone surrogate (PEP 383), which the request's JSON carried as `\\udce9`: no character the user wrote."""
    def checked(text: str) -> str:
        bad = next((i for i, c in enumerate(text) if "\udc80" <= c <= "\udcff"), None)
        if bad is not None:
            shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            raise argparse.ArgumentTypeError(
                f"{shown[:80]!r} holds the byte 0x{ord(text[bad]) - 0xDC00:02X} (character {bad + 1}), which is "
                f"not UTF-8: give {what} as UTF-8 text (a file of another encoding: `iconv -t utf-8`)")
        return parse(text)
    return checked


def pattern(what: str, regex: str, allowed: str):
    """An argparse type: text matching `regex` whole, else an error naming the value and what is allowed."""
    compiled = re.compile(regex)

    def parse(text: str) -> str:
        if not compiled.fullmatch(text):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}: {allowed}")
        return text
    return parse


# Kubernetes' namespace rule, a DNS-1123 label (k8s.io/apimachinery IsDNS1123Label).
namespace = pattern("a Kubernetes namespace", r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?",
                    "1-63 lowercase letters, digits and '-', starting and ending with a letter or digit")
# Pulumi's stack name rule (tokens.ParseStackName), optionally qualified as org/stack or org/project/stack.
stack_name = pattern("a Pulumi stack name", r"([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]{1,100}",
                     "1-100 letters, digits, '-', '_' and '.' (optionally org/project/stack)")


def command(script: str, module: str) -> str:
    """What the user typed, for the usage line and the error prefix: `python -m endpoint_tools.smoke` when run as a
    module (argparse's default would say `smoke.py` or `__main__.py`), else the console script (`llm-smoke`)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return f"python -m {module}" if spec is not None and spec.name == module else script


def new_parser(script: str, module: str, doc: str, epilog: Optional[str] = None) -> argparse.ArgumentParser:
    """A tool's parser: named as the user ran it, described by the first paragraph of its module's docstring (its
    first line alone cut verify's sentence at "the Ollama stack (dev,")."""
    return argparse.ArgumentParser(prog=command(script, module), description=" ".join(doc.split("\n\n")[0].split()),
                                   epilog=epilog, formatter_class=HelpFormatter)


def endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """The options smoke and bench share: where, which API, which key, and the two deadlines."""
    parser.add_argument("url", nargs="?", type=endpoint_url, metavar="URL",
                        help="endpoint base URL (http:// or https://), e.g. http://localhost:11434")
    parser.add_argument("--stack-output", metavar="NAME", type=named("a stack output name"),
                        help="read the URL from this Pulumi stack output instead (this repository's stacks: "
                             "modelApiUrl, the published API's base URL)")
    parser.add_argument("--stack", type=stack_name, help="Pulumi stack for --stack-output")
    parser.add_argument("--api", choices=("auto",) + APIS, default="auto",
                        help="API flavour; auto tries the OpenAI API, then Ollama's native one")
    parser.add_argument("--model", type=utf8("a model name", named("a model name")),
                        help="model to use (default: the first one the endpoint lists)")
    parser.add_argument("--api-key", default=None,
                        help=f"bearer key (default: ${KEY_ENV}; never printed); whitespace around it is dropped "
                             f"(a key file's trailing newline or CR), and a key with whitespace, control "
                             f"characters or non-ASCII inside is refused")
    parser.add_argument("--timeout", type=positive, default=120.0, metavar="SECONDS",
                        help="total deadline of each request, the API detection's too: its whole answer, streamed "
                             "or not, must arrive within this time (at most a day; a replica scaled to zero, "
                             "woken by the first request, takes minutes)")
    parser.add_argument("--ttft-timeout", type=positive, default=None, metavar="SECONDS",
                        help="deadline for the response headers and the first token (default: the total deadline)")


def clean_api_key(key: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    """The key as sent, whitespace around it dropped (what a user means by a key file ending in a newline or CRLF),
    None when nothing is left; and why it cannot be sent (None when it can), never quoting it."""
    key = (key or "").strip() or None
    return key, api_key_problem(key) if key else None


def api_key_given(parser: argparse.ArgumentParser, args: argparse.Namespace, dest: str = "api_key",
                  env: str = KEY_ENV) -> None:
    """args.<dest> from --<dest>, else $<env>, cleaned; a key that cannot be sent is bad usage (exit 2), naming
    where it came from, never its value."""
    given = getattr(args, dest)
    source = f"argument --{dest.replace('_', '-')}" if given is not None else f"${env}"
    key, problem = clean_api_key(given if given is not None else os.environ.get(env))
    if problem:
        parser.error(f"{source}: the API key {problem} (the key itself is not shown)")
    if given is not None and key is None:  # `--api-key "$(cat key.txt)"` of an empty file, or of a variable not set
        parser.error(f"{source} is empty{' or blank' if given else ''} (an empty key file, or a variable that is "
                     f"not set?): give the key, or leave the option out for an endpoint without a key (${env} is "
                     f"read then)")
    setattr(args, dest, key)


def endpoint_given(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exactly one of URL and --stack-output, and a key that can be sent, else bad usage (exit 2)."""
    if not args.url and not args.stack_output:
        parser.error("give an endpoint URL or --stack-output NAME")
    if args.url and args.stack_output:
        parser.error(f"give the endpoint URL {shown_url(args.url)!r} or --stack-output {args.stack_output}, "
                     f"not both")
    if args.stack and not args.stack_output:
        parser.error(f"--stack {args.stack} names where --stack-output is read: give --stack-output NAME too")
    api_key_given(parser, args)
    if args.url and args.api_key and "@" in urlsplit_netloc(args.url):
        # requests turns a URL's user[:password]@ into HTTP Basic auth, which replaces the key's Bearer header
        parser.error(f"the URL {shown_url(args.url)!r} carries a user name, which is sent as HTTP Basic auth in "
                     f"place of the API key's bearer token (one Authorization header): give the key or the URL's "
                     f"credentials, not both")


def url_user(url: Optional[str]) -> bool:
    """Whether `url` carries a user[:password]@, which requests sends as HTTP Basic auth."""
    return bool(url) and "@" in urlsplit_netloc(url or "")


def urlsplit_netloc(url: str) -> str:
    """The authority of `url` ('' when it does not parse; the URL check says why later)."""
    try:
        return urlsplit(url).netloc
    except ValueError:
        return ""


def connect(args: argparse.Namespace) -> tuple[str, str]:
    """Resolve the URL and the API; EndpointError or ApiError when that fails. A URL ending in /v1 (an OpenAI
    client's base URL) loses the /v1, said on stderr: the tools add it themselves. The detection's model listing has
    the same deadlines as every request: it was capped at 30 s, but it is the first request, the one KEDA's
    interceptor holds until a replica scaled to zero is up (minutes: docs/operations.md's `--timeout 900`), and a
    dead endpoint fails it at once (refused, dns, tls); --ttft-timeout still bounds a hung one sooner."""
    url = resolve(args.url, args.stack_output, args.stack)
    base = without_v1(url)
    if base:
        print(f"note: {shown_url(url)} ends in /v1 (an OpenAI client's base URL); the tools add /v1 themselves: "
              f"using {shown_url(base)}", file=sys.stderr)
        url = base
    api = args.api if args.api != "auto" else detect_api(url, args.api_key, Deadlines(args.timeout, args.ttft_timeout))
    return url, api


def main(argv: Optional[list[str]] = None) -> int:
    parser = new_parser("llm-smoke", "endpoint_tools.smoke", __doc__, "Failure kinds: " + ", ".join(KINDS))
    endpoint_arguments(parser)
    parser.add_argument("--expect-auth", action="store_true",
                        help="check that a wrong key is refused (on by default when a key is given)")
    parser.add_argument("--rate-limit-burst", type=count(0, 10_000), default=0, metavar="N",
                        help="send N concurrent requests and expect at least one 429")
    parser.add_argument("--max-tokens", type=count(1, MAX_TOKENS), default=32, help="tokens asked for in each answer")
    args = parser.parse_args(argv)  # bad usage exits 2 with argparse's message
    endpoint_given(parser, args)
    try:
        url, api = connect(args)
    except (EndpointError, ApiError) as error:
        reason = failure_text(error, bool(args.api_key), url_user(args.url)) if isinstance(error, ApiError) \
            else error
        print(f"FAIL  reach       {reason}")
        return 1
    client = LlmClient(url, api, args.api_key, Deadlines(args.timeout, args.ttft_timeout), requests.Session())
    print(f"smoke test of {shown_url(url)} ({api} API)")
    checks = run_checks(client, args.model, args.max_tokens, bool(args.api_key) or args.expect_auth,
                        args.rate_limit_burst, shown=lambda check: print_checks([check], 11),
                        key_given=bool(args.api_key), url_user=url_user(args.url))
    return result(checks)


def print_checks(checks: list[Check], width: int) -> None:
    for check in checks:
        print(f"{'PASS' if check.ok else 'FAIL'}  {check.name:<{width}} {check.detail}", flush=True)


def report(checks: list[Check], width: int) -> int:
    """One PASS/FAIL line a check, a result line; the exit code (1 when any failed)."""
    print_checks(checks, width)
    return result(checks)


def result(checks: list[Check]) -> int:
    """The result line of checks already printed; the exit code (1 when any failed)."""
    failed = sum(not c.ok for c in checks)
    print(f"result: {failed} of {len(checks)} checks failed" if failed else f"result: all {len(checks)} checks passed")
    return 1 if failed else 0


def silence_stdout() -> None:
    """After a BrokenPipeError on stdout (`llm-smoke URL | head -2`): what is still printed goes nowhere, and Python
    does not print the error again flushing stdout at exit (the recipe of Python's signal module documentation,
    "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def run_cli(main: Callable[[], int]) -> None:
    """Exit with main's code; Ctrl-C is one line and 130, a closed stdout 141 without a word, never a traceback."""
    for stream in (sys.stdout, sys.stderr):  # an argument's byte that is not UTF-8 (a lone surrogate) or a model
        reconfigure = getattr(stream, "reconfigure", None)  # name the terminal's encoding lacks: shown escaped
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        code = main()
        sys.stdout.flush()  # a closed pipe fails here, where it is caught, not at exit
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:  # quiet, with a SIGPIPE-ended program's code, 128 + 13
        silence_stdout()
        code = 141
    sys.exit(code)


def cli() -> None:
    """The `llm-smoke` command (console script): `python -m endpoint_tools.smoke`."""
    run_cli(main)


if __name__ == "__main__":
    cli()
