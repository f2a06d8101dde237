"""components/schema.json is a package schema Pulumi accepts. Every other language meets the package through it:
`pulumi package add`/`gen-sdk` bind it (pulumi/pulumi `pkg/codegen/schema/bind.go` `BindSpec`) before generating an
SDK, so a schema the binder refuses is an SDK nobody can generate, and its warnings are printed to every user.

Two layers, both read from Pulumi's source at tag v3.259.0 (commit 0ac56e87; the pinned SDK, 3.272.0, is in no
stored snapshot, and these files are unchanged up to its head of 2026-08-21):
- the package metaschema the CLI embeds (`pkg/codegen/schema/pulumi.json`, vendored verbatim as
  tests/upstream/pulumi/pulumi.json), validated as `validateSpec` does. The CLI validates the file after decoding it
  into its `PackageSpec` and encoding it again, which drops keys the struct lacks; the raw file is validated here,
  which is as strict or stricter. Its version patterns use ECMAScript named groups `(?<name>...)`, which Go's
  regexp (santhosh-tekuri/jsonschema v5, pkg/go.mod) accepts and Python's `re` spells `(?P<name>...)`: `_go_pattern`
  rewrites that one spelling and matches as RE2 does (ASCII `\\d`);
- the binder's own checks that JSON Schema cannot express (RULES below, each naming the function it follows), errors
  and warnings alike: each language host binds the schema in GeneratePackage and returns the warnings with the
  errors (e.g. `sdk/nodejs/cmd/pulumi-language-nodejs/main.go`), which `pulumi package add` prints
  (`pkg/cmd/pulumi/packagecmd/package_add.go`, PrintDiagnostics).

Each check is proved to bite by a planted defect. Not encoded: external references are not resolved (that needs the
other package's schema), only their form; functions, methods, config and a `provider` block, which this package has
none of; the Java section (pulumi-java's snapshot is over the fetch limit).
"""
from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any, Callable, Iterator

import jsonschema
import pytest
from jsonschema import Draft202012Validator, validators

from tests.conftest import PROJECT_DIR, UPSTREAM

METASCHEMA = UPSTREAM / "pulumi" / "pulumi.json"
SCHEMA = PROJECT_DIR / "components" / "schema.json"
PRIMITIVES = ("boolean", "integer", "number", "string")
BUILTIN_REFS = {"pulumi.json#/Archive", "pulumi.json#/Asset", "pulumi.json#/Json", "pulumi.json#/Any"}
REF_PATH = re.compile(r"^/?(?P<package>[-\w]+)/(?P<version>v[^/]*)/schema\.json$")  # bind.go refPathRegex
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?"
                    r"(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$", re.ASCII)
DOC_REF = re.compile(r"\{\{%\s*ref\s+(\S+)\s*%\}\}")  # docs_parser.go refParser: `{{% ref <destination> %}}`


# ---- the metaschema -----------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _go_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern), re.ASCII)


def _go_pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _go_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.lru_cache(maxsize=1)
def metaschema_validator() -> Draft202012Validator:
    meta = json.loads(METASCHEMA.read_text())
    assert meta["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return validators.extend(Draft202012Validator, {"pattern": _go_pattern})(meta)


def metaschema_errors(schema: dict[str, Any]) -> list[str]:
    return [f"{e.json_path}: {e.message[:200]}" for e in metaschema_validator().iter_errors(schema)]


# ---- the binder's checks (pulumi/pulumi v3.259.0, pkg/codegen/schema/) ----------------------------------------------

def _semver(version: str, tolerant: bool) -> bool:
    """blang/semver `Parse`; `ParseTolerant` also takes a leading `v` (it pads short versions too: not needed)."""
    return bool(SEMVER.match(version.removeprefix("v") if tolerant else version))


def _objects(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str, str]]:
    """(path, object, properties key, required key) of every bag of properties the binder binds."""
    for token, res in schema.get("resources", {}).items():
        yield f"#/resources/{token}", res, "inputProperties", "requiredInputs"
        yield f"#/resources/{token}", res, "properties", "required"
    for token, type_ in schema.get("types", {}).items():
        if type_.get("type") == "object":
            yield f"#/types/{token}", type_, "properties", "required"


