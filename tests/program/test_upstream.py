"""Every object and Helm release checked against upstream: Kubernetes schemas, CRDs, chart versions and values."""
from __future__ import annotations

import copy
import re
from typing import Any, Iterator

import jsonschema
import kubernetes_validate
import pytest
import yaml

from llmplatform.kubernetes_schemas import AKS_KUBERNETES_VERSIONS
from llmplatform.pins import ALL_CHARTS, OLLAMA_IMAGE, OPEN_WEBUI_IMAGE, VLLM_IMAGE, parse_image
from offline.deploy_model import CHART_CRD_GROUPS
from offline.plan import manifests

from tests.conftest import PLANNED, REGIONS, VARIANTS, plan_for, planned, upstream_dir, variant_or_stack
from tests.validation import (LOCAL_CRDS, UNREAD_ALLOWED, CelRuleViolation, cel_violations, chart_schema, chart_values,
                              compile_rule, is_builtin, is_read, is_transition_rule, pinned_versions, schema_rules,
                              unknown_values_keys, unread_values_keys, validate_builtin, validate_custom, values_read,
                              vendored_crds)


def _objects(plan):
    return [obj for _, obj in manifests(plan)]


@pytest.mark.parametrize("version", AKS_KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", [*sorted(VARIANTS), *REGIONS])
def test_every_builtin_object_passes_strict_schema(name, version):
    objects = [o for o in _objects(variant_or_stack(name)) if is_builtin(o)]
    assert objects, "the program creates Kubernetes objects"
    for obj in objects:
        validate_builtin(obj, version)


def test_strict_schema_check_catches_a_typo(dev):
    job = copy.deepcopy(next(o for o in _objects(dev) if o["kind"] == "Job"))
    job["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_builtin(job, AKS_KUBERNETES_VERSIONS[-1])


# the regional stacks the global stack reads (their own plans: Front Door's AuthorizationPolicy is theirs)


@pytest.mark.parametrize("name", PLANNED)
def test_every_custom_resource_passes_its_crd(name):
    """The CRD's structural schema and, on create, every CEL rule of it (x-kubernetes-validations, tests/
    validation.py cel_violations): the API server refuses an object that breaks either."""
    crds = upstream_dir() / "crds"
    for obj in _objects(planned(name)):
        if not is_builtin(obj):
            validate_custom(obj, crds)


def test_crd_check_accepts_valid_and_rejects_unknown_fields():
    crds = upstream_dir() / "crds"
    route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
             "metadata": {"name": "r", "namespace": "llm"},
             "spec": {"parentRefs": [{"name": "gw"}],
                      "rules": [{"backendRefs": [{"name": "ollama", "port": 11434}]}]}}
    validate_custom(route, crds)
    route["spec"]["rules"][0]["timeout"] = {"request": "300s"}  # misplaced field: 'timeouts' is the real one
    with pytest.raises(jsonschema.ValidationError):
        validate_custom(route, crds)


def test_crd_check_evaluates_the_crds_cel_rules_after_its_defaults():
    """A path match's type defaults to PathPrefix (HTTPRoute v1 CRD, gateway-api v1.4): a value without a leading
    slash then breaks the rule the API server evaluates on it; a backend timeout above the request's breaks another.
    The message names the object, the field path, the rule and the CRD's message."""
    crds = upstream_dir() / "crds"
    route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
             "metadata": {"name": "r", "namespace": "llm"},
             "spec": {"parentRefs": [{"name": "gw"}],
                      "rules": [{"matches": [{"path": {"value": "/v1/chat"}}],
                                 "timeouts": {"request": "300s", "backendRequest": "300s"},
                                 "backendRefs": [{"name": "ollama", "port": 11434}]}]}}
    validate_custom(route, crds)
    route["spec"]["rules"][0]["matches"][0]["path"]["value"] = "v1/chat"
    route["spec"]["rules"][0]["timeouts"]["backendRequest"] = "1h"
    with pytest.raises(CelRuleViolation) as refused:
        validate_custom(route, crds)
    lines = str(refused.value).splitlines()
    assert lines[0] == "HTTPRoute 'r' breaks its CRD's x-kubernetes-validations:"
    assert lines[1:] == [
        "  spec.rules[0].matches[0].path: rule \"(self.type in ['Exact','PathPrefix']) ? self.value.startsWith('/') : "
        "true\" = False: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
        "  spec.rules[0].timeouts: rule \"!(has(self.request) && has(self.backendRequest) && duration(self.request) != "
        "duration('0s') && duration(self.backendRequest) > duration(self.request))\" = False: backendRequest timeout "
        "cannot be longer than request timeout"]


