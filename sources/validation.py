"""Validation at the door: every row a connector, CSV file or webhook delivers is checked here
before it is stored, and anything that cannot be stored faithfully becomes a dead letter.

A row is stored only when its date is a day of the window, its measure is named, its value is a
finite number inside the storage column's range and the measure's sanity range, and its text
fields fit their columns and hold no NUL or unpaired surrogate (PostgreSQL refuses NUL in text;
a lone surrogate cannot be encoded as UTF-8 at all). Rows that say different things about the
same day, channel, campaign and measure are all refused, naming each other; an exact repeat is
one row. Everything is vectorised: a 100,000-row file is checked in well under a second.
"""

import datetime as dt
import math
import re
from decimal import Decimal
from itertools import compress

import numpy as np
import pandas as pd

from sources.connectors.base import Rejected

# Measure.value is numeric(20, 6): |value| < 10^14.
STORAGE_LIMIT = 10**14
# Money (and any measure we know nothing about) within ±10^12 of the account currency: a
# larger daily number is a unit mistake (micros, cents) or an attack, never a real day.
MONEY_LIMIT = 10**12
MONEY = {"spend", "revenue"}
# Counts are whole numbers ≥ 0; these are documented as fractional counts: Google Ads
# `metrics.conversions` is a double under data-driven attribution
# (https://developers.google.com/google-ads/api/fields/v22/metrics#conversions), GA4's
# `keyEvents` is TYPE_FLOAT (https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema).
COUNTS = {"clicks", "impressions", "sessions", "leads", "qualified_leads", "customers"}
COUNTS |= {"new_customers", "contacts", "deals", "orders", "signups", "trials"}
FRACTIONAL_COUNTS = {"conversions", "key_events"}
# The storage columns of the text a row carries (sources.models: Channel.key is a slug of the
# name of at most 64 characters, Campaign.external_id and Measure.campaign 64, Campaign.name
# 255, Measure.name 40).
TEXT_LIMITS = {"channel": 64, "campaign": 64, "campaign_name": 255, "measure": 40}
NEGATIVE_SPEND = "negative spend"
SPEND_MEASURES = {"spend"}
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
KEY = ["date", "channel", "campaign", "measure"]


def validate(
    frame: pd.DataFrame, *, since: dt.date, until: dt.date, measures: list[str]
) -> tuple[pd.DataFrame, list[Rejected]]:
    """Pure: split a batch into storable rows and rejects with a reason each.

    Never raises on the rows' contents. Rows of measures the source does not keep are
    dropped, not rejected. Negative spend is rejected (and reported by the checks). An
    optional `line` column (the file's line) becomes the dead letter's line; an optional
    `record` column (a webhook event id) stays in its raw record. The good rows come back
    with BATCH_COLUMNS, dates as dates and values as finite floats.
    """
    frame = frame.reset_index(drop=True)
    if measures:
        frame = frame[frame["measure"].isin(measures)].reset_index(drop=True)
    values = _numbers(frame["value"])
    dates = pd.Series([_day(v) for v in frame["date"].tolist()], index=frame.index, dtype=object)
    reasons = _reasons(frame, values=values, dates=dates, since=since, until=until)
    ok = (reasons == "").to_numpy()
    keys = _keys(frame, dates=dates, ok=ok)
    repeated = _repeats(frame, dates=dates, keys=keys, ok=ok)
    if repeated:  # the usual batch has no key twice, so no clash and no repeat
        reasons = _conflicts(frame, values=values, keys=keys, ok=ok, reasons=reasons)
    bad = reasons != ""
    refused = frame[bad]
    lines = refused["line"].map(_line) if "line" in refused else [None] * len(refused)
    rejected = [
        Rejected(raw=raw, reason=reason, line=line)
        for raw, reason, line in zip(_raws(refused), reasons[bad], lines, strict=True)
    ]
    good = frame[~bad].copy()
    good["value"] = values[~bad]
    good["date"] = dates[~bad]
    if repeated:
        good = good.drop_duplicates(subset=KEY, keep="first")
    extra = [column for column in ("line", "record") if column in good]
    return (good.drop(columns=extra) if extra else good), rejected


