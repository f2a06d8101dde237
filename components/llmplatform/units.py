"""Byte units, one definition each: GiB (what Kubernetes, the share's quota and the GPU catalog count) against the
decimal MB and GB that transfer rates, Hugging Face and ollama.com give; and sizes written for a message."""
import math

BYTES_PER_GIB = 1024 ** 3
MB_PER_GIB = BYTES_PER_GIB / 1e6
GB_PER_GIB = BYTES_PER_GIB / 1e9
MB_PER_MIB = 1024 ** 2 / 1e6
MIB_PER_GIB = 1024


def need_text(gib: float, places: int = 2) -> str:
    """A size something needs, for a message: rounded up to `places` decimals (10.001 GiB reads '10.01 GiB')."""
    return _gib_text(math.ceil(round(gib * 10 ** places, 6)) / 10 ** places, places)


def room_text(gib: float, places: int = 2) -> str:
    """Room something has, for a message: rounded down to `places` decimals (72.009 GiB reads '72 GiB')."""
    return _gib_text(math.floor(round(gib * 10 ** places, 6)) / 10 ** places, places)


def fit_texts(need_gib: float, room_gib: float) -> tuple[str, str]:
    """A need and a room that it does not fit, for one message: the need rounded up, the room down, in as many
    decimals as tell them apart, so a refusal never reads '60.0 GiB does not fit in 60.0 GiB'. Two that 9 decimals
    do not tell apart (a need a few float steps over a room under ~2 GiB: '1 GiB' and '1 GiB') are written in the
    shortest digits that give each back exactly, which differ for any two numbers."""
    for places in range(2, 10):
        need, room = need_text(need_gib, places), room_text(room_gib, places)
        if need != room:
            return need, room
    return _exact_text(need_gib), _exact_text(room_gib)


def _exact_text(gib: float) -> str:
    text = repr(float(gib))
    return (text[:-2] if text.endswith(".0") else text) + " GiB"


def _gib_text(gib: float, places: int) -> str:
    return f"{gib:.{places}f}".rstrip("0").rstrip(".") + " GiB"