def _all_crd_rules() -> list[tuple[str, str, str, dict]]:
    return [(f"{doc['spec']['names']['kind']}/{version['name']}", path, rule["rule"], rule)
            for crds in (upstream_dir() / "crds", LOCAL_CRDS) for doc in vendored_crds(crds)
            for version in doc["spec"]["versions"]
            for path, rule in schema_rules(version["schema"]["openAPIV3Schema"])]


def test_every_cel_rule_of_every_vendored_crd_compiles_and_only_immutability_waits_for_an_update():
    """A rule the evaluator cannot compile (a Kubernetes library function it lacks, a macro it misreads) fails here,
    never skipped: the check above compiles each rule it meets and raises on the first it cannot. The rules that read
    `oldSelf` are transition rules, evaluated on update only; the vendored CRDs' are all `self == oldSelf`
    (immutable once set), which no create can break."""
    rules = _all_crd_rules()
    failed = []
    for where, path, text, _ in rules:
        try:
            compile_rule(text)
        except RuntimeError as error:
            failed.append(f"{where} {path}: {text}: {error}")
    assert not failed, "\n".join(failed)
    # the walk (properties, items, additionalProperties) reaches every rule the CRD files hold, wherever they sit
    def anywhere(node: Any) -> int:
        if isinstance(node, dict):
            return len(node.get("x-kubernetes-validations") or []) + sum(anywhere(v) for v in node.values())
        return sum(anywhere(v) for v in node) if isinstance(node, list) else 0
    assert len(rules) == sum(anywhere(doc) for crds in (upstream_dir() / "crds", LOCAL_CRDS)
                             for doc in vendored_crds(crds)) == 365  # 6 in Prometheus and Alertmanager, 117 in DestinationRule
    transitions = {(where, path, text) for where, path, text, rule in rules if is_transition_rule(rule)}
    assert {text for _, _, text in transitions} == {"self == oldSelf"}, transitions


def test_no_rule_reads_a_string_the_api_server_would_hand_it_as_bytes_a_duration_or_a_timestamp():
    """The check hands `self` to CEL as JSON values; the API server types a string of format byte, duration, date or
    date-time as CEL bytes, duration or timestamp (k8s.io/apiserver pkg/cel/common/schemas.go, SchemaDeclType). In
    the vendored CRDs such a field sits under a rule only in cert-manager's venafi issuer, whose one rule reads
    has() alone; a CRD that adds another needs the conversion first."""
    def formatted(schema: Any, path: str, rules: tuple[str, ...], kind: str) -> Iterator[tuple[str, ...]]:
        if not isinstance(schema, dict):
            return
        rules = rules + tuple(r["rule"] for r in schema.get("x-kubernetes-validations") or [])
        if rules and schema.get("format") in ("byte", "duration", "date", "date-time"):
            yield (kind, path, schema["format"], *rules)
        for key, sub in (schema.get("properties") or {}).items():
            yield from formatted(sub, f"{path}.{key}" if path else key, rules, kind)
        yield from formatted(schema.get("items"), path + "[]", rules, kind)
        yield from formatted(schema.get("additionalProperties"), path + "{}", rules, kind)
    found = {hit for crds in (upstream_dir() / "crds", LOCAL_CRDS) for doc in vendored_crds(crds)
             for version in doc["spec"]["versions"]
             for hit in formatted(version["schema"]["openAPIV3Schema"], "", (), doc["spec"]["names"]["kind"])}
    venafi = "(has(self.tpp) ? 1 : 0) + (has(self.cloud) ? 1 : 0) + (has(self.ngts) ? 1 : 0) == 1"
    # Prometheus's one spec-level rule reads shardingStrategy and shards only, never the PVC template's status
    claim = "spec.storage.volumeClaimTemplate.status.conditions[]"
    assert {hit[:3] for hit in found} == {(kind, "spec.venafi.tpp.caBundle", "byte")
                                          for kind in ("Issuer", "ClusterIssuer")} | {
        ("Prometheus", f"{claim}.{f}", "date-time") for f in ("lastProbeTime", "lastTransitionTime")}
    assert {hit[3:] for hit in found if hit[0] != "Prometheus"} == {(venafi,)}, found
    (sharding,) = {hit[3:] for hit in found if hit[0] == "Prometheus"}
    assert set(re.findall(r"self\.\w+", " ".join(sharding))) == {"self.shardingStrategy", "self.shards"}, sharding