def value_problems(measures: pd.Series, values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Pure, vectorised: (why each value of its measure cannot be stored, '' when it can;
    the values as floats). Never raises."""
    numbers = _numbers(values)
    return _value_reasons(measures.reset_index(drop=True), values, numbers), numbers


def text_problem(text) -> str:
    """Why a text cannot be stored (NUL or unpaired surrogate), '' when it can."""
    if isinstance(text, str) and BAD_TEXT.search(text):
        return "contains a NUL character or an unpaired surrogate"
    return ""


def safe_raw(value):
    """A raw record made storable as JSON on any database: NUL and lone surrogates spelled out
    as escapes, numbers that JSON cannot carry (inf, NaN) as text, anything else as text."""
    if isinstance(value, dict):
        return {str(safe_raw(k)): safe_raw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe_raw(v) for v in value]
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    if value is pd.NaT:
        return None
    return safe_raw(str(value))


def _numbers(values: pd.Series) -> np.ndarray:
    """Floats (NaN where not a number). Text such as '1e999' or 'Infinity' becomes ±inf, a
    too-large integer inf, so the finiteness check sees it."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)  # already numbers: no parsing
    as_text = pd.Series(
        [_number_text(v) for v in values.tolist()], index=values.index, dtype=object
    )
    numbers = pd.to_numeric(as_text, errors="coerce")
    return np.asarray(numbers, dtype=float)


def _number_text(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        try:
            return float(value)
        except (OverflowError, ValueError):
            return (math.inf if value > 0 else -math.inf) if isinstance(value, int) else None
    if isinstance(value, str):
        text = value.strip()
        return text if len(text) <= 100 else None
    return None


def _day(value) -> dt.date | None:
    """The day a date field names, None when it names none (never raises)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or len(value) > 40 or BAD_TEXT.search(value):
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _reasons(frame, *, values, dates, since, until) -> pd.Series:
    reasons = pd.Series("", index=frame.index, dtype=object)
    measure = frame["measure"]
    for column, limit in TEXT_LIMITS.items():
        if column in frame:
            _mark(
                reasons, _too_long(frame[column], limit), f"{column} longer than {limit} characters"
            )
            _mark(
                reasons,
                _bad_text(frame[column]),
                f"{column} contains a NUL character or an unpaired surrogate",
            )
    value_reasons = _value_reasons(measure, frame["value"], values)
    given = value_reasons != ""
    if given.any():
        reasons[given] = value_reasons[given]
    _mark(reasons, measure.isna() | (measure.astype(str) == ""), "no measure name")
    _mark(reasons, dates.isna(), "date is not a date")
    outside = pd.Series(
        [d is not None and not since <= d <= until for d in dates.tolist()],
        index=dates.index,
        dtype=bool,
    )
    _mark(reasons, outside, f"date outside the window {since}..{until}")
    return reasons


def _value_reasons(measure: pd.Series, raw: pd.Series, values: np.ndarray) -> pd.Series:
    reasons = pd.Series("", index=measure.index, dtype=object)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        money, counts = _one_of(measure, MONEY), _one_of(measure, COUNTS)
        fractional = _one_of(measure, FRACTIONAL_COUNTS)
        magnitude = np.abs(np.where(finite, values, 0))
        whole = np.where(finite, values, 0) == np.round(np.where(finite, values, 0))
        negative = finite & (values < 0)
    _mark(
        reasons,
        finite & ~(money | counts | fractional) & (magnitude > MONEY_LIMIT),
        f"value outside ±{MONEY_LIMIT:.0e}",
    )
    _mark(
        reasons,
        finite & money & (magnitude > MONEY_LIMIT),
        f"money outside ±{MONEY_LIMIT:.0e}: a unit mistake?",
    )
    _mark(
        reasons,
        finite & (counts | fractional) & (magnitude > MONEY_LIMIT),
        f"count above {MONEY_LIMIT:.0e}",
    )
    _mark(reasons, finite & fractional & negative, "a count cannot be negative")
    _mark(reasons, finite & counts & (negative | ~whole), "a count is a whole number ≥ 0")
    _mark(reasons, _one_of(measure, SPEND_MEASURES) & negative, NEGATIVE_SPEND)
    _mark(reasons, finite & (magnitude >= STORAGE_LIMIT), "value outside the storage range ±1e14")
    _mark(reasons, ~finite & ~np.isnan(values), "value is not finite")
    _mark(reasons, np.isnan(values), "value is not a number")
    return reasons


def _mark(reasons: pd.Series, where, reason: str) -> None:
    """reasons[where] = reason, skipped where no row is marked: a masked assignment costs
    a pull milliseconds even when it marks nothing, and nearly every row is good."""
    if np.any(where):
        reasons[where] = reason


def _one_of(column: pd.Series, names: set[str]) -> np.ndarray:
    return _flag(column, lambda v: isinstance(v, str) and v in names)


def _too_long(column: pd.Series, limit: int) -> np.ndarray:
    return _flag(column, lambda v: _present(v) and len(v if isinstance(v, str) else str(v)) > limit)


def _present(value) -> bool:
    return not (
        value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))
    )


def _bad_text(column: pd.Series) -> np.ndarray:
    return _flag(column, lambda v: isinstance(v, str) and BAD_TEXT.search(v) is not None)


def _flag(column: pd.Series, test) -> np.ndarray:
    """test() of each value, computed once per distinct value (names repeat on every row)."""
    try:
        distinct = pd.unique(column)
    except TypeError:  # unhashable values (a list where a name belongs): one by one
        return np.array([test(v) for v in column.tolist()], dtype=bool)
    flagged = [v for v in distinct if test(v)]
    return column.isin(flagged).to_numpy() if flagged else np.zeros(len(column), dtype=bool)


def as_text(column: pd.Series) -> list[str]:
    """The column as text, '' where it is missing: how a channel or campaign name is keyed."""
    missing = pd.isna(column.to_numpy(dtype=object))
    return ["" if gone else str(v) for v, gone in zip(column.tolist(), missing, strict=True)]


def _keys(frame, *, dates, ok) -> dict[str, list]:
    """KEY of each row still good (`ok`), channel and campaign as text, as they are stored."""
    return {
        "date": list(compress(dates.tolist(), ok)),
        "channel": list(compress(as_text(frame["channel"]), ok)),
        "campaign": list(compress(as_text(frame["campaign"]), ok)),
        "measure": [str(m) for m in compress(frame["measure"].tolist(), ok)],
    }


def _repeats(frame, *, dates, keys, ok) -> bool:
    """Whether a key comes twice among the good rows: as text (a clash, or an exact repeat)
    or as values pandas takes for equal (campaign 1 and 1.0, missing as None and NaN)."""
    if len(set(zip(*keys.values(), strict=True))) < ok.sum():
        return True
    columns = [frame[column] for column in KEY[1:]]
    if all(pd.api.types.infer_dtype(c, skipna=True) in ("string", "empty") for c in columns):
        return False  # text only: equal values read the same
    raw = [dates.tolist()] + [
        [None if gone else v for v, gone in zip(values, pd.isna(values), strict=True)]
        for values in (column.to_numpy(dtype=object) for column in columns)
    ]
    return len(set(compress(zip(*raw, strict=True), ok))) < ok.sum()


def _conflicts(frame, *, values, keys, ok, reasons) -> pd.Series:
    """Rows otherwise good (`ok`, their `keys`) that give different values for one key: all
    refused, each naming the others' lines (or record numbers, counted from 1, when the
    source has no lines)."""
    keys = pd.DataFrame({**keys, "value": np.round(values[ok], 6)}, index=frame.index[ok])
    distinct = keys.groupby(KEY, sort=False)["value"].transform("nunique")
    clashing = keys[distinct > 1]
    if clashing.empty:
        return reasons
    lines = frame["line"] if "line" in frame else pd.Series(frame.index + 1, index=frame.index)
    label = "lines" if "line" in frame else "records"
    group = clashing.groupby(KEY, sort=False).ngroup()
    joined = lines[clashing.index].astype(str).groupby(group).agg(", ".join)
    where = group.map(joined)
    reasons = reasons.copy()
    reasons[where.index] = f"conflicting duplicate: {label} " + where + " give different values"
    return reasons


def _raws(frame: pd.DataFrame) -> list[dict]:
    """The rows as the source sent them, NaN as None and dates as ISO text (safe_raw makes
    them storable when they are recorded)."""
    if frame.empty:  # the usual case: converting no rows still cost a pull milliseconds
        return []
    frame = frame.drop(columns="line", errors="ignore").astype(object)
    if "date" in frame:
        frame["date"] = frame["date"].map(_plain_date)
    return frame.where(frame.notna(), None).to_dict("records")


def _plain_date(value):
    return value.isoformat()[:10] if isinstance(value, dt.date | pd.Timestamp) else value


def _line(value) -> int | None:
    try:
        line = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return line if 0 < line < 2**31 else None
