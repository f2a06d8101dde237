"""Strict schema checks of the Kubernetes objects a program creates, for the testing kit.

The Kubernetes SDK's `...Args` classes reject an unknown keyword but not a value of the wrong type
(`node_selector={"pool": 1}`), and a dict literal is not checked at all; the API server refuses both at `pulumi up`
(strict field validation: an unknown field is an error). `problems(plan)` checks every object of the built-in API
groups against the Kubernetes OpenAPI schemas of `kubernetes-validate` (the `testing` extra:
`pip install "llmplatform[testing]"`), as kubectl's `--validate=strict` would. Custom resources need their CRDs'
schemas, which only their charts carry: they are not checked here.

    from llmplatform import kubernetes_schemas, testing

    def test_objects_pass_the_api_servers_schemas():
        assert kubernetes_schemas.problems(testing.run(my_program)) == []
"""

import functools
import json
import re
from typing import Any, Iterable, Optional

# The two newest Kubernetes minors AKS supports (AKS release calendar, MicrosoftDocs/azure-aks-docs
# supported-kubernetes-versions.md: 1.34 left support on 2026-11-30): every object must pass both.
AKS_KUBERNETES_VERSIONS = ("1.35.0", "1.36.0")

BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io", "storage.k8s.io",
    "scheduling.k8s.io", "coordination.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io",
    "discovery.k8s.io", "node.k8s.io", "certificates.k8s.io"})

# Kinds the API server keeps without a namespace (`kubectl api-resources --namespaced=false`: the built-in ones, as
# the kubernetes Python client 37.0.2 has them (a `create_<kind>` of no namespace), and the cluster-scoped CRDs of the
# charts the platform installs, `scope: Cluster` in the CRDs vendored under tests/upstream/crds). It clears a
# namespace given to one on create and update (k8s.io/apiserver pkg/registry/rest/create.go and update.go,
# BeforeCreate/BeforeUpdate: "else if len(objectMeta.GetNamespace()) > 0 {
# objectMeta.SetNamespace(metav1.NamespaceNone) }"), so two of them of one name are one object whatever namespace
# each was given, and none of them goes into a namespace.
CLUSTER_SCOPED = frozenset({
    ("", "Namespace"), ("", "PersistentVolume"), ("", "Node"), ("", "ComponentStatus"),
    ("storage.k8s.io", "StorageClass"), ("storage.k8s.io", "CSIDriver"), ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"), ("storage.k8s.io", "VolumeAttributesClass"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("rbac.authorization.k8s.io", "ClusterRole"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"), ("apiregistration.k8s.io", "APIService"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("authentication.k8s.io", "TokenReview"), ("authentication.k8s.io", "SelfSubjectReview"),
    ("authorization.k8s.io", "SubjectAccessReview"), ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("certificates.k8s.io", "CertificateSigningRequest"), ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"), ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("internal.apiserver.k8s.io", "StorageVersion"), ("storagemigration.k8s.io", "StorageVersionMigration"),
    ("networking.k8s.io", "IngressClass"), ("networking.k8s.io", "IPAddress"), ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("resource.k8s.io", "DeviceClass"), ("resource.k8s.io", "ResourceSlice"), ("resource.k8s.io", "DeviceTaintRule"),
    ("gateway.networking.k8s.io", "GatewayClass"), ("cert-manager.io", "ClusterIssuer"),
    ("nvidia.com", "ClusterPolicy"), ("mellanox.com", "NicClusterPolicy")})

MISSING = ('the Kubernetes schema check needs kubernetes-validate: pip install "llmplatform[testing]" '
           "(or kubernetes-validate itself)")