def test_a_rule_the_evaluator_cannot_compile_fails_the_check():
    """isURL is a Kubernetes CEL library function (apiserver/pkg/cel/library/urls.go) the evaluator does not carry:
    a CRD that starts using it fails the CRD check until it is registered, rather than passing unevaluated."""
    schema = {"type": "object", "x-kubernetes-validations": [{"rule": "isURL(self.url)", "message": "a URL"}]}
    with pytest.raises(RuntimeError, match="undeclared reference to 'isURL'"):
        list(cel_violations(schema, {"url": "https://example.com"}))


def test_every_release_is_pinned_to_the_recorded_upstream_version(any_plan):
    sources = (upstream_dir() / "SOURCES.md").read_text()
    by_name = {c.chart: c for c in ALL_CHARTS}
    for release in any_plan.helm_releases():
        chart = by_name[release.inputs["chart"].rsplit("/", 1)[-1]]
        assert release.inputs["version"] == chart.version
        if chart.repo.startswith("oci://"):  # an OCI chart is addressed by its full reference, no repository
            assert release.inputs["chart"] == f"{chart.repo}/{chart.chart}" and "repositoryOpts" not in release.inputs
        else:
            assert release.inputs["repositoryOpts"]["repo"] == chart.repo
        assert chart.version in pinned_versions(sources, chart.upstream_dir), chart.chart


def test_every_values_key_exists_upstream(any_plan):
    upstream = upstream_dir() / "charts"
    by_name = {c.chart: c for c in ALL_CHARTS}
    for release in any_plan.helm_releases():
        chart_dir = upstream / by_name[release.inputs["chart"].rsplit("/", 1)[-1]].upstream_dir
        values = release.inputs.get("values", {})
        assert list(unknown_values_keys(values, chart_values(chart_dir))) == [], release.name
        schema = chart_schema(chart_dir)
        if schema:
            jsonschema.validate(values, schema)


def _unread_keys(plan) -> list[str]:
    upstream = upstream_dir() / "charts"
    by_name = {c.chart: c for c in ALL_CHARTS}
    found = []
    for release in plan.helm_releases():
        chart = by_name[release.inputs["chart"].rsplit("/", 1)[-1]]
        for key in unread_values_keys(release.inputs.get("values", {}), upstream / chart.upstream_dir):
            found.append(f"release {release.name} ({chart.chart} {chart.version}): {key} is in the chart's values "
                         "but no template of that version reads it; remove it or set the key the templates read")
    return found


@pytest.mark.parametrize("name", PLANNED)
def test_every_values_key_is_read_by_a_template(name):
    """A key can exist in values.yaml and still do nothing: every key a release sets is read by a template of the
    pinned chart or its subcharts (tests/upstream/charts/<chart>/values-read.json), itself, below it, or as part of
    a map a template takes whole."""
    assert _unread_keys(planned(name)) == []


def test_a_key_no_template_reads_fails_the_read_check(dev):
    """nvidia-device-plugin 0.20.0's values.yaml has gfd.noTimestamp, but daemonset-gfd.yml reads the top-level
    .Values.noTimestamp: set under gfd, it exists upstream and changes nothing."""
    release = next(r for r in dev.helm_releases() if r.inputs["chart"] == "nvidia-device-plugin")
    planted = copy.deepcopy(release)
    planted.inputs["values"] = {**release.inputs["values"], "gfd": {**release.inputs["values"].get("gfd", {}),
                                                                    "noTimestamp": True}}
    chart_dir = upstream_dir() / "charts" / "nvidia-device-plugin"
    assert list(unknown_values_keys(planted.inputs["values"], chart_values(chart_dir))) == []  # exists upstream

    class Plan:
        def helm_releases(self):
            return [planted]
    assert _unread_keys(Plan()) == [
        f"release {release.name} (nvidia-device-plugin 0.20.0): gfd.noTimestamp is in the chart's values but no "
        "template of that version reads it; remove it or set the key the templates read"]
    assert list(unread_values_keys({"noTimestamp": True}, chart_dir)) == []  # the key the template reads


