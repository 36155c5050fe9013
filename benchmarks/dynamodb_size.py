"""DynamoDB item sizes and the request units a read or write of them consumes, by DynamoDB's published rules.

Sizes follow the DynamoDB Developer Guide ("Item sizes and formats"). An item is the sum of
its attribute names and values. A string is its UTF-8 length, and a number about one byte
per two significant digits plus one. A map or a list is 3 bytes plus, for each element, one
byte and the element's size. Request units (on-demand and provisioned alike): a strongly consistent read takes
one unit per 4 KB of the items read, summed over a query and rounded up; a write takes one
unit per 1 KB of the item, rounded up.
"""

import math
from typing import Iterable

READ_UNIT_BYTES = 4 * 1024
WRITE_UNIT_BYTES = 1024


def value_size(value: dict) -> int:
    """Return the size in bytes of one attribute value in the low-level form (``{"S": "..."}``)."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode("utf-8"))
    if kind == "N":
        digits = content.lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(name.encode("utf-8")) + value_size(element) + 1 for name, element in content.items())
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in content)
    if kind in ("SS", "NS", "BS"):
        single = kind[0]
        return sum(value_size({single: element}) for element in content)
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def item_size(item: dict) -> int:
    """Return the size in bytes of an item in the low-level form, names included."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def read_units(item_sizes: Iterable[int], consistent: bool = True) -> float:
    """Return the read request units of one query or get that read items of these sizes.

    A read that finds nothing still consumes the minimum of one 4 KB unit.
    """
    units = max(1, math.ceil(sum(item_sizes) / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def write_units(size: int) -> int:
    """Return the write request units of a standard (non-transactional) write of an item of ``size`` bytes."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))