def group_of(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def is_builtin(obj: dict[str, Any]) -> bool:
    """An object of a built-in API group (its schema ships with Kubernetes), not a custom resource."""
    return group_of(str(obj.get("apiVersion", ""))) in BUILTIN_GROUPS


def _utils() -> Any:
    try:
        import kubernetes_validate.utils
    except ImportError:
        raise ImportError(MISSING) from None
    return kubernetes_validate.utils


@functools.lru_cache(maxsize=None)
def _schema_file(path: str, version: str) -> Any:
    return _utils().schema_contents(path, version)


def _kind_schema(kind: str, api_version: str, version: str) -> tuple[Any, str, str]:
    """(the kind's strict schema, the folder of its files, the schema version read) as kubernetes_validate/utils.py
    `validate` chooses them."""
    utils = _utils()
    if utils.major_minor(version) > utils.latest_version():
        raise utils.VersionNotSupportedError(version=utils.major_minor(version))
    schema_version = [v for v in utils.all_versions() if utils.major_minor(v) <= utils.major_minor(version)][-1]
    api = re.sub(r'^([^./]*)(?:\.[^/]*)?/', r'\1-', api_version)
    schema_dir = f"kubernetes-json-schema/v{schema_version}-local-strict"
    try:
        schema = _schema_file(f"{schema_dir}/{kind.lower()}-{api}.json", version)
    except FileNotFoundError:
        raise utils.SchemaNotFoundError(version=utils.major_minor(version), kind=kind,
                                        api_version=api_version) from None
    return schema, schema_dir, schema_version


@functools.lru_cache(maxsize=None)
def _strict_validator(kind: str, api_version: str, version: str) -> tuple[Any, str]:
    """What kubernetes_validate.validate(obj, version, strict=True) builds for each object (kubernetes_validate/
    utils.py `validate`: the same schema choice, files, registry and Draft 2020-12 validator), built once per kind,
    apiVersion and version: it reads and parses the 1.5 MB `_definitions.json` anew on every call."""
    import jsonschema
    from referencing import Registry, Resource
    schema, schema_dir, schema_version = _kind_schema(kind, api_version, version)
    registry = Resource.from_contents(_schema_file(f"{schema_dir}/_definitions.json", version)) @ (
        Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry), _utils().major_minor(schema_version)


QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def is_quantity(obj: dict[str, Any], keys: Iterable[Any], version: str = AKS_KUBERNETES_VERSIONS[-1]) -> bool:
    """Whether the field `keys` reach in a built-in object (`spec`, `template`, ..., `containers`, 0, `resources`,
    `limits`, `cpu`) is a resource.Quantity in its kind's schema: a request or limit, an emptyDir's sizeLimit, a
    claim's storage, a quota's `hard`. False for a custom resource, a kind or field the schema does not have."""
    if not is_builtin(obj):
        return False
    try:
        schema, schema_dir, _ = _kind_schema(str(obj.get("kind")), str(obj.get("apiVersion")), version)
    except (_utils().SchemaNotFoundError, _utils().VersionNotSupportedError):
        return False
    definitions = _schema_file(f"{schema_dir}/_definitions.json", version)["$defs"]
    for key in keys:
        while isinstance(schema, dict) and "$ref" in schema:
            schema = definitions.get(schema["$ref"].rsplit("/", 1)[-1])
        if not isinstance(schema, dict):
            return False
        if isinstance(key, int):
            schema = schema.get("items")
        else:
            schema = (schema.get("properties") or {}).get(key, schema.get("additionalProperties"))
    return isinstance(schema, dict) and str(schema.get("$ref", "")).rsplit("/", 1)[-1] == QUANTITY


_VALID: set[tuple[str, str]] = set()


def validate(obj: dict[str, Any], version: str) -> None:
    """Raise kubernetes_validate.ValidationError (SchemaNotFoundError for a kind the version does not have) unless
    the built-in object passes its strict schema. An object identical to one already valid for that version is not
    checked twice (programs and their variants share most objects)."""
    key = (json.dumps(obj, sort_keys=True, default=str), version)
    if key in _VALID:
        return
    import jsonschema
    import kubernetes_validate
    validator, checked = _strict_validator(str(obj.get("kind")), str(obj.get("apiVersion")),
                                           version.removeprefix("v"))
    try:
        validator.validate(obj)
    except jsonschema.ValidationError as error:
        raise kubernetes_validate.ValidationError(error, version=checked) from None
    _VALID.add(key)


def _where(error: Any) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
    return path.lstrip(".") or "(the object)"


def _reason(error: Any) -> str:
    """The schema's rule, never the value itself (it may be a secret's): a wrong type, an unknown field (its name),
    a missing field, a value outside an enum."""
    rule, expected = error.validator, error.validator_value
    if rule == "type":
        return f"must be {' or '.join(expected) if isinstance(expected, list) else expected}, " \
               f"not {type(error.instance).__name__}"
    if rule in ("additionalProperties", "required"):
        return str(error.message)  # names fields, not values
    if rule == "enum":
        return f"must be one of {', '.join(map(str, expected))}"
    shown = repr(expected)
    return f"fails the schema's `{rule}` rule" + (f" ({shown})" if len(shown) <= 120 else "")


def object_problems(name: str, obj: dict[str, Any], versions: Iterable[str] = AKS_KUBERNETES_VERSIONS) -> list[str]:
    """One line per version the object fails, naming the resource, the object, the field and the schema's rule."""
    utils = _utils()
    label = f"{name} ({obj.get('kind')} {(obj.get('metadata') or {}).get('name', '')})".replace(" )", ")")
    found: list[str] = []
    for version in versions:
        try:
            validate(obj, version)
        except utils.ValidationError as error:
            found.append(f"{label}: {_where(error)}: {_reason(error)} "
                         f"(Kubernetes {version.removeprefix('v')} schema, strict)")
        except (utils.SchemaNotFoundError, utils.VersionNotSupportedError) as error:
            found.append(f"{label}: {error.message}")
    return found


def problems(plan: Any, versions: Iterable[str] = AKS_KUBERNETES_VERSIONS) -> list[str]:
    """Every built-in Kubernetes object of a `llmplatform.testing` plan that a real API server would refuse under
    strict field validation, one line each: resource name, object, field path and reason. Secrets' values are
    never printed (only the path and the schema's reason are)."""
    _utils()
    versions = tuple(versions)
    found: list[str] = []
    for reg in plan.kubernetes_objects():
        if is_builtin(reg.inputs):
            found.extend(object_problems(reg.name, reg.inputs, versions))
    return found
