"""One scalar of a stack file as go-yaml v3.0.1, the Pulumi CLI's YAML library, reads it (resolve.go `resolve` and
`parseTimestamp`, decode.go `scalar`), and Go's text of a date it decoded, which the Pulumi CLI hands the program.

Used by the stack-file reader (config/stack_yaml.py) for every plain scalar and every scalar with a standard tag
(`!!int`, `!!float`, `!!bool`, `!!null`, `!!str`, `!!timestamp`, `!!binary`), and by the program's own config read
(config/runtime.py), which under `pulumi up` sees only the Go text of an unquoted date."""
import base64
import binascii
import calendar
import math
import re
from decimal import Decimal
from typing import Any, Optional

STR, INT, FLOAT, BOOL, NULL, TIMESTAMP = "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp"
_RESOLVABLE = ("", STR, BOOL, INT, FLOAT, NULL, TIMESTAMP)  # resolve.go resolvableTag (!!binary is decode.go's)

# resolve.go's resolveMap (`<<` is the parser's merge key, never looked up: `<` has no hint)
_WORDS: dict[str, tuple[str, Any]] = {
    **{w: (BOOL, True) for w in ("true", "True", "TRUE")}, **{w: (BOOL, False) for w in ("false", "False", "FALSE")},
    **{w: (NULL, None) for w in ("", "~", "null", "Null", "NULL")},
    **{w: (FLOAT, math.nan) for w in (".nan", ".NaN", ".NAN")},
    **{s + w: (FLOAT, math.inf) for s in ("", "+") for w in (".inf", ".Inf", ".INF")},
    **{"-" + w: (FLOAT, -math.inf) for w in (".inf", ".Inf", ".INF")}}
# resolve.go resolveTable: the first character's hint (no hint: a string, the map not even looked at)
_HINTS = {**{c: "S" for c in "+-"}, **{c: "D" for c in "0123456789"}, **{c: "M" for c in "yYnNtTfFoO~"}, ".": "."}

# strconv.ParseFloat of text starting with '.': Go's float literal, `_` only between two digits (atof.go readFloat,
# atoi.go underscoreOK)
_DOT_FLOAT = re.compile(r"\.[0-9](?:_?[0-9])*(?:[eE][-+]?[0-9](?:_?[0-9])*)?")
# strconv.ParseInt/ParseUint(plain, 0, 64): a sign (ParseInt only), then 0x/0X, 0b/0B, 0o/0O, a leading 0 (octal)
_GO_INT = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|0[oO]([0-7]+)|0([0-7]*)|([1-9][0-9]*))")
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")  # resolve.go's

# parseTimestamp's time.Parse layouts, field by field as time/format.go `parse` reads them (getnum: one or two
# digits; skip: a run of spaces for the layout's one; a fraction after the seconds with `.` or `,`; "Z07:00": `Z` or
# +hh:mm): 2006-1-2T15:4:5.999999999Z07:00, the same with `t`, 2006-1-2 15:4:5.999999999, 2006-1-2
def _clock(n: int) -> str:
    return rf"(?P<h{n}>[0-9]{{1,2}}):(?P<mi{n}>[0-9]{{1,2}}):(?P<s{n}>[0-9]{{1,2}})(?:[.,](?P<frac{n}>[0-9]+))?"


_TIMESTAMP = re.compile(rf"(?P<y>[0-9]{{4}})-(?P<mo>[0-9]{{1,2}})-(?P<d>[0-9]{{1,2}})(?:[Tt]{_clock(1)}"
                        rf"(?P<zone>Z|(?P<sign>[+-])(?P<zh>[0-9]{{2}}):(?P<zm>[0-9]{{2}}))| +{_clock(2)})?")


class GoRefusal(Exception):
    """What go-yaml refuses to decode (the Pulumi CLI stops with its error), or decodes into something other than
    what is written; str() is the reason."""


class GoTime(str):
    """An unquoted date or time go-yaml decodes into a time.Time: the text as written; `go_text` is what the Pulumi
    CLI hands the program."""
    go_text: str


def resolve(tag: str, text: str) -> tuple[str, Any]:
    """resolve.go `resolve(tag, in)`: the tag and value go-yaml gives a scalar, `tag` its explicit short tag or "".
    Raises GoRefusal where go-yaml fails ("cannot decode !!str `abc` as a !!int"). A tag that is not resolvable (a
    custom one) keeps the text, as there."""
    if tag not in _RESOLVABLE:
        return tag, text
    rtag, value = _resolved(tag, text)
    if tag in ("", rtag, STR):
        return rtag, value
    if tag == FLOAT and rtag == INT and -2 ** 63 <= value < 2 ** 63:  # an int or int64, not a uint64
        return FLOAT, float(value)
    raise GoRefusal(f"cannot decode {rtag} `{text}` as a {tag}")


