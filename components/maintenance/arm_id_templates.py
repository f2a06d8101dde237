"""Write llmplatform's data/arm_id_templates.json, the ARM id template of each azure-native resource type the testing
kit answers for: `python -m components.maintenance.arm_id_templates tokenPaths.json --commit <sha> [--add TOKEN ...]`
(tokenPaths.json: pulumi/pulumi-azure-native's reports/tokenPaths.json at that commit, 5 MB, kept out of the
repository).

pulumi-azure-native's generator records each resource token's PUT path (provider/pkg/gen/schema.go
`GenerationResult.TokenPaths`, written to reports/tokenPaths.json); the provider fills its braces from the resource's
inputs of those names and the provider's subscriptionId, and the filled path is the resource's id
(provider/pkg/provider/crud/crud.go `PrepareAzureRESTIdAndQuery`). This keeps the unversioned tokens (the SDK's
classes) the file already lists, plus those given with --add, or with --all every resource class of the installed
SDK (about 2,300 types, some 450 KB: the reason it is not the default). Each kept template is checked against the
installed pulumi-azure-native SDK: the token is one of its resource classes and every path parameter but
subscriptionId is one of the class's inputs. All or nothing: the file is rewritten only when every token is found
and passes. Exit codes: 0 written, 1 a token missing or refused (each named), 2 bad usage.
"""
import argparse
import importlib.metadata
import json
import re
import sys
from pathlib import Path
from typing import Any, Optional

from llmplatform.testing.stand_ins import arm_id_template_problems

OUT = Path(__file__).resolve().parent.parent / "llmplatform" / "data" / "arm_id_templates.json"
REPOSITORY = "pulumi/pulumi-azure-native"
SOURCE_FILE = "reports/tokenPaths.json"
_COMMIT = re.compile(r"[0-9a-f]{40}")


def problems(templates: dict[str, str]) -> list[str]:
    """What the installed SDK contradicts (llmplatform.testing.stand_ins `arm_id_template_problems`): a token with no
    resource class, a path parameter that is none of the class's inputs."""
    return arm_id_template_problems(templates)


def sdk_version() -> str:
    return importlib.metadata.version("pulumi-azure-native")


def sdk_tokens() -> list[str]:
    """Every resource token of the installed SDK (its classes' `pulumi.type_token`), read off its files."""
    pattern = re.compile(r'@pulumi\.type_token\("(azure-native:[a-z0-9]+:\w+)"\)\nclass \w+\(pulumi\.CustomResource\)')
    files = importlib.metadata.files("pulumi-azure-native") or []
    return sorted({m for f in files if f.suffix == ".py" for m in pattern.findall(f.read_text())})


def current_tokens(path: Path = OUT) -> list[str]:
    """The tokens `path` lists (a file this script wrote), none when it does not exist; ValueError when it is no such
    file."""
    if not path.exists():
        return []
    try:
        templates = json.loads(path.read_text()).get("templates")
    except (OSError, ValueError, AttributeError) as error:
        raise ValueError(f"{path}: not a templates file this script wrote ({error})") from None
    if not isinstance(templates, dict):
        raise ValueError(f"{path}: not a templates file this script wrote (no \"templates\" object)")
    return sorted(templates)


def document(templates: dict[str, str], commit: str) -> dict[str, Any]:
    return {
        "source": f"{REPOSITORY} {SOURCE_FILE} at {commit}: the generator's token -> PUT path map "
                  "(provider/pkg/gen/schema.go GenerationResult.TokenPaths); the provider fills each {parameter} "
                  "from the input of its name, subscriptionId from its config, and the filled path is the id "
                  "(provider/pkg/provider/crud/crud.go PrepareAzureRESTIdAndQuery). Written by "
                  "components/maintenance/arm_id_templates.py.",
        "sdk": f"pulumi-azure-native {sdk_version()}: each token is one of its resource classes, each path "
               "parameter but subscriptionId one of that class's inputs",
        "templates": dict(sorted(templates.items())),
    }


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("token_paths", type=Path, help=f"{SOURCE_FILE} of {REPOSITORY}")
    parser.add_argument("--commit", required=True, help="the commit the file was read at (40 hex digits)")
    parser.add_argument("--add", nargs="*", default=[], metavar="TOKEN", help="more tokens to keep")
    parser.add_argument("--all", action="store_true", help="every resource token of the installed SDK")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="the file to write (default: the package's); the tokens kept are those it lists, or "
                             "the package's file's when it does not exist yet")
    args = parser.parse_args(argv)
    if not _COMMIT.fullmatch(args.commit):
        parser.error(f"--commit {args.commit!r} is not a 40-digit commit")
    try:
        token_paths = json.loads(args.token_paths.read_text())
    except (OSError, ValueError) as error:
        print(f"{args.token_paths}: cannot be read as JSON ({error})", file=sys.stderr)
        return 2
    if not isinstance(token_paths, dict):
        kind = "a JSON array" if isinstance(token_paths, list) else f"JSON {json.dumps(token_paths)[:60]}"
        print(f"{args.token_paths}: not a token -> path map ({SOURCE_FILE} of {REPOSITORY} is one JSON object); "
              f"it holds {kind}", file=sys.stderr)
        return 2
    try:  # a new --out starts from the package's tokens, not from none (it kept only the --add ones)
        kept = [] if args.all else current_tokens(args.out if args.out.exists() else OUT)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    wanted = sdk_tokens() if args.all else sorted(set(kept) | set(args.add))
    missing = [t for t in wanted if not isinstance(token_paths.get(t), str)]
    templates = {t: token_paths[t] for t in wanted if t not in missing}
    refused = [f"{t}: not in {args.token_paths}" for t in missing] + problems(templates)
    if refused:
        print("\n".join(refused), file=sys.stderr)
        return 1
    try:
        args.out.write_text(json.dumps(document(templates, args.commit), indent=2) + "\n")
    except OSError as error:
        print(f"{args.out}: cannot be written ({error})", file=sys.stderr)
        return 2
    print(f"{args.out}: {len(templates)} templates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
