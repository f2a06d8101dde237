"""Stack files and `--set` read the way the Pulumi CLI reads them, so the offline plan sees what `pulumi up` sees.

- A stack file is one YAML document read as Pulumi's Go YAML library reads it (config/stack_yaml.py: YAML 1.2's
  core schema, no custom tags, no key twice in one mapping, go-yaml's merges and bounds).
- A mapping key inside a value that is not a string is read as the Pulumi CLI hands it to the program (`128: 1` as
  '128'); a null one (`~: 1`) is refused, naming where, and so are two keys of one mapping named alike
  (config/stack_yaml.py `pulumi_key_text`).
- Every key under `config:` carries a namespace: this project's (`aks-llm-platform:gpu`) or a provider's
  (`azure-native:location`, read by the provider, not by this program). A key without one, or with a misspelt
  namespace, is an error, not a silently dropped setting.
- `--set KEY=VALUE` follows `pulumi config set --path`: dots walk into objects, `[N]` indexes lists (N may be the
  list's length, to append), and only `true`, `false` and plain integers are typed; every other value is a string.
"""
import copy
import importlib.util
import re
from pathlib import Path
from typing import Any

from config.reader import ConfigError  # a stack file or --set the Pulumi CLI would refuse, every problem at once
from config.stack_yaml import MAX_DEPTH, MAX_VALUES, parse_yaml  # noqa: F401 (read by tests and tools from here)
from config.stack_yaml import esc_environments  # noqa: F401 (offline.stackfile.esc_environments, as before)
from config.stack_yaml import null_key_problems
from offline import property_path

PROVIDER_NAMESPACES = ("azure-native", "azure", "kubernetes", "random", "pulumi")
# provider keys that hold a credential (pulumi_azure_native/config/vars.py: the service principal's client secret and
# certificate password, an OIDC token): written plain in a stack file, it is committed with it (a stranger's staging
# file, 2026-12-06)
PROVIDER_CREDENTIALS = ("azure-native:clientSecret", "azure-native:clientCertificatePassword",
                        "azure-native:oidcToken", "azure-native:oidcRequestToken")
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
_INT = re.compile(r"-?(0|[1-9][0-9]*)")  # ASCII digits only; no leading zeros, no sign tricks like --3
# a path's `["<name>"]`, `\"` inside it a quote (pulumi's properties_path.go: no other escape)
_QUOTED_NAME = re.compile(r'\["(?:\\"|\\(?!")|[^"\\])*"\]')


def project_config(document: Any, project: str, where: str) -> dict[str, Any]:
    """This project's keys from a stack file's document, without their namespace; every problem at once."""
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError([f"{where}: must be a mapping with a `config:` section, got {type(document).__name__}"])
    problems = [f"{where}: unknown top-level key {key!r}; a stack file has {', '.join(STACK_FILE_KEYS)}"
                for key in document if key not in STACK_FILE_KEYS]
    config = document.get("config")
    if config is not None and not isinstance(config, dict):
        problems.append(f"{where}: `config:` must be a mapping of namespace:key entries, got "
                        f"{type(config).__name__}")
        config = {}
    values: dict[str, Any] = {}
    for key, value in (config or {}).items():
        namespace, sep, name = str(key).partition(":")
        if namespace in (project, *PROVIDER_NAMESPACES) and not name:  # `aks-llm-platform: x`: a namespace alone
            problems.append(f"{where}: config key {key!r} names no setting after its namespace; write it as "
                            f"'{namespace}:<key>'")
        elif not sep or not namespace or not name:
            problems.append(f"{where}: config key {key!r} has no namespace; write it as '{project}:{name or key}'")
        elif namespace == project:
            secrets = _secure_paths(value, name)
            problems += [f"{where}: {path} is a secret; this program has no secret settings (secrets are generated "
                         f"and kept in Key Vault{_EXTRA_ENV_HINT if path.startswith('webui.extraEnv.') else ''})"
                         for path in secrets]
            # a key 128, true or ~ is read as the program reads it: '128', 'true', '<nil>' (config/stack_yaml.py)
            problems += null_key_problems({name: value}, where)
            if not secrets:
                values[name] = value
        elif namespace not in PROVIDER_NAMESPACES:
            problems.append(f"{where}: config key {key!r} has namespace {namespace!r}, neither this project's "
                            f"({project!r}) nor a provider's ({', '.join(PROVIDER_NAMESPACES)})")
    if problems:
        raise ConfigError(problems)
    return values