def test_a_key_under_a_node_the_chart_merges_over_its_values_is_read_where_the_top_level_key_is():
    """istiod's templates/zzy_descope_legacy.yaml merges `pilot` over the top level (values-read.json `aliases`)."""
    istiod = upstream_dir() / "charts" / "istiod"
    assert list(unread_values_keys({"pilot": {"autoscaleMin": 2, "env": {"X": "1"}}}, istiod)) == []
    assert list(unread_values_keys({"pilot": {"autoscaleMinimum": 2}}, istiod)) == ["pilot.autoscaleMinimum"]
    assert list(unread_values_keys({"gateways": {"autoscaleMin": 2}}, istiod)) == ["gateways.autoscaleMin"]


def test_values_read_data_is_from_the_pinned_templates():
    """Each pinned chart's values-read.json was extracted at the commits SOURCES.md records for its vendored
    Chart.yaml (a chart bump without a new extraction fails here), every template an include names was found, and
    no template takes a chart's whole .Values (which would make every key read and the check above vacuous)."""
    sources = (upstream_dir() / "SOURCES.md").read_text()
    rows = {}
    for line in sources.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 8 and cells[1].startswith("`charts/") and cells[1].endswith("/Chart.yaml`"):
            rows[cells[1].strip("`")] = (cells[2], cells[5].strip("`"))
    for chart in ALL_CHARTS:
        chart_dir = upstream_dir() / "charts" / chart.upstream_dir
        touched, whole, header = values_read(chart_dir)
        parent, *subcharts = header["sources"]
        assert (parent["repo"], parent["commit"]) == rows[f"charts/{chart.upstream_dir}/Chart.yaml"], chart.chart
        for sub in subcharts:
            vendored = [key for key in rows if key.startswith(f"charts/{chart.upstream_dir}/charts/")
                        and yaml.safe_load((upstream_dir() / key).read_text())["name"] in sub["path"]]
            if vendored:  # else in the parent's own tree, at its commit
                assert (sub["repo"], sub["commit"]) in {rows[key] for key in vendored}, (chart.chart, sub)
            else:
                assert (sub["repo"], sub["commit"]) == (parent["repo"], parent["commit"]), (chart.chart, sub)
        assert header["undefined_templates"] == [], chart.chart
        assert () not in whole and all(len(path) > 1 or path[0] not in {s["values_key"] for s in subcharts}
                                       for path in whole), (chart.chart, "a chart's whole .Values taken")
        assert len(touched) > 20, chart.chart
        rel = f"charts/{chart.upstream_dir}/values-read.json"
        assert f"| `{rel}` |" in sources and f"  {rel}\n" in sources, f"{rel}: no row or checksum in SOURCES.md"


def test_every_unread_key_allowed_is_one_the_extractor_misses():
    """An allowed key names the template line that reads it, and is one the extracted reads do not already hold."""
    for chart_dir_name, keys in UNREAD_ALLOWED.items():
        touched, whole, _ = values_read(upstream_dir() / "charts" / chart_dir_name)
        for key, line in keys.items():
            assert re.search(r"templates/\S+:\d+", line), (chart_dir_name, key)
            assert not is_read(tuple(key.split(".")), touched, whole), (chart_dir_name, key, "already read")


def test_every_crd_a_chart_installs_is_vendored_at_its_pinned_version():
    """A chart bump takes the CRDs its release installs along (tests/upstream/crds/), or the CRD checks above go on
    judging the objects by the old version's schema: a field the new CRD dropped passes here and the API server refuses
    it. Each vendored CRD of an API group a chart installs (CHART_CRD_GROUPS) was read at that chart's pinned version:
    its release tag, or the tag of its appVersion where the CRD comes from the operator's own repository (KEDA and its
    HTTP add-on)."""
    def bare(version: str) -> str:
        return version.strip().removeprefix("v")
    sources = (upstream_dir() / "SOURCES.md").read_text().splitlines()
    by_name = {c.chart: c for c in ALL_CHARTS}
    for name, groups in CHART_CRD_GROUPS.items():
        chart = by_name[name]
        meta = yaml.safe_load((upstream_dir() / "charts" / chart.upstream_dir / "Chart.yaml").read_text())
        pinned = {bare(chart.version), bare(str(meta.get("appVersion") or ""))}
        rows = 0
        for line in sources:
            cells = [c.strip() for c in line.split("|")]
            if len(cells) > 8 and cells[1].startswith("`crds/") and cells[1].split("/")[1] in groups \
                    and "/" in cells[2]:  # the provenance table (a repository), not the checks table
                rows += 1
                ref = cells[4].strip("`")
                assert bare(ref.removeprefix(f"{name}-")) in pinned, (
                    f"{cells[1]} was read at {ref}, but {name} is pinned at {chart.version}: copy the CRD from the "
                    "pinned version (its row and checksum in tests/upstream/SOURCES.md)")
        # every chart here vendors a CRD the checks read: none found is the table's shape misread, not a pass
        assert rows, f"no row of tests/upstream/SOURCES.md names a vendored CRD of {name} ({', '.join(groups)})"