def _resolved(tag: str, text: str) -> tuple[str, Any]:
    hint = _HINTS.get(text[0]) if text else "N"
    if hint is None or tag == STR:
        return STR, text
    if text in _WORDS:
        return _WORDS[text]
    if hint == ".":
        fraction = float(text.replace("_", "")) if _DOT_FLOAT.fullmatch(text) else math.inf
        if not math.isinf(fraction):  # ParseFloat's range error: the text stays text
            return FLOAT, fraction
    elif hint in "DS":
        time = timestamp(text) if tag in ("", TIMESTAMP) else None  # tried first, as there
        if time is not None:
            return TIMESTAMP, time
        number = _number(text.replace("_", ""))
        if number is not None:
            return (FLOAT if isinstance(number, float) else INT), number
    return STR, text


def _number(plain: str) -> Optional[int | float]:
    """ParseInt(plain, 0, 64), ParseUint, then a float of YAML's form that ParseFloat takes (`08` is 8.0; 1e999 is
    out of range: None); resolve.go's later 0b/0o branches add nothing ParseInt's base 0 has not read."""
    whole = _GO_INT.fullmatch(plain)
    if whole:
        sign, hexadecimal, binary, octal, old_octal, decimal = whole.groups()
        base, digits = ((16, hexadecimal) if hexadecimal else (2, binary) if binary else (8, octal) if octal else
                        (10, decimal) if decimal else (8, old_octal or "0"))
        number = int(digits, base) * (-1 if sign == "-" else 1)
        if -2 ** 63 <= number < 2 ** 63 or not sign and number < 2 ** 64:
            return number
    if _YAML_STYLE_FLOAT.fullmatch(plain) and not math.isinf(float(plain)):
        return float(plain)
    return None


def timestamp(text: str) -> Optional[GoTime]:
    """resolve.go `parseTimestamp`: the date or time go-yaml decodes `text` into, or None (time.Parse refuses every
    layout: month 13, 30 February, hour 24, no seconds, a zone after a space)."""
    match = _TIMESTAMP.fullmatch(text)
    if not match or not _in_range(match):
        return None
    time = GoTime(text)
    time.go_text = _go_string(match)
    return time


def _in_range(match: re.Match) -> bool:
    year, month, day = int(match["y"]), int(match["mo"]), int(match["d"])
    if not (1 <= month <= 12 and 1 <= day <= _days_in(month, year)):
        return False
    hour, minute, second = _clock_of(match)
    return hour < 24 and minute < 60 and second < 60 and int(match["zh"] or 0) <= 24 and int(match["zm"] or 0) <= 60


def _clock_of(match: re.Match) -> tuple[int, int, int]:
    hour, minute, second = (match[f"{g}1"] or match[f"{g}2"] or 0 for g in ("h", "mi", "s"))
    return int(hour), int(minute), int(second)


def _days_in(month: int, year: int) -> int:
    """time.daysIn: year 0 is a leap year (Python's calendar starts at 1, its rule is the same)."""
    return 29 if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else \
        calendar.monthrange(2001, month)[1]


def _go_string(match: re.Match) -> str:
    """What the Pulumi CLI hands the program: Go's time.Time String() ("2006-01-02 15:04:05.999999999 -0700 MST") of
    the time its second reading decodes from the first one's RFC 3339 text (config/object.go `unmarshalObject`;
    go-yaml encode.go `timev`). No zone or a zero offset is UTC; another offset is the machine's local zone when
    that has the offset then (its abbreviation, such as CET), else a zone with no name, written as the offset."""
    clock = _clock_of(match)
    frac = (match["frac1"] or match["frac2"] or "")[:9].rstrip("0")  # parseNanoseconds: nine digits at most
    text = (f"{match['y']}-{int(match['mo']):02d}-{int(match['d']):02d} "
            f"{clock[0]:02d}:{clock[1]:02d}:{clock[2]:02d}" + (f".{frac}" if frac else ""))
    offset = int(match["zh"] or 0) * 60 + int(match["zm"] or 0)
    if not offset:
        return f"{text} +0000 UTC"
    zone = f"{match['sign']}{offset // 60:02d}{offset % 60:02d}"
    return f"{text} {zone} {zone}"


# Go's time.Time String() of a time go-yaml decoded, as the program receives it under `pulumi up`: the date and
# clock two digits a field, a fraction without trailing zeros, the offset, and the zone's name: UTC, the local
# zone's abbreviation, or the offset again (golang/go src/time/format.go `String`, `appendFormat`, `appendNano`)
_GO_TIME_TEXT = re.compile(r"(?P<date>(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})) "
                           r"(?P<clock>(?P<h>[0-9]{2}):(?P<mi>[0-9]{2}):(?P<s>[0-9]{2})(?:\.[0-9]{0,8}[1-9])?) "
                           r"(?:(?P<utc>\+0000 UTC)|(?P<sign>[+-])(?P<zh>[0-9]{2})(?P<zm>[0-9]{2}) [^\s]+)")


