"""This project's own `components` package: a consumer may have one; llmplatform must not need the name."""


def pool(name: str, vm_size: str, low: int, high: int) -> dict:
    return {"name": name, "vm_size": vm_size, "min_count": low, "max_count": high}
