"""Python runs this at start-up in every plugin process the stand-in engine starts (offline/plugin_host.py puts this
folder first on their PYTHONPATH); the plugin's command line, protocol and answers are the CLI's.

A plugin serving Construct or Analyze allocates millions of short-lived objects; with the collector's default
threshold (a collection every 700 net allocations) a third of its CPU went to collections walking the same
long-lived SDK objects again and again. Ten thousand between young collections: the same garbage is still freed."""
import gc

gc.set_threshold(10_000, 10, 10)