def go_time_written(text: Any) -> Optional[str]:
    """When `text` is exactly Go's text of a date go-yaml decoded (what the Pulumi CLI hands the program for an
    unquoted date in a stack file), a way it was likely written (`2024-01-01`, `2024-01-01T10:30:00+01:00`); else
    None."""
    match = _GO_TIME_TEXT.fullmatch(text) if isinstance(text, str) else None
    if not match:
        return None
    year, month, day, hour, minute, second = (int(match[g]) for g in ("y", "mo", "d", "h", "mi", "s"))
    if not (1 <= month <= 12 and 1 <= day <= _days_in(month, year) and hour < 24 and minute < 60 and second < 60):
        return None
    if not match["utc"] and match["zh"] == match["zm"] == "00":  # offset 0 is written back as Z: always UTC
        return None
    if match["utc"] and match["clock"] == "00:00:00":
        return match["date"]
    zone = "Z" if match["utc"] else f"{match['sign']}{match['zh']}:{match['zm']}"
    return f"{match['date']}T{match['clock']}{zone}"


def go_time_problems(config: dict[str, Any]) -> list[str]:
    """Each place in a stack's config (keys as the program reads them) holding Go's text of a date, one refusal
    each: under `pulumi up` the program is handed that text for a date the stack file holds unquoted."""
    return [f"{path if where == 'value' else f'a key of {path}'} is {text!r}, Go's text of a date: the stack file "
            f"holds the date unquoted ({written}, say), which the Pulumi CLI reads as a time.Time and hands the "
            f"program as that text, not as written: {quote_advice(written)}"
            for key, value in config.items() for path, where, text, written in _go_times(value, key)]


def _go_times(value: Any, here: str) -> list[tuple[str, str, str, str]]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            written = go_time_written(key)
            found += [(here, "key", key, written)] if written else []
            found += _go_times(item, f"{here}.{key}")
    elif isinstance(value, list):
        found = [hit for index, item in enumerate(value) for hit in _go_times(item, f"{here}[{index}]")]
    else:
        written = go_time_written(value)
        found = [(here, "value", value, written)] if written else []
    return found


def quote_advice(written: str) -> str:
    """The advice every refusal of an unquoted date ends with."""
    return f"quote it, '{written}', for the text"


def binary_text(text: str) -> str:
    """A `!!binary` scalar as go-yaml decodes it (decode.go `scalar`: base64.StdEncoding, which skips line breaks) and
    the CLI hands it over: text, when the bytes are UTF-8; else GoRefusal."""
    try:
        data = base64.b64decode(re.sub(r"[\r\n]", "", text), validate=True)
    except (binascii.Error, ValueError):
        raise GoRefusal("!!binary value contains invalid base64 data") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise GoRefusal("a !!binary value whose bytes are not UTF-8 text, which a config value cannot carry: write "
                        "the text itself") from None


def go_float_text(number: float) -> str:
    """Go's `%v` of a float64 (strconv `'g'`, shortest digits: an exponent below -4 or from 6 up is written as
    `1e+06`, at least two exponent digits; `+Inf`, `-Inf`, `NaN`)."""
    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "+Inf" if number > 0 else "-Inf"
    sign, digits, exponent = Decimal(repr(number)).normalize().as_tuple()
    text, point = "".join(map(str, digits)), len(digits) + int(exponent)  # point: digits before the decimal point
    minus = "-" if sign else ""
    if text == "0":
        return f"{minus}0"
    power = point - 1
    if power < -4 or power >= 6:
        mantissa = text[0] + (f".{text[1:]}" if len(text) > 1 else "")
        return f"{minus}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{text}"
    whole = text[:point].ljust(point, "0")
    return f"{minus}{whole}" + (f".{text[point:]}" if len(text) > point else "")


def top_level_number_text(number: float) -> str:
    """A float set directly under `config:` as the Pulumi CLI hands it to the program: its second reading of the
    file reads back what go-yaml's encoder wrote (encode.go `floatv`: strconv 'g', so a whole number under 1e6 is
    written without a point and read again as an integer: `1e3` is 1000, `-0.0` is 0), and a top-level value is the
    JSON of that (config/object.go `MarshalString`; encoding/json `floatEncoder`: 'f' from 1e-6 to 1e21, else 'e'
    with `e-07` written `e-7`). Python's JSON wrote `1000.0` and `1e-07`."""
    if number.is_integer() and abs(number) < 1e6:
        return str(int(number))
    if number != 0 and (abs(number) < 1e-6 or abs(number) >= 1e21):
        return re.sub(r"e-0([0-9])$", r"e-\1", repr(number))
    return format(Decimal(repr(number)).normalize(), "f")
