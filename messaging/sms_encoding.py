"""How many SMS segments a text costs: GSM-7 when every character allows it, else UCS-2.

GSM 03.38 (3GPP TS 23.038) packs 160 septets in one SMS; its extension table
characters (`^ { } \\ [ ~ ] | €` and form feed) take an escape septet and so
count double. Any other character (Bengali, emoji, curly quotes) switches the
whole text to UCS-2: 70 UTF-16 code units, an emoji outside the BMP costing two.
A multipart SMS gives 7 septets (GSM-7) or 3 code units (UCS-2) of each part to
the concatenation header, leaving 153 or 67, and a part never splits an escape
sequence or a surrogate pair. The national language shift tables of TS 23.038
(Bengali has one) are left out: few carriers and gateways honour them, so
providers bill Bengali as UCS-2.
"""

from typing import NamedTuple

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# The default alphabet less ESC (0x1B), which only introduces the extension table.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}  # (a single SMS, each part of a multipart one)


class SmsSize(NamedTuple):
    encoding: str  # GSM7 or UCS2
    characters: int  # in the encoding's units: septets, or UTF-16 code units
    segments: int  # 0 for an empty text


def sms_segments(text: str) -> SmsSize:
    """The encoding, length in that encoding's units, and number of SMS segments of `text`."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        encoding, costs = GSM7, [2 if char in GSM7_EXTENSION else 1 for char in text]
    else:
        encoding, costs = UCS2, [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SmsSize(encoding, sum(costs), _segments(costs, *LIMITS[encoding]))


def _segments(costs: list[int], single: int, part: int) -> int:
    total = sum(costs)
    if total <= single:
        return 1 if total else 0
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return segments