def _properties(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, obj, key, _ in _objects(schema):
        for name, prop in obj.get(key, {}).items():
            yield f"{path}/{key}/{name}", name, prop


def _type_specs(path: str, spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A type spec and those inside it (bindTypeSpec: items, additionalProperties, oneOf)."""
    yield path, spec
    if isinstance(spec.get("items"), dict):
        yield from _type_specs(f"{path}/items", spec["items"])
    if isinstance(spec.get("additionalProperties"), dict):
        yield from _type_specs(f"{path}/additionalProperties", spec["additionalProperties"])
    for i, member in enumerate(spec.get("oneOf") or []):
        yield from _type_specs(f"{path}/oneOf/{i}", member)


def _descriptions(schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every text checkDocRefs parses (bind.go): the package's, resources', types', enum values' and properties'."""
    yield "#/description", schema.get("description", "")
    for section in ("resources", "types"):
        for token, entity in schema.get(section, {}).items():
            yield f"#/{section}/{token}/description", entity.get("description", "")
            for i, value in enumerate(entity.get("enum") or []):
                yield f"#/{section}/{token}/enum/{i}/description", value.get("description", "")
    for path, _, prop in _properties(schema):
        yield f"{path}/description", prop.get("description", "")
        yield f"{path}/deprecationMessage", prop.get("deprecationMessage", "")


def tokens(schema: dict[str, Any]) -> list[str]:
    """bind.go `validateTypeTokens`/`validateTypeToken`: a resource or type token is `<package>:<module>:<name>` with
    the package's name (or one of allowedPackageNames), `provider` is no name in the root module, and no module is
    nested under `index/` (the module as `meta.moduleFormat`'s first group reads it, if the package sets one)."""
    allowed = {schema["name"], *schema.get("allowedPackageNames", [])}
    problems = []
    for section in ("resources", "types"):
        for token in schema.get(section, {}):
            parts = token.split(":")
            if len(parts) != 3:
                problems.append(f"#/{section}/{token}: invalid token (should have three parts)")
                continue
            if parts[0] not in allowed:
                problems.append(f"#/{section}/{token}: invalid token (must have package name '{schema['name']}')")
            if parts[1].lower() in ("", "index") and parts[2].lower() == "provider":
                problems.append(f"#/{section}/{token}: invalid token (provider is a reserved word for the root module)")
            module = parts[1]
            module_format = (schema.get("meta") or {}).get("moduleFormat")
            if module_format and (match := re.search(module_format, module)) and match.re.groups:
                module = match[1] or ""  # Go's FindStringSubmatch: the first group
            if module.startswith("index/"):
                problems.append(f"#/{section}/{token}: invalid token (nested modules under index are not allowed)")
    return problems


def _printable(name: str) -> bool:  # Go's unicode.IsPrint and not unicode.IsSpace
    return all(c.isprintable() and not c.isspace() for c in name)


def reserved_names(schema: dict[str, Any]) -> list[str]:
    """bind.go `bindSpec` (package names `pulumi` and `input` are reserved), `bindTypeDef`/`bindResourceDef`
    (`validatePrintableName`; a type or resource may not be named `pulumi`), `bindProperties` (property names
    printable, without whitespace, not `pulumi`), `bindResourceDetails` (a warning for a resource output named
    `urn` or `pulumi`, and `id` on a resource that is not a component); reserved_keywords.go."""
    problems = []
    if schema["name"] in ("pulumi", "input"):
        problems.append(f"#/name: invalid package name '{schema['name']}' (package names 'pulumi' and 'input' are "
                        "reserved)")
    for section in ("resources", "types"):
        for token in schema.get(section, {}):
            if not _printable(token):
                problems.append(f"#/{section}/{token}: name must contain only printable, non-whitespace characters")
            if token.split(":")[-1] == "pulumi":
                problems.append(f"#/{section}/{token}: pulumi is a reserved name")
    for path, name, _ in _properties(schema):
        if not _printable(name):
            problems.append(f"{path}: property name must contain only printable, non-whitespace characters")
        if name == "pulumi":
            problems.append(f"{path}: pulumi is a reserved property name")
    for token, res in schema.get("resources", {}).items():
        reserved = {"urn", "pulumi"} | (set() if res.get("isComponent") else {"id"})
        problems += [f"#/resources/{token}/properties/{name}: {name} is a reserved property name (warning)"
                     for name in res.get("properties", {}) if name in reserved]
    return problems


def _ref_problem(schema: dict[str, Any], ref: str) -> str | None:
    """bind.go `bindTypeSpecRef` and `parseTypeSpecRef`."""
    if ref in BUILTIN_REFS:
        return None
    location, _, fragment = ref.partition("#")
    fragment = fragment.lstrip("/")
    kind, _, token = fragment.partition("/")
    if location:
        match = REF_PATH.match(location)
        if not match:
            return f"failed to parse path '{location}'"
        if not _semver(match["version"], tolerant=True):
            return f"failed to parse package version '{match['version']}'"
    if kind == "provider":
        return f"invalid provider reference '{ref}'" if token else None
    if kind not in ("resources", "types"):
        return f"invalid type reference '{ref}'"
    if token.startswith("pulumi:providers:"):
        return (f"reference to provider resource '/resources/{token}' is deprecated, use '#/provider' instead "
                "(warning)")
    if not location and token not in schema.get(kind, {}):
        return f"{'type' if kind == 'types' else 'resource type'} {token} not found in package {schema['name']}"
    return None


def refs_resolve(schema: dict[str, Any]) -> list[str]:
    """bind.go `bindTypeSpecRef`/`parseTypeSpecRef`: a `$ref` is a built-in (`pulumi.json#/Archive|Asset|Json|Any`),
    `#/types/<token>` or `#/resources/<token>` of this package, which must exist, `#/provider`, or the same behind
    `/<package>/v<semver>/schema.json` for another package (whose tokens are not resolved here). A missing resource is
    always an error; a missing type is one for `pulumi package check` (pkg/cmd/pulumi/schema/schema_check.go,
    `--allow-dangling-references` off by default), while the language hosts' GeneratePackage bind with
    AllowDanglingReferences and generate code naming a type that does not exist. A provider named as
    `#/resources/pulumi:providers:<package>` draws a warning, "deprecated, use '#/provider' instead", which
    pulumi/pulumi#20029 is to make an error (pulumi/pulumi#20192)."""
    problems = []
    for path, _, prop in _properties(schema):
        for spec_path, spec in _type_specs(path, prop):
            if "$ref" in spec and (problem := _ref_problem(schema, spec["$ref"])):
                problems.append(f"{spec_path}/$ref: {problem}")
    return problems


def required_declared(schema: dict[str, Any]) -> list[str]:
    """bind.go `bindProperties`: every name in `required`/`requiredInputs` is a declared property ("unknown required
    property")."""
    problems = []
    for path, obj, key, required_key in _objects(schema):
        problems += [f"{path}/{required_key}/{i}: unknown required property {name!r}"
                     for i, name in enumerate(obj.get(required_key, [])) if name not in obj.get(key, {})]
    return problems


def _const_problem(value: Any, type_: str) -> str | None:
    """bind.go `bindConstValue`: the value as Go's JSON decoder gives it (every number a float64) fits the type; an
    integer is whole and within int32."""
    if type_ == "boolean":
        ok = isinstance(value, bool)
    elif type_ == "integer":
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()
              and -2**31 <= value <= 2**31 - 1)
    elif type_ == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif type_ == "string":
        ok = isinstance(value, str)
    else:
        return f"type {type_} cannot have a constant value"
    return None if ok else f"invalid constant {value!r} for {type_}"


def enum_values(schema: dict[str, Any]) -> list[str]:
    """bind.go `bindEnumType`: an enum's type is boolean, integer, number or string, and each value is one of it
    (`bindConstValue`)."""
    problems = []
    for token, type_ in schema.get("types", {}).items():
        if type_.get("type") == "object":
            continue
        if type_.get("type") not in PRIMITIVES:
            problems.append(f"#/types/{token}/type: enums may only be of type string, integer, number or boolean")
            continue
        for i, value in enumerate(type_.get("enum", [])):
            if problem := _const_problem(value.get("value"), type_["type"]):
                problems.append(f"#/types/{token}/enum/{i}/value: {problem}")
    return problems


def _default_problem(schema: dict[str, Any], spec: dict[str, Any], value: Any) -> str | None:
    ref = spec.get("$ref", "")
    if ref.startswith("#/types/"):
        target = schema.get("types", {}).get(ref.removeprefix("#/types/"), {})
        return _const_problem(value, target.get("type") if target.get("type") != "object" else f"object {ref}")
    if ref and not ref.startswith("#/") and ref not in BUILTIN_REFS:
        return None  # another package's type: not known here
    if ref:
        return _const_problem(value, f"reference {ref}")
    if "oneOf" in spec and "type" not in spec:  # a union without a default type: any member that takes it
        problems = [_default_problem(schema, member, value) for member in spec["oneOf"]]
        return None if None in problems else problems[0]
    return _const_problem(value, spec.get("type"))


def default_values(schema: dict[str, Any]) -> list[str]:
    """bind.go `bindDefaultValue` and `bindConstValue`: a property's `default` and `const` are of its type (an enum's:
    its underlying type; a union's: its `type`, or else any member's); an array, map, object, resource or built-in
    (Any, Archive, Asset, Json) has none. Another package's type is not known here: a default on it is not checked."""
    problems = []
    for path, _, prop in _properties(schema):
        for key in ("default", "const"):
            if key in prop and (problem := _default_problem(schema, prop, prop[key])):
                problems.append(f"{path}/{key}: {problem}")
    return problems


def removed_plain_lists(schema: dict[str, Any]) -> list[str]:
    """bind.go `bindObjectTypeDetails` and `bindResourceDetails`: the old `plain` list on an object type or resource
    and a resource's `plainInputs` are errors ("plain has been removed; the property type must be marked as plain
    instead"); plain is each property's own `plain: true` (a boolean: the metaschema's typeSpec)."""
    problems = []
    for section in ("resources", "types"):
        for token, entity in schema.get(section, {}).items():
            problems += [f"#/{section}/{token}/{key}: {key} has been removed; mark the property types plain instead"
                         for key in ("plain", "plainInputs") if entity.get(key)]
    return problems


def no_required_cycles(schema: dict[str, Any]) -> list[str]:
    """bind.go `validateNoRequiredObjectCycles`: no object type reaches itself through required properties that are
    object types themselves (arrays, maps, unions and optional properties break a cycle)."""
    types = schema.get("types", {})

    def required_objects(token: str) -> list[str]:
        type_ = types[token]
        refs = [type_["properties"][name].get("$ref", "") for name in type_.get("required", [])
                if name in type_.get("properties", {})]
        return [t for t in (r.removeprefix("#/types/") for r in refs if r.startswith("#/types/"))
                if types.get(t, {}).get("type") == "object"]

    def cycle(token: str, path: list[str]) -> list[str] | None:
        if token in path:
            return path[path.index(token):] + [token]
        for nxt in required_objects(token):
            if found := cycle(nxt, path + [token]):
                return found
        return None

    problems = []
    for token in sorted(t for t, spec in types.items() if spec.get("type") == "object"):
        if (found := cycle(token, [])) and found[0] == token:
            problems.append(f"#/types/{token}: object type has unsatisfiable required-property cycle: "
                            + " -> ".join(found))
    return problems


def no_colliding_tokens(schema: dict[str, Any]) -> list[str]:
    """bind.go `checkDuplicates`: no two resource tokens are the same ignoring case ("multiple tokens map to"), and
    no resource's name is also a module's name ("token collides with module"; schema.go `TokenToModule`: `index` is
    the root module)."""
    seen: dict[str, str] = {}
    modules = set()
    for token in schema.get("resources", {}):
        module = token.split(":")[1].lower() if token.count(":") == 2 else ""
        if module and module != "index":
            parts = module.split("/")
            modules.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    problems = []
    for token in sorted(schema.get("resources", {})):
        if token.lower() in seen:
            problems.append(f"#/resources/{token}: multiple tokens map to {token.lower()} ({seen[token.lower()]})")
        seen[token.lower()] = token
        parts = token.lower().split(":")
        if len(parts) == 3 and (parts[2] if parts[1] == "index" else f"{parts[1]}/{parts[2]}") in modules:
            problems.append(f"#/resources/{token}: token collides with module {parts[2]}")
    return problems


def components(schema: dict[str, Any]) -> list[str]:
    """Every resource is a component (`isComponent: true`): the provider only constructs (it has no Create), and the
    SDK generators make a resource without it a custom resource: pkg/codegen/nodejs/gen.go (`extends
    pulumi.CustomResource`, no `remote` argument, a static `get`), pkg/codegen/python/gen.go and go/gen.go alike."""
    return [f"#/resources/{token}/isComponent: not true (a generated SDK would register a custom resource)"
            for token, res in schema.get("resources", {}).items() if res.get("isComponent") is not True]


# The package-level language sections Pulumi's SDK generators decode (json.Unmarshal into their PackageInfo: an
# unknown key is silently ignored, a value of the wrong JSON type fails the generation): key -> JSON type.
_STR, _BOOL, _INT, _MAP, _LIST, _OBJ = "string", "boolean", "integer", "map of strings", "list of strings", "object"
LANGUAGE_KEYS: dict[str, tuple[str, dict[str, str]]] = {
    "python": ("pulumi/pulumi v3.259.0 pkg/codegen/python/importer.go PackageInfo", {
        "packageName": _STR, "pythonRequires": _STR, "requires": _MAP, "readme": _STR, "moduleNameOverrides": _MAP,
        "compatibility": _STR, "usesIOClasses": _BOOL, "liftSingleValueMethodReturns": _BOOL,
        "respectSchemaVersion": _BOOL, "pyproject": _OBJ, "inputTypes": _STR}),
    "nodejs": ("pulumi/pulumi v3.259.0 pkg/codegen/nodejs/importer.go NodePackageInfo", {
        "packageName": _STR, "packageDescription": _STR, "readme": _STR, "dependencies": _MAP,
        "devDependencies": _MAP, "peerDependencies": _MAP, "resolutions": _MAP, "typescriptVersion": _STR,
        "moduleToPackage": _MAP, "compatibility": _STR, "disableUnionOutputTypes": _BOOL, "containsEnums": _BOOL,
        "providerNameToModuleName": _MAP, "extraTypeScriptFiles": _LIST, "liftSingleValueMethodReturns": _BOOL,
        "respectSchemaVersion": _BOOL, "useTypeOnlyReferences": _BOOL}),
    "go": ("pulumi/pulumi v3.259.0 pkg/codegen/go/importer.go GoPackageInfo", {
        "importBasePath": _STR, "modulePath": _STR, "rootPackageName": _STR, "moduleToPackage": _MAP,
        "packageImportAliases": _MAP, "importPathPattern": _STR, "generateResourceContainerTypes": _BOOL,
        "pulumiSDKVersion": _INT, "disableFunctionOutputVersions": _BOOL, "liftSingleValueMethodReturns": _BOOL,
        "disableInputTypeRegistrations": _BOOL, "internalModuleName": _STR, "disableObjectDefaults": _BOOL,
        "generateExtraInputTypes": _BOOL, "omitExtraInputTypes": _BOOL, "respectSchemaVersion": _BOOL,
        "internalDependencies": _LIST, "generics": _STR}),
    "csharp": ("pulumi/pulumi-dotnet v3.112.1 (7e107de6) pulumi-language-dotnet/codegen/importer.go "
               "CSharpPackageInfo", {
                   "packageReferences": _MAP, "namespaces": _MAP, "compatibility": _STR,
                   "dictionaryConstructors": _BOOL, "projectReferences": _LIST, "liftSingleValueMethodReturns": _BOOL,
                   "rootNamespace": _STR, "respectSchemaVersion": _BOOL}),
}


def _json_type_ok(value: Any, type_: str) -> bool:
    if type_ == _MAP:
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if type_ == _LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if type_ == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, {_STR: str, _BOOL: bool, _OBJ: dict}[type_])


