"""Write llmplatform's data/open_webui_persistent_config.json from an Open-WebUI wheel:
`python -m components.maintenance.open_webui_persistent_config open_webui-0.11.0-py3-none-any.whl`
(the wheel from `pip download open-webui==0.11.0 --no-deps`).

Open-WebUI 0.11.0 keeps the settings of `open_webui/config.py`'s DEFAULT_CONFIG in its database (models/config.py
Config.seed_defaults at the first start, Config.get afterwards): each key's default is a module variable read from
the environment. This reads each variable's assignment and keeps the entries whose conversion is one of four shapes
it recognises exactly, with a literal default and no other environment variable as fallback:
`os.getenv(ENV, d)` (str), `os.getenv(ENV, d).lower() == 'true'` (bool), `int(os.getenv(ENV, d))` (int),
`[x.strip() for x in os.getenv(ENV, d).split(',') if x.strip()]` (csv). A variable assigned more than once, any
other shape (JSON parsing, fallbacks to another variable, a float, a lower-cased string) is left out, as are the
`oauth.*` keys (kept out of the database unless ENABLE_OAUTH_PERSISTENT_CONFIG) and names that look like secrets
(extra_env refuses them; secret_env values never reach the migration Job's command). `ui.enable_signup` is the one
hand-read exception: `False if not WEBUI_AUTH else <bool>` (WEBUI_AUTH: env.py, bool, default 'True').
"""
import ast
import hashlib
import json
import sys
import zipfile
from pathlib import Path
from typing import Any, Optional

from llmplatform.input_rules.shared import looks_secret

OUT = Path(__file__).resolve().parent.parent / "llmplatform" / "data" / "open_webui_persistent_config.json"


def _getenv(node: ast.AST) -> Optional[tuple[str, Any]]:
    """(ENV, default) of `os.getenv(ENV, d)` / `os.environ.get(ENV, d)` with literal arguments."""
    if not (isinstance(node, ast.Call) and len(node.args) == 2 and not node.keywords):
        return None
    name = ast.unparse(node.func)
    if name not in ("os.getenv", "os.environ.get"):
        return None
    env, default = node.args
    if isinstance(env, ast.Constant) and isinstance(env.value, str) and isinstance(default, ast.Constant):
        return env.value, default.value
    return None


def conversion(node: ast.AST) -> Optional[tuple[str, str, Any]]:
    """(kind, ENV, default) of an assignment's value in one of the recognised shapes."""
    if (got := _getenv(node)) is not None:
        return ("str", *got)
    if (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)
            and ast.unparse(node.comparators[0]) == "'true'" and isinstance(node.left, ast.Call)
            and not node.left.args and isinstance(node.left.func, ast.Attribute) and node.left.func.attr == "lower"
            and (got := _getenv(node.left.func.value)) is not None and isinstance(got[1], str)):
        return ("bool", *got)
    if (isinstance(node, ast.Call) and ast.unparse(node.func) == "int" and len(node.args) == 1
            and (got := _getenv(node.args[0])) is not None and isinstance(got[1], str)):
        return ("int", *got)
    if isinstance(node, ast.ListComp) and len(node.generators) == 1:
        gen = node.generators[0]
        var = ast.unparse(gen.target)
        source = gen.iter
        if (ast.unparse(node.elt) == f"{var}.strip()" and [ast.unparse(c) for c in gen.ifs] == [f"{var}.strip()"]
                and isinstance(source, ast.Call) and isinstance(source.func, ast.Attribute)
                and source.func.attr == "split" and [ast.unparse(a) for a in source.args] == ["','"]
                and (got := _getenv(source.func.value)) is not None and isinstance(got[1], str)):
            return ("csv", *got)
    return None


def table(source: str) -> dict[str, dict[str, Any]]:
    tree = ast.parse(source)
    assigned: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        assigned.setdefault(name.id, []).append(node)
    default_config = next(n.value for n in tree.body if isinstance(n, ast.Assign)
                          and ast.unparse(n.targets[0]) == "DEFAULT_CONFIG")
    assert isinstance(default_config, ast.Dict), "DEFAULT_CONFIG is no dict literal"
    entries: dict[str, dict[str, Any]] = {}
    for key, value in zip(default_config.keys, default_config.values):
        assert isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(value, ast.Name), \
            ast.unparse(value)
        path = key.value
        nodes = assigned.get(value.id, [])
        if path.startswith("oauth.") or len(nodes) != 1 or not isinstance(nodes[0], ast.Assign):
            continue
        node = nodes[0].value
        if path == "ui.enable_signup" and isinstance(node, ast.IfExp) and ast.unparse(node.test) == "not WEBUI_AUTH" \
                and ast.unparse(node.body) == "False" and (got := conversion(node.orelse)) and got[0] == "bool":
            found: Optional[tuple[str, str, Any]] = ("bool_if_auth", got[1], got[2])
        else:
            found = conversion(node)
        if found is None or looks_secret(found[1]):
            continue
        kind, env, default = found
        entries[env] = {"path": path, "kind": kind, "default": default, "line": nodes[0].lineno}
    return dict(sorted(entries.items()))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    wheel = Path(argv[0])
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read("open_webui/config.py").decode()
    variables = table(source)
    data = {"source": {"wheel": wheel.name, "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
                       "file": "open_webui/config.py"},
            "variables": variables}
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"{len(variables)} variables -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
