"""plan_diff's command line on two plan documents, as the offline workflow runs it (shared by its test files)."""
import contextlib
import copy
import io
import json
from pathlib import Path

from offline import plan, plan_diff


def plan_document(p) -> dict:
    """A plan's resources.json as the check reads it, by URN."""
    return plan_diff.resources_by_urn(plan.resources_document(p))


def without_property_dependencies(doc: dict) -> dict:
    """The plan as a kit before `propertyDependencies` wrote it (0.21.0 and before): the same resources less the
    field."""
    out = copy.deepcopy(doc)
    for resource in out.values():
        resource.pop("propertyDependencies")
    return out


def check(tmp_path: Path, base: dict, new: dict, *args: str) -> tuple[int, str]:
    """plan_diff's main on two plan folders written from the documents: (exit code, what it printed)."""
    folders = []
    for name, doc in (("base", base), ("new", new)):
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        (folder / "resources.json").write_text(json.dumps({"resources": list(doc.values())}))
        folders.append(str(folder))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = plan_diff.main([*folders, *args])
    return code, out.getvalue()