def language_sections(schema: dict[str, Any]) -> list[str]:
    """The package's `language.<python|nodejs|go|csharp>` sections use only keys the generator reads
    (LANGUAGE_KEYS; another key does nothing), each with the JSON type its field decodes. The metaschema leaves
    `language` an open object, and bind.go only keeps the raw sections for the generators (`newBinder`)."""
    problems = []
    for language, section in schema.get("language", {}).items():
        if language not in LANGUAGE_KEYS:
            continue
        source, keys = LANGUAGE_KEYS[language]
        if not isinstance(section, dict):
            problems.append(f"#/language/{language}: not an object ({source})")
            continue
        for key, value in section.items():
            if key not in keys:
                problems.append(f"#/language/{language}/{key}: no such setting ({source})")
            elif not _json_type_ok(value, keys[key]):
                problems.append(f"#/language/{language}/{key}: must be a {keys[key]} ({source})")
    return problems


def doc_refs(schema: dict[str, Any]) -> list[str]:
    """bind.go `checkDocRefs`, docs.go `interpretPulumiRefs`/`parseDocRef`: a `{{% ref <destination> %}}` in a
    description names an existing resource or type of this package (`#/resources/<token>`, `#/types/<token>`), or an
    existing property of it (`/properties/<name>`, a resource's `/inputProperties/<name>`)."""
    problems = []
    for path, text in _descriptions(schema):
        for destination in DOC_REF.findall(text or ""):
            parts = destination.split("/")
            if len(parts) < 3 or parts[0] != "#" or parts[1] not in ("resources", "types"):
                problems.append(f"{path}: invalid doc ref: {destination}")
                continue
            entity = schema.get(parts[1], {}).get(parts[2])
            if entity is None:
                problems.append(f"{path}: reference to {parts[1][:-1]} '{parts[2]}' not found in package "
                                f"{schema['name']}")
            elif len(parts) == 5 and parts[3] in ("properties", "inputProperties"):
                if parts[4] not in entity.get(parts[3], {}):
                    problems.append(f"{path}: property '{parts[4]}' not found on {parts[2]}")
            elif len(parts) != 3:
                problems.append(f"{path}: invalid doc ref: {destination}")
    return problems


