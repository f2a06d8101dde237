"""This project's own `components` package: a consumer may have one; llmplatform must not need the name."""
from llmplatform import NodePoolSpec


def pool(name: str, vm_size: str, low: int, high: int) -> NodePoolSpec:
    return {"name": name, "vm_size": vm_size, "min_count": low, "max_count": high}