def test_values_check_catches_a_misspelt_key():
    upstream = upstream_dir() / "charts"
    values = chart_values(upstream / "nvidia-device-plugin")
    assert list(unknown_values_keys({"tolerations": [], "gfd": {"enabled": False}}, values)) == []
    assert list(unknown_values_keys({"tolerration": []}, values)) == ["tolerration"]
    assert list(unknown_values_keys({"gfd": {"enable": True}}, values)) == ["gfd.enable"]
    operator = chart_values(upstream / "gpu-operator")
    assert list(unknown_values_keys({"node-feature-discovery": {"worker": {"tolerations": []}}}, operator)) == []


def test_all_charts_are_recorded_upstream():
    sources = (upstream_dir() / "SOURCES.md").read_text()
    for chart in ALL_CHARTS:
        assert pinned_versions(sources, chart.upstream_dir), f"{chart.chart} missing from SOURCES.md"


def test_vendored_upstream_files_match_their_recorded_checksums():
    """tests/upstream is a verbatim copy: every file SOURCES.md lists is present with the SHA-256 it records."""
    import hashlib
    import re
    root = upstream_dir()
    listed = re.findall(r"^([0-9a-f]{64})  (\S+)$", (root / "SOURCES.md").read_text(), re.M)
    assert len(listed) > 50
    for digest, rel in listed:
        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == digest, rel


# The model-serving software whose own source the tests read (routes, settings, metrics), by its pinned image: a bump
# of the image in pins.json is checked against the files read at the old tag only until they are read again.
IMAGE_SOURCES = {"ollama/ollama": OLLAMA_IMAGE, "open-webui/open-webui": OPEN_WEBUI_IMAGE,
                 "vllm-project/vllm": VLLM_IMAGE}


def image_source_rows(sources: str) -> list[tuple[str, str, str]]:
    """(vendored path, repository, tag) of each SOURCES.md row read from the source of a pinned image's software."""
    rows = []
    for line in sources.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 5 and cells[1].startswith("`"):
            repo = next((r for r in IMAGE_SOURCES if cells[2] == r or cells[2].startswith(r + " ")), None)
            if repo:
                rows.append((cells[1].strip("`"), repo, cells[4].strip("`")))
    return rows


def stale_image_sources(sources: str) -> list[str]:
    """The vendored files read at another tag than the one the software's pinned image runs, each with what to do."""
    found = []
    for rel, repo, tag in image_source_rows(sources):
        pinned = parse_image(IMAGE_SOURCES[repo]).tag or ""
        if tag.lstrip("v") != pinned.lstrip("v"):
            found.append(f"tests/upstream/{rel} was read from {repo} at {tag}, but pins.json runs {IMAGE_SOURCES[repo]}:"
                         f" read it again at that tag (its row and checksum in tests/upstream/SOURCES.md)")
    return found


def test_every_file_read_from_a_model_server_or_ui_is_at_its_pinned_image_tag():
    """An image bump (docs/operations.md, "Upgrading charts and images") fails until every file the tests read from
    that software's source (Ollama's routes, which the API gate's allow-list is checked against; vLLM's routes and
    metrics; the settings lists) is read again at the new tag."""
    sources = (upstream_dir() / "SOURCES.md").read_text()
    rows = image_source_rows(sources)
    assert {repo for _, repo, _ in rows} == set(IMAGE_SOURCES), rows
    assert any(rel == "ollama/routes.tsv" for rel, _, _ in rows) and any(rel == "vllm/routes.tsv" for rel, _, _ in rows)
    assert not stale_image_sources(sources), "\n".join(stale_image_sources(sources))
    # a bump of the Ollama image alone names the route list the API gate is checked against
    bumped = sources.replace(f"| `v{parse_image(OLLAMA_IMAGE).tag}` |", "| `v0.0.1` |")
    assert any(s.startswith("tests/upstream/ollama/routes.tsv was read from ollama/ollama at v0.0.1")
               for s in stale_image_sources(bumped))
