"""Python runs this at start-up in every plugin process the stand-in engine starts (offline/plugin_host.py puts this
folder first on their PYTHONPATH); the plugin's command line, protocol and answers are the CLI's.

A plugin serving Construct or Analyze allocates millions of short-lived objects; with the collector's default
threshold (a collection every 700 net allocations) a third of its CPU went to collections walking the same
long-lived SDK objects again and again. Ten thousand between young collections: the same garbage is still freed.

The stand-in engine's resource monitor takes alias specs (its answers are the mock monitor's, which lists the
feature), so the SDK never reads the alias URNs it builds for every resource it constructs (`Resource._aliases`): a
plugin skips them as `llmplatform.testing` does in-process (its `_sdk_swapped` says why, and a test there shows
the monitor receives the same aliases either way). In a plugin without the Pulumi SDK nothing is changed."""
import gc
import importlib.abc
import importlib.util
import sys

gc.set_threshold(10_000, 10, 10)

try:
    from pulumi import resource as _sdk_resource
except ImportError:
    pass
else:
    if hasattr(_sdk_resource, "collapse_alias_to_urn"):
        _sdk_resource.collapse_alias_to_urn = lambda alias, *_: alias  # kept as given, never read


class _StandInApiServers(importlib.abc.MetaPathFinder):
    """Once a plugin imports `llmplatform.cluster_access`, its wait meets the kit's stand-in API servers with
    virtual time (llmplatform.testing.api_server.plugin_surroundings), as a program under the kit does, never the
    network: a component provider constructing an AksCluster outside a preview asks before its provider writes."""
    NAME = "llmplatform.cluster_access"

    def find_spec(self, name, path=None, target=None):
        if name != self.NAME:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            run = spec.loader.exec_module

            def exec_module(module):
                run(module)
                from llmplatform.testing.api_server import plugin_surroundings
                module.SURROUNDINGS = plugin_surroundings()
            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _StandInApiServers())