def parameterization(schema: dict[str, Any]) -> list[str]:
    """bind.go `bindParameterization` (a base provider name, and a version `semver.Parse` takes: no leading `v`,
    which the metaschema's pattern allows) and `bindSpec` (not both parameterization and
    extensionParameterization). This package is not parameterized."""
    problems = []
    if "parameterization" in schema and "extensionParameterization" in schema:
        problems.append("#/parameterization: a package may declare parameterization or extensionParameterization, "
                        "not both")
    for key in ("parameterization", "extensionParameterization"):
        base = schema.get(key, {}).get("baseProvider") if key in schema else None
        if key in schema and not (base or {}).get("name"):
            problems.append(f"#/{key}/baseProvider/name: provider name must be specified")
        elif base and not _semver(str(base.get("version", "")), tolerant=False):
            problems.append(f"#/{key}/baseProvider/version: invalid version {base.get('version')!r}")
    return problems


RULES: tuple[Callable[[dict[str, Any]], list[str]], ...] = (
    tokens, reserved_names, refs_resolve, required_declared, enum_values, default_values, removed_plain_lists,
    no_required_cycles, no_colliding_tokens, components, language_sections, doc_refs, parameterization)


# ---- tests ----------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text())


def test_the_committed_schema_passes_pulumis_metaschema(committed):
    assert metaschema_errors(committed) == []


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def plant(schema: dict[str, Any]) -> None:
        node = schema
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return plant


