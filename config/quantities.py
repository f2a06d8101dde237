"""Kubernetes resource quantities ("500m", "2", "4Gi") as numbers, so config can compare requests and limits."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Optional

_SUFFIX = {"": 1, "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50}
_PATTERN = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$")


def parse_quantity(text: str) -> Optional[Decimal]:
    """The quantity's value in base units (cores or bytes), or None when it is not a valid quantity."""
    match = _PATTERN.fullmatch(str(text).strip())
    if not match:
        return None
    try:
        return Decimal(match.group(1)) * Decimal(_SUFFIX[match.group(2) or ""])
    except InvalidOperation:
        return None
