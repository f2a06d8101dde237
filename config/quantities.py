"""Kubernetes resource quantities ("500m", "2", "4Gi") as numbers, so config can compare requests and limits, and as
the API server stores them: the component package's parser (one reading of a quantity for both layers)."""
from llmplatform.rules import canonical_quantity, parse_quantity  # noqa: F401