AKS, TIER = "llmplatform:index:AksCluster", "llmplatform:index:ClusterTier"


@pytest.mark.parametrize("plant, expected", [
    (_set(("types", TIER, "type"), "str"), f"$.types['{TIER}']: "),  # the enum's primitive type misspelt
    (_set(("resources", AKS, "inputProperties", "clusterName", "type"), "strng"),
     f"$.resources['{AKS}'].inputProperties.clusterName: "),
    (_set(("version",), "0.20"), "$.version: '0.20' does not match"),  # not semver: the adapted pattern still bites
    (_set(("types", "llmplatform:index:9Lives"), {"type": "object"}),  # a token's name may not start with a digit
     "$.types: 'llmplatform:index:9Lives' does not match"),
    (_set(("homePage",), "https://example.com"), "'homePage' was unexpected"),  # no such package field
])
def test_the_metaschema_refuses_a_planted_defect(committed, plant, expected):
    schema = copy.deepcopy(committed)
    plant(schema)
    errors = metaschema_errors(schema)
    assert any(expected in e for e in errors), errors


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_committed_schema_keeps_the_binders_rule(committed, rule):
    assert rule(committed) == []


def _append(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def plant(schema: dict[str, Any]) -> None:
        node = schema
        for key in path:
            node = node[key]
        node.append(value)
    return plant


PROVIDER_OUT = ("resources", AKS, "properties", "provider", "$ref")
PLANTED = [
    (tokens, _set(("types", "llmplatfrom:index:Spare"), {"type": "object"}),
     "must have package name 'llmplatform'"),
    (tokens, _set(("types", "llmplatform:index/sub:Spare"), {"type": "object"}),
     "nested modules under index"),
    (reserved_names, _set(("types", "llmplatform:index:NodePoolSpec", "properties", "pulumi"), {"type": "string"}),
     "pulumi is a reserved property name"),
    (reserved_names, _set(("resources", AKS, "properties", "urn"), {"type": "string"}), "urn is a reserved"),
    (reserved_names, _set(("types", "llmplatform:index:NodePoolSpec", "properties", "min count"),
                          {"type": "integer"}), "printable, non-whitespace"),
    (refs_resolve, _set(("resources", AKS, "inputProperties", "tier", "$ref"), "#/types/llmplatform:index:Tier"),
     "type llmplatform:index:Tier not found in package llmplatform"),
    (refs_resolve, _set(PROVIDER_OUT, "/kubernetes/v4.34.2/schema.json#/resources/pulumi:providers:kubernetes"),
     "is deprecated, use '#/provider' instead"),  # what the SDK's analyzer writes (pulumi 3.272.0 analyzer.py)
    (refs_resolve, _set(PROVIDER_OUT, "/kubernetes/4.34.2/schema.json#/provider"), "failed to parse path"),
    (refs_resolve, _set(PROVIDER_OUT, "pulumi.json#/Anything"), "failed to parse path"),
    (required_declared, _append(("resources", AKS, "requiredInputs"), "clusterNmae"),
     "unknown required property 'clusterNmae'"),
    (enum_values, _set(("types", TIER, "enum", 0, "value"), 1), "invalid constant 1 for string"),
    (enum_values, _set(("types", TIER, "type"), "array"), "enums may only be of type"),
    (default_values, _set(("resources", AKS, "inputProperties", "azurePolicy", "default"), "false"),
     "invalid constant 'false' for boolean"),
    (default_values, _set(("resources", AKS, "inputProperties", "tier", "default"), 1),
     "invalid constant 1 for string"),
    (default_values, _set(("resources", AKS, "inputProperties", "adminGroupObjectIds", "default"), "x"),
     "type array cannot have a constant value"),
    (default_values, _set(("resources", AKS, "inputProperties", "systemPool", "default"), "pool"),
     "type object #/types/llmplatform:index:NodePoolSpec cannot have a constant value"),
    (removed_plain_lists, _set(("resources", AKS, "plainInputs"), ["clusterName"]), "plainInputs has been removed"),
    (removed_plain_lists, _set(("types", "llmplatform:index:NodePoolSpec", "plain"), ["name"]),
     "plain has been removed"),
    (no_required_cycles, _set(("types", "llmplatform:index:Loop"), {
        "type": "object", "properties": {"next": {"$ref": "#/types/llmplatform:index:Loop"}}, "required": ["next"]}),
     "llmplatform:index:Loop -> llmplatform:index:Loop"),
    (no_colliding_tokens, _set(("resources", "llmplatform:index:Akscluster"), {"isComponent": True}),
     "multiple tokens map to llmplatform:index:akscluster"),
    (no_colliding_tokens, _set(("resources", "llmplatform:akscluster:Pool"), {"isComponent": True}),
     "token collides with module akscluster"),
    (components, _set(("resources", AKS, "isComponent"), False), f"#/resources/{AKS}/isComponent"),
    (language_sections, _set(("language", "python", "requires"), "pulumi>=3"), "must be a map of strings"),
    (language_sections, _set(("language", "go", "importBasePath"), True), "must be a string"),
    (language_sections, _set(("language", "nodejs", "dependency"), {"@pulumi/pulumi": "^3"}), "no such setting"),
    (doc_refs, _set(("resources", AKS, "description"), "See {{% ref #/resources/llmplatform:index:Cluster %}}."),
     "reference to resource 'llmplatform:index:Cluster' not found"),
    (doc_refs, _set(("resources", AKS, "description"), f"See {{{{% ref #/resources/{AKS}/properties/kubecfg %}}}}."),
     "property 'kubecfg' not found"),
    (parameterization, _set(("parameterization",), {"baseProvider": {"name": "terraform-provider",
                                                                      "version": "v1.0.2"}, "parameter": "e30="}),
     "invalid version 'v1.0.2'"),
]


@pytest.mark.parametrize("rule, plant, expected", PLANTED,
                         ids=[f"{rule.__name__}-{i}" for i, (rule, _, _) in enumerate(PLANTED)])
def test_the_binders_rule_refuses_a_planted_defect(committed, rule, plant, expected):
    schema = copy.deepcopy(committed)
    plant(schema)
    problems = rule(schema)
    assert any(expected in p for p in problems), problems


def test_the_parameterization_version_the_binder_refuses_passes_the_metaschema(committed):
    """Why the binder's checks are needed beside the metaschema: its pattern allows `v1.0.2`, semver.Parse does not."""
    schema = copy.deepcopy(committed)
    schema["parameterization"] = {"baseProvider": {"name": "terraform-provider", "version": "v1.0.2"},
                                  "parameter": "e30="}
    assert metaschema_errors(schema) == [] and parameterization(schema)
