"""Reading HotelRunner-style parameters (query or form, arrays as `name[]=`) with the same
refusals HotelRunner gives: 400 for a missing parameter, 422 for a value it cannot use."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

from hotelrunner_mcp.sandbox.errors import invalid, missing

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_date(name: str, value: object) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise invalid(f"'{name}' must be a date as YYYY-MM-DD, got {str(value)[:40]!r}.") from None


def parse_int(name: str, value: object, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Whole numbers, sent as text or JSON numbers (a JSON 2.0 is accepted, 2.5 and true are not)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise invalid(f"'{name}' must be a whole number, got {value!r}.")
    try:
        number = int(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise invalid(f"'{name}' must be a whole number, got {str(value)[:40]!r}.") from None
    if minimum is not None and number < minimum:
        raise invalid(f"'{name}' must be at least {minimum}, got {number}.")
    if maximum is not None and number > maximum:
        raise invalid(f"'{name}' must be at most {maximum}, got {number}.")
    return number


def parse_flag(name: str, value: object) -> int:
    """0/1 flags (stop_sale, cta, ctd); JSON booleans and true/false are accepted too."""
    text = str(value).strip().lower()
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    raise invalid(f"'{name}' must be 0 or 1, got {str(value)[:40]!r}.")


def parse_price(name: str, value: object) -> Decimal:
    if isinstance(value, bool):
        raise invalid(f"'{name}' must be a number, got {value!r}.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise invalid(f"'{name}' must be a number, got {str(value)[:40]!r}.") from None
    if not number.is_finite() or number <= 0:
        raise invalid(f"'{name}' must be a positive amount, got {value!r}.")
    if number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise invalid(f"'{name}' has more than two decimals: {value!r}.")
    return number


class Params:
    """The parameters of one request: query and form merged, keys as sent."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items: dict[str, list[str]] = {}
        for key, value in items:
            self._items.setdefault(key, []).append(value)

    def get(self, name: str) -> str | None:
        values = self._items.get(name)
        return values[-1] if values else None

    def has(self, name: str) -> bool:
        return self.get(name) not in (None, "")

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None or value == "":
            raise missing(name)
        return value

    def list(self, name: str) -> list[str] | None:
        """`name[]=a&name[]=b` (also `name=a,b`); None when not sent."""
        if f"{name}[]" in self._items:
            return [v for v in self._items[f"{name}[]"] if v != ""]
        if name in self._items:
            return [part for v in self._items[name] for part in v.split(",") if part != ""]
        return None

    def redacted(self, secrets: tuple[str, ...] = ("token", "hr_id")) -> dict[str, str | builtins.list[str]]:
        """For the request log: every parameter except the credentials; repeated keys as lists."""
        return {k: (v[0] if len(v) == 1 else list(v)) for k, v in self._items.items() if k not in secrets}
