"""Python runs this at start-up in every plugin process the stand-in engine starts (offline/plugin_host.py puts this
folder first on their PYTHONPATH); the plugin's command line, protocol and answers are the CLI's.

A plugin serving Construct or Analyze allocates millions of short-lived objects; with the collector's default
threshold (a collection every 700 net allocations) a third of its CPU went to collections walking the same
long-lived SDK objects again and again. Ten thousand between young collections: the same garbage is still freed.

The stand-in engine's resource monitor takes alias specs (its answers are the mock monitor's, which lists the
feature), so the SDK never reads the alias URNs it builds for every resource it constructs (`Resource._aliases`): a
plugin skips them as `llmplatform.testing` does in-process (its `_no_unread_sdk_work` says why, and a test there shows
the monitor receives the same aliases either way). In a plugin without the Pulumi SDK nothing is changed."""
import gc

gc.set_threshold(10_000, 10, 10)

try:
    from pulumi import resource as _sdk_resource
except ImportError:
    pass
else:
    if hasattr(_sdk_resource, "collapse_alias_to_urn"):
        _sdk_resource.collapse_alias_to_urn = lambda alias, *_: alias  # kept as given, never read
