"""The values-read extractor on planted templates: each construct Helm charts read values through gives the paths a
real render reads, and what it cannot follow counts as the whole node."""
import json
import re

import pytest
from llmplatform.pins import ALL_CHARTS

from offline.maintenance.helm_reads import ChartFiles, chart_reads, dumps_document, parse, reads_document

from tests.conftest import UPSTREAM
from tests.validation import is_read, values_read


def reads(templates: dict[str, str], subcharts: tuple[tuple[str, dict, dict[str, str]], ...] = (),
          meta: dict | None = None, dumps: dict[str, str] | None = None) -> tuple[set, set]:
    charts = [ChartFiles(meta or {"name": "parent"}, templates, (), "")]
    charts += [ChartFiles(sub_meta, sub_templates, (key,) if sub_meta.get("type") != "library" else (), f"{key}/")
               for key, sub_meta, sub_templates in subcharts]
    found = chart_reads(charts, dumps)
    return set(found.read), set(found.whole)


def test_a_field_chain_and_dollar_read_the_path_and_nothing_whole():
    read, whole = reads({"templates/a.yaml": "{{ if .Values.a.b }}x{{ end }}{{ with .Values.c }}{{ if $.Values.d.e }}"
                                             "y{{ end }}{{ end }}"})
    assert {("a", "b"), ("d", "e"), ("c",)} <= read and whole == set()


def test_printing_a_value_takes_it_whole():
    read, whole = reads({"templates/a.yaml": "image: {{ .Values.image.repository }}:{{ .Values.image.tag | quote }}"})
    assert whole == {("image", "repository"), ("image", "tag")}


def test_index_with_literal_keys_reads_the_path_a_computed_key_takes_the_map_whole():
    read, whole = reads({"templates/a.yaml": '{{ if index .Values "a-b" "c" }}{{ end }}'
                                             '{{ $k := "x" }}{{ if index .Values.m $k }}{{ end }}'})
    assert ("a-b", "c") in read and whole == {("m",)}


def test_with_scopes_dot_to_the_node_and_toyaml_of_dot_takes_it_whole():
    read, whole = reads({"templates/a.yaml": "{{- with .Values.pod }}{{ if .enabled }}{{ end }}"
                                             "{{ toYaml .resources | nindent 2 }}{{- end }}"
                                             "{{ with .Values.nodeSelector }}{{ toYaml . }}{{ end }}"})
    assert ("pod", "enabled") in read and whole == {("pod", "resources"), ("nodeSelector",)}


def test_range_takes_what_it_ranges_over_whole_and_its_elements_read_nothing_more():
    read, whole = reads({"templates/a.yaml": "{{ range $k, $v := .Values.env }}- {{ $k }}={{ $v }}{{ end }}"
                                             "{{ range .Values.extra }}{{ .name }}{{ end }}"})
    assert whole == {("env",), ("extra",)}


def test_variables_carry_the_node():
    read, whole = reads({"templates/a.yaml": "{{ $s := .Values.svc }}{{ if $s.enabled }}{{ $s.port }}{{ end }}"
                                             "{{ $n := .Values.global.ns | default dict }}"
                                             "{{ $n = merge $n (.Values.ns | default dict) }}{{ toYaml $n }}"})
    assert ("svc", "enabled") in read and whole == {("svc", "port"), ("global", "ns"), ("ns",)}


def test_a_dict_passed_to_include_is_followed_into_the_template():
    helpers = ('{{- define "pod" -}}{{ toYaml .values.resources }}{{ if .root.Values.debug }}{{ end }}'
               '{{ include "labels" .root }}{{- end -}}'
               '{{- define "labels" -}}{{ toYaml .Values.labels }}{{- end -}}')
    read, whole = reads({"templates/_helpers.tpl": helpers,
                         "templates/a.yaml": '{{ include "pod" (dict "values" .Values.worker "root" $) }}'})
    assert ("debug",) in read and whole == {("worker", "resources"), ("labels",)}
    assert ("worker",) in read and ("worker", "other") not in read


