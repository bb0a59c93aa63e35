import pytest

from messaging.sms_encoding import GSM7, GSM7_BASIC, GSM7_EXTENSION, UCS2, SmsSize, sms_segments

BENGALI_REMINDER = "প্রিয় রহিম, আপনার শেষ হোম ক্লিনিং ২২ দিন আগে ছিল। আজই বুক করুন এবং ১০% ছাড় পান!"


def test_the_alphabet_has_the_127_printable_characters_and_10_extensions():
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert "\x1b" not in GSM7_BASIC
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_an_empty_text_costs_nothing():
    assert sms_segments("") == SmsSize(GSM7, 0, 0)


def test_plain_latin_text_is_gsm7():
    assert sms_segments("Hi Rahim, your cleaning is due. Book now: https://s.example/x") == SmsSize(GSM7, 61, 1)


def test_gsm7_characters_beyond_ascii_count_single():
    text = "Ærø £5 ¥6 §7 ¿¡ ΔΦΓΛΩΠΨΣΘΞ äöñüà @ É"
    assert sms_segments(text) == SmsSize(GSM7, len(text), 1)


def test_lookalikes_outside_the_alphabet_are_ucs2():
    # An em dash, a lower-case c cedilla and a Greek small delta are not in GSM 03.38.
    for char in "—çδ":
        assert sms_segments(f"Prix: 5€ {char}").encoding == UCS2


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4), (918, 6), (919, 7)]
)
def test_gsm7_segment_boundaries(length, segments):
    assert sms_segments("a" * length) == SmsSize(GSM7, length, segments)


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION))
def test_an_extension_character_counts_double(char):
    assert sms_segments(char) == SmsSize(GSM7, 2, 1)
    assert sms_segments("a" * 158 + char) == SmsSize(GSM7, 160, 1)
    assert sms_segments("a" * 159 + char) == SmsSize(GSM7, 161, 2)


def test_a_part_never_splits_an_escape_sequence():
    # 152 septets then "€": the escape and its character move together to part two.
    text = "a" * 152 + "€" + "a" * 152
    size = sms_segments(text)
    assert size.characters == 306
    assert size.segments == 3  # 306 septets would fit in 2 parts if the pair could be split

    assert sms_segments("a" * 151 + "€" + "a" * 153).segments == 2


def test_a_bengali_reminder_is_ucs2():
    size = sms_segments(BENGALI_REMINDER)
    assert size.encoding == UCS2
    assert size.characters == len(BENGALI_REMINDER)
    assert size.segments == 2


def test_a_single_non_gsm_character_switches_the_whole_text_to_ucs2():
    assert sms_segments("Thanks for booking \u2019") == SmsSize(UCS2, 20, 1)


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)])
def test_ucs2_segment_boundaries(length, segments):
    assert sms_segments("আ" * length) == SmsSize(UCS2, length, segments)


def test_an_emoji_takes_two_units_and_is_never_split():
    assert sms_segments("🎉") == SmsSize(UCS2, 2, 1)
    assert sms_segments("আ" * 68 + "🎉") == SmsSize(UCS2, 70, 1)
    assert sms_segments("আ" * 69 + "🎉") == SmsSize(UCS2, 71, 2)
    # 66 units then a surrogate pair: the pair starts part two.
    assert sms_segments("আ" * 66 + "🎉" + "আ" * 66).segments == 3
    assert sms_segments("আ" * 65 + "🎉" + "আ" * 67).segments == 2


def test_newlines_are_gsm7_but_tabs_are_not():
    assert sms_segments("line one\r\nline two").encoding == GSM7
    assert sms_segments("col\tcol").encoding == UCS2
