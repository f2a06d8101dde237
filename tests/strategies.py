"""Hypothesis strategies the test files share."""
from hypothesis import strategies as st

# Every code point but the surrogates: the characters of hypothesis' default `st.text()` alphabet
# (`characters(codec="utf-8")`, hypothesis 6.151.9 strategies/_internal/core.py `text`), which finds the codec's
# characters by encoding all 1.1 million code points in each process whose .hypothesis folder has no table of them
# yet (charmap.py `intervals_from_codec`, ~1 s of CPU): in a fresh clone's first run, once per xdist worker.
# Given as code point bounds and excluded characters, hypothesis asks for no table at all.
_SURROGATES = "".join(map(chr, range(0xD800, 0xE000)))
_UNICODE = st.characters(exclude_characters=_SURROGATES)


def unicode_text(**kwargs) -> st.SearchStrategy[str]:
    """`st.text(**kwargs)` over the default alphabet's characters (each one UTF-8 encodable)."""
    return st.text(alphabet=_UNICODE, **kwargs)