def test_a_subchart_reads_under_its_key_and_global_at_the_top_a_library_with_the_parent_values():
    sub = ("kube-state-metrics", {"name": "kube-state-metrics"},
           {"templates/d.yaml": "{{ .Values.image.tag }}{{ .Values.global.imageRegistry }}"})
    library = ("router", {"name": "router", "type": "library"},
               {"templates/_epp.yaml": '{{- define "epp" -}}{{ .Values.router.epp.replicas }}{{- end -}}',
                "templates/unused.yaml": "{{ .Values.never }}"})
    read, whole = reads({"templates/a.yaml": '{{ include "epp" . }}'}, (sub, library),
                        {"name": "parent", "dependencies": [{"name": "kube-state-metrics",
                                                              "condition": "kubeStateMetrics.enabled"}]})
    # a subchart's global.x is the parent's global.x, or its own <subchart>.global.x where the parent sets none
    assert whole == {("kube-state-metrics", "image", "tag"), ("global", "imageRegistry"),
                     ("kube-state-metrics", "global", "imageRegistry"), ("router", "epp", "replicas")}
    assert ("kubeStateMetrics", "enabled") in read and ("never",) not in read


def test_tpl_takes_the_string_whole_but_not_the_context_and_notes_and_dumps_read_nothing():
    read, whole = reads({"templates/a.yaml": "{{ tpl .Values.clusterName $ }}{{ tpl (toYaml .Values.x) . }}",
                         "templates/NOTES.txt": "{{ .Values.asciiArt }}",
                         "templates/debug.yaml": "{{ .Values | toPrettyJson }}{{ .Values.revision }}"},
                        dumps={"templates/debug.yaml": "prints the values, changes nothing"})
    assert whole == {("clusterName",), ("x",), ("revision",)}


def test_a_node_merged_over_the_charts_own_values_is_an_alias():
    """istio 1.30.3 istio-discovery templates/zzy_descope_legacy.yaml: `pilot.x` is read wherever `x` is."""
    found = chart_reads([ChartFiles({"name": "istiod"}, {
        "templates/zzy.yaml": '{{- $_ := mustMergeOverwrite $.Values (index $.Values "pilot") }}',
        "templates/zzz.yaml": '{{- $d := $.Values._internal }}'
                              '{{ $b := set $ "Values" (mustMergeOverwrite $d $.Values) }}{{ toYaml .Values.env }}'},
        (), "")])
    assert found.aliases == {(("pilot",), ()): "templates/zzy.yaml:1"}
    assert found.whole == {("env",): "templates/zzz.yaml:1"}


def test_the_whole_values_printed_outside_a_dump_is_recorded_as_the_empty_path():
    _, whole = reads({"templates/a.yaml": "{{ toYaml .Values }}"})
    assert () in whole


def test_pick_set_list_and_index_of_a_list_follow_their_nodes():
    read, whole = reads({"templates/_h.tpl": '{{ define "port" }}{{ index . 1 }}{{ end }}',
                         "templates/a.yaml": '{{ $v := pick .Values "global" "rev" }}{{ $v = set $v "p" .Values.cni }}'
                                             "{{ $v | toJson }}"
                                             '{{ include "port" (list . .Values.svc.port) }}'})
    assert whole == {("global",), ("rev",), ("cni",), ("svc", "port")}


def test_parse_reads_trim_markers_comments_and_else_branches():
    nodes = parse('{{- /* a } comment */ -}}{{- if .Values.a -}}x{{- else if .Values.b }}y{{ else }}'
                  '{{ "}}" }}{{- end }}')
    assert [n.keyword for n in nodes] == ["if"] and [b.keyword for b in nodes[0].branches] == ["else if", "else"]
    with pytest.raises(ValueError, match="without end"):
        parse("{{ if .Values.a }}")