_EXTRA_ENV_HINT = "; an Open-WebUI setting whose value is secret goes into a Key Vault secret named in webui.secretEnv"


def _secure_paths(value: Any, here: str) -> list[str]:
    """Where a value holds `{secure: ...}`, Pulumi's encrypted value (`pulumi config set --secret`, `--path` puts it
    inside a section: `webui.adminEmail: {secure: v1:...}`), as config paths."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return [here]
        return [p for k, v in value.items() for p in _secure_paths(v, f"{here}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secure_paths(v, f"{here}[{i}]")]
    return []


def read_stack_file(path: Path, project: str) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError([f"{path.name}: cannot be read ({error.strerror or error})"]) from None
    return project_config(parse_yaml(data, path.name), project, path.name)


def esc_note(path: Path) -> str | None:
    """What the offline plan cannot see of a stack file that imports ESC environments, or None."""
    names = esc_environments(path)
    if not names:
        return None
    return (f"{path.name} imports the Pulumi ESC environment(s) {', '.join(names)}: the offline plan cannot open them "
            f"(no Pulumi Cloud here), so the config their pulumiConfig sets is missing from this plan, which reads "
            f"{path.name}'s own config alone; to plan with it, write it into a copy of the file and pass that with "
            f"--stack-file")


def provider_config(path: Path) -> dict[str, Any]:
    """The provider namespaces' keys of a stack file (`azure-native:location`: value), as written; {} for a file that
    does not read (read_stack_file tells why)."""
    try:
        document = parse_yaml(path.read_bytes(), path.name)
    except (OSError, ConfigError):
        return {}
    config = document.get("config") if isinstance(document, dict) else None
    return {str(k): v for k, v in (config or {}).items() if str(k).partition(":")[0] in PROVIDER_NAMESPACES
            and str(k).partition(":")[0] != "pulumi"} if isinstance(config, dict) else {}


def _sdk_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0], *parts)
    return path if path.is_file() else None


def sdk_config_keys() -> dict[str, tuple[str, frozenset[str]]]:
    """namespace -> (the installed SDK's distribution and version, its provider's config keys), read from the SDKs:
    pulumi_azure_native/config/vars.py (`__config__.get*('key')`, the provider's config variables); pulumi-random
    and pulumi-kubernetes have no config module, so their provider's inputs (provider.py `__props__`, camelCased),
    which default-provider config sets."""
    from importlib.metadata import PackageNotFoundError, version
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for namespace, package, parts, pattern in (
            ("azure-native", "pulumi_azure_native", ("config", "vars.py"), r"__config__\.get\w*\('(\w+)'\)"),
            ("kubernetes", "pulumi_kubernetes", ("provider.py",), r'__props__\.__dict__\["(\w+)"\]'),
            ("random", "pulumi_random", ("provider.py",), r'__props__\.__dict__\["(\w+)"\]')):
        path = _sdk_file(package, *parts)
        if path is None:
            continue
        try:
            where = f"{package.replace('_', '-')} {version(package.replace('_', '-'))}"
        except PackageNotFoundError:
            where = package
        keys = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k) for k in re.findall(pattern, path.read_text())}
        found[namespace] = (where, frozenset(keys))
    return found


def provider_advisories(keys: dict[str, Any], file_name: str, project: str, location: str,
                        default_providers: set[str]) -> list[str]:
    """What a stack file's provider config does not do here (advice, not errors: provider config is legitimate):
    `azure-native:location`, which the program overrides on every resource; a key the installed provider does not
    have; a namespace whose provider this program never uses with stack config (`default_providers`: the packages
    of the resources planned on a default provider)."""
    from difflib import get_close_matches
    known = sdk_config_keys()
    notes = []
    for key, value in sorted(keys.items()):
        namespace, _, name = key.partition(":")
        if key == "azure-native:location":
            notes.append(f"{file_name}: {key} ({value!r}) changes nothing: the program sets each resource's location "
                         f"from {project}:location ({location!r} here); set that instead")
            continue
        # a credential's key, or a misspelling of one (`clientSecert`: no provider reads it, but the file holds the
        # secret all the same)
        misspelt = namespace in known and name not in known[namespace][1]  # clientId is no misspelt clientSecret
        meant = key if key in PROVIDER_CREDENTIALS else next(
            (f"{namespace}:{m}" for m in get_close_matches(name, [c.partition(":")[2] for c in PROVIDER_CREDENTIALS
                                                                   if c.startswith(f"{namespace}:")], 1)), None) \
            if misspelt else None
        if meant and isinstance(value, str) and value:
            notes.append(f"{file_name}: {key} holds "
                         + ("a credential" if meant == key else f"what looks like {meant}'s credential") +
                         f" in plain text, and the stack file is committed with it: remove the line and store it "
                         f"encrypted (`pulumi config set --secret {meant} ...`, a `secure:` value), or leave it out "
                         "and log in another way (`az login`, OIDC, the provider's ARM_* environment variables: "
                         "docs/operations.md, \"A stack's first deploy\"); the value is not shown")
        if namespace not in default_providers:
            notes.append(f"{file_name}: {key} is read by no provider of this program: "
                         + ("its Kubernetes resources all use their own provider, built from the cluster's "
                            "kubeconfig (explicit providers read no stack config)" if namespace == "kubernetes" else
                            f"it plans no {namespace} resource on the default provider"))
            continue
        if namespace in known and name not in known[namespace][1]:
            sdk, names = known[namespace]
            near = get_close_matches(name, sorted(names), 1)
            if near == ["location"] and namespace == "azure-native":
                hint = f"; for the location, set {project}:location (the program's; {namespace}:location changes nothing)"
            elif near:
                hint = f"; did you mean {namespace}:{near[0]}?"
            else:
                hint = f" (its keys: {', '.join(sorted(names))})" if names else " (its provider takes no config)"
            notes.append(f"{file_name}: {key} is no config key of {sdk}{hint}")
    return notes


def shown(text: str, limit: int = 100) -> str:
    """A key as a refusal echoes it: quoted, and cut after `limit` characters (a pasted value may run to pages)."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text):,} characters)"


def typed_value(text: str) -> Any:
    """`pulumi config set --path` typing: true/false and plain integers; everything else stays a string."""
    if text in ("true", "false"):
        return text == "true"
    if _INT.fullmatch(text) and len(text.lstrip("-")) <= 18:
        return int(text)
    return text


def parse_path(path: str, typed: str | None = None) -> list[Any]:
    """`gpu.maxCount`, `modelStore.models[1]`, `webui.extraEnv["A.B"]` -> ['gpu', 'maxCount'],
    ['modelStore', 'models', 1], ['webui', 'extraEnv', 'A.B']: `pulumi config set --path`'s grammar (pulumi/pulumi
    1b5949891b sdk/go/common/resource/config/map.go `parseKeyPath`, properties_path.go `ParsePropertyPathStrict`:
    names, `[<index>]`, `["<quoted name>"]`), less what no key of ours is: an empty name (`gpu..maxCount`, which the
    CLI reads as gpu.maxCount), `*`, a negative index, a path starting with an index. `typed`: the path as the user
    wrote it, named in a refusal (`path` without its namespace, `project_path`)."""
    parts = property_path.parse_path(path)
    typed = path if typed is None else typed
    names = [p for p in parts or [] if isinstance(p, str)]
    bare = _QUOTED_NAME.sub("[]", path)  # the quoted names left out
    if (parts is None or not parts or not isinstance(parts[0], str) or ".." in bare or ".[" in bare
            or bare.endswith(".") or "" in names or "*" in names or any(isinstance(p, int) and p < 0 for p in parts)):
        raise ConfigError([f"--set {shown(typed)}: not a config path (write it like gpu.maxCount, "
                           f"modelStore.models[0] or webui.extraEnv[\"A.B\"])"])
    if len(parts) > MAX_DEPTH:  # copied and checked level by level: a RecursionError traceback, not a refusal
        raise ConfigError([f"--set {shown(typed)}: {len(parts)} levels; a config value nests at most {MAX_DEPTH} "
                           f"levels (as in a stack file)"])
    return parts


def split_set(item: str) -> tuple[str, str, str]:
    """`KEY=VALUE` split at the first '=' outside a quoted name (`webui.extraEnv["A=B"]=x`: `pulumi config set
    --path` takes the key and the value as two arguments, so a quoted name may hold one); an unclosed quote ends
    nowhere, and the split falls back to the first '=' (the path is then refused as not a config path)."""
    masked = _QUOTED_NAME.sub(lambda quoted: "_" * len(quoted.group()), item)  # same length: same indices
    at = masked.find("=")
    return (item[:at], "=", item[at + 1:]) if at >= 0 else (item, "", "")


def _path_text(parts: list[Any]) -> str:
    """A parsed --set path written back as the user writes it: `a.b[0].c`."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" if re.fullmatch(r'[^.\["]+', p)
                   else '["' + p.replace('"', '\\"') + '"]' for p in parts).lstrip(".")


def project_path(path: str, project: str | None) -> str:
    """`path` without this project's namespace: `pulumi config set --path` reads a namespace in the path's first
    segment (up to its first '.' or '['; `aks-llm-platform:gpu.maxCount`, or the old `<ns>:config:<name>`) and puts a
    path without one in the project's (pulumi/pulumi 1b5949891b pkg/cmd/pulumi/config/io.go `parseConfigKey`,
    config/key.go `ParseKey`). A provider's namespace is refused: --set changes the program's config, and a
    provider's key is read from the stack file. Without `project` (not known), every namespace is refused.
    A namespace before a quoted first name (`aks-llm-platform:["gpu"].maxCount`) is a key with an empty name, the
    rest of the path after it (map.go `parseKeyPath` reads `["gpu"].maxCount`), as the CLI takes it."""
    first = re.split(r"[.\[]", path, maxsplit=1)[0]
    if ":" not in first:
        return path
    pieces = first.split(":")
    if len(pieces) == 3 and pieces[1] == "config":  # the old `<namespace>:config:<name>` form
        pieces = [pieces[0], pieces[2]]
    namespace, name = pieces if len(pieces) == 2 else ("", "")
    ours = project or "<project>"
    if not namespace or not (name or path[len(first):].startswith("[")):
        raise ConfigError([f"--set {shown(path)}: {shown(first)} is not a config key; write it as <key> or "
                           f"{ours}:<key> (gpu.maxCount or {ours}:gpu.maxCount)"])
    if namespace != project:
        where = ("a provider's, read from the stack file: set it there" if namespace in PROVIDER_NAMESPACES
                 else f"not this project's ({ours})")
        raise ConfigError([f"--set {shown(path)}: the namespace {shown(namespace)} is {where}; --set changes this "
                           f"project's config, written as <key> or {ours}:<key>"])
    return name + path[len(first):]


def apply_set(values: dict[str, Any], item: str, project: str | None = None) -> None:
    """Apply one `--set KEY=VALUE` to the config values, as `pulumi config set --path KEY VALUE` would (`project`:
    the project's name, which KEY may carry as its namespace)."""
    path, sep, text = split_set(item)
    if not sep:
        raise ConfigError([f"--set {shown(item)} has no '='; write KEY=VALUE (an empty value is KEY=)"])
    parts = parse_path(project_path(path, project), path)
    node: Any = values
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = _path_text(parts[:i]) or "the config"
        child: Any = typed_value(text) if last else ([] if isinstance(parts[i + 1], int) else {})
        if isinstance(part, int):
            if not isinstance(node, list):
                raise ConfigError([f"--set {path}: {here} is not a list, so [{part}] cannot index it"])
            if part > len(node):
                raise ConfigError([f"--set {path}: index {part} is past the end of {here} ({len(node)} items)"])
            if part == len(node):
                node.append(child)
            elif last:
                node[part] = child
            node = node[part]
        else:
            if not isinstance(node, dict):
                raise ConfigError([f"--set {path}: {here} is a value ({node!r}), not an object"])
            if last:
                node[part] = child
            else:
                node = node.setdefault(part, child)
    return None


def apply_sets(values: dict[str, Any], items: list[str], project: str | None = None) -> dict[str, Any]:
    """Every `--set` applied; a ConfigError naming each refused one, carrying (`.values`) the config with the others
    applied, so the caller can check the rest too."""
    problems = []
    for item in items:
        trial = copy.deepcopy(values)  # a refused path leaves nothing half-made behind
        try:
            apply_set(trial, item, project)
        except ConfigError as error:
            problems += error.problems
        else:
            values = trial
    if problems:
        refused = ConfigError(problems)
        refused.values = values  # type: ignore[attr-defined]
        raise refused
    return values