def test_is_read_counts_the_path_below_it_and_a_whole_node_above_it():
    document = reads_document(chart_reads([ChartFiles({"name": "c"}, {"templates/a.yaml":
                              "{{ if .Values.a.b.c }}{{ end }}{{ toYaml .Values.m }}"}, (), "")]), {})
    written = json.loads(dumps_document(document))
    assert [r["path"] for r in written["paths"]] == [["a", "b", "c"], ["m"]]  # prefixes and what is under m implied
    touched = frozenset(tuple(r["path"])[:i] for r in written["paths"] for i in range(len(r["path"]) + 1))
    whole = frozenset(tuple(r["path"]) for r in written["paths"] if r["how"] == "whole")
    assert is_read(("a", "b"), touched, whole) and is_read(("a", "b", "c"), touched, whole)
    assert is_read(("m", "llm-platform/pool"), touched, whole)
    assert not is_read(("a", "x"), touched, whole) and not is_read(("a", "b", "c", "d"), touched, whole)


VALUES_CHAIN = re.compile(r"\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


@pytest.mark.parametrize("chart", sorted({c.upstream_dir for c in ALL_CHARTS
                                          if (UPSTREAM / "charts" / c.upstream_dir / "templates").is_dir()}))
def test_the_vendored_templates_read_what_a_search_finds_and_the_charts_data_holds_it(chart):
    """On the pinned charts' own text (the templates vendored verbatim, tests/upstream/SOURCES.md): every `.Values`
    chain a plain search finds is read, and every path the extractor reads in them is in the chart's
    values-read.json (extracted from the whole template tree at the same commit)."""
    chart_dir = UPSTREAM / "charts" / chart
    touched, whole, _ = values_read(chart_dir)
    files = sorted(p for p in (chart_dir / "templates").rglob("*.yaml") if not p.name.startswith("_"))
    assert files
    for path in files:
        text = path.read_text()
        found = chart_reads([ChartFiles({"name": chart}, {f"templates/{path.name}": text}, (), "")])
        extracted = {*found.read, *found.whole}
        covered = {p[:i] for p in extracted for i in range(len(p) + 1)}
        searched = {tuple(m.group(1).split(".")[1:]) for m in VALUES_CHAIN.finditer(re.sub(r"/\*.*?\*/", "", text,
                                                                                             flags=re.S))}
        assert {".".join(p) for p in searched if p not in covered
                and not any(p[:i] in found.whole for i in range(len(p)))} == set(), path.name
        assert {".".join(p) for p in found.read if not is_read(p, touched, whole)} == set(), path.name
        assert {".".join(p) for p in found.whole
                if not any(p[:i] in whole for i in range(len(p) + 1))} == set(), path.name


def test_a_missing_clone_or_commit_is_named_with_the_way_out(tmp_path):
    """The extraction reads the charts' repositories from a folder of git clones: one missing said "fetch
    github:kedacore/charts first" (a tool of the machine that made the data), a clone without the pinned commit
    ended in a git traceback."""
    import subprocess

    from offline.maintenance.helm_reads import main
    with pytest.raises(SystemExit) as missing:
        main(["--mirror", str(tmp_path), "--chart", "keda"])
    clone = tmp_path / "kedacore+charts" / "repo"
    assert str(missing.value) == (f"{clone} is missing: clone kedacore/charts there (git clone --bare "
                                  f"https://github.com/kedacore/charts {clone}), or name the folder that holds the "
                                  "clones with --mirror")
    subprocess.run(["git", "init", "-q", "--bare", str(clone)], check=True)
    with pytest.raises(SystemExit) as no_commit:
        main(["--mirror", str(tmp_path), "--chart", "keda"])
    commit = json.loads((UPSTREAM / "charts" / "keda" / "values-read.json").read_text())["sources"][0]["commit"]
    assert f"the commit SOURCES.md names for kedacore/charts must be in that clone (git --git-dir {clone} fetch " \
           f"origin {commit})" in str(no_commit.value), str(no_commit.value)
