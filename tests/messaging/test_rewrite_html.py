import re

import pytest

from messaging import links
from messaging.models import Message


@pytest.fixture
def message():
    return Message(pk=42)


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


def test_http_links_become_click_links_to_the_same_targets(message):
    html = (
        '<html><body><p>Hi <a href="https://shop.example.com/?a=1&amp;b=2" class="btn">Shop</a> and '
        "<a href='http://example.org/x'>more</a></p></body></html>"
    )

    rewritten = links.rewrite_html(html, message)

    targets = [links.read_click_token(href.rsplit("/", 1)[1]) for href in hrefs(rewritten)]
    assert targets == [(42, "https://shop.example.com/?a=1&b=2"), (42, "http://example.org/x")]
    assert 'class="btn">Shop</a> and ' in rewritten


def test_it_keeps_every_byte_outside_the_rewritten_tags(message):
    html = (
        "<!DOCTYPE html>\n<html>\n<head><style>a { color: red }</style></head>\n"
        '<body>\n<table role="presentation"><tr><td>caf&eacute; &amp; tea</td></tr></table>\n'
        '<!--[if mso]><v:rect href="https://outlook.example"></v:rect><![endif]-->\n'
        '<A HREF="https://example.com/a">A</A><br/>\n'
        "</body>\n</html>\n"
    )

    rewritten = links.rewrite_html(html, message)

    before, after = html.split('<A HREF="https://example.com/a">')
    assert rewritten.startswith(before)
    assert rewritten.endswith(after.replace("</body>", f"{pixel(message)}</body>"))


def test_it_leaves_mailto_tel_anchors_relative_and_unsubscribe_links_alone(message):
    unsubscribe = links.unsubscribe_url(message)
    html = (
        '<body><a href="mailto:help@example.com">mail</a> <a href="tel:+8801700000000">call</a> '
        f'<a href="#offer">jump</a> <a href="/terms">terms</a> <a name="top">top</a> '
        f'<a href="{unsubscribe}">unsubscribe</a></body>'
    )

    rewritten = links.rewrite_html(html, message)

    assert rewritten == html.replace("</body>", f"{pixel(message)}</body>")


def test_rewriting_twice_does_not_wrap_click_links_again(message):
    once = links.rewrite_html('<body><a href="https://example.com/">x</a></body>', message)

    twice = links.rewrite_html(once, message)

    assert hrefs(twice) == hrefs(once)


def test_links_inside_comments_and_scripts_are_not_touched(message):
    html = (
        '<body><!-- <a href="https://commented.example">x</a> </body> -->'
        "<script>var s = '<a href=\"https://scripted.example\">';</script></body>"
    )

    rewritten = links.rewrite_html(html, message)

    assert rewritten == html[: -len("</body>")] + pixel(message) + "</body>"


def test_the_open_pixel_goes_before_the_last_body_end_or_at_the_end(message):
    assert links.rewrite_html("<p>Hi</p>", message) == f"<p>Hi</p>{pixel(message)}"
    assert links.rewrite_html("<BODY>Hi</BODY>\n", message) == f"<BODY>Hi{pixel(message)}</BODY>\n"


def test_odd_markup_does_not_break_rewriting(message):
    html = '<body><![if !mso]><a href="https://a.example">a</a><![endif]><![weird]><a href="https://b.example/">b'

    rewritten = links.rewrite_html(html, message)

    assert [links.read_click_token(h.rsplit("/", 1)[1])[1] for h in hrefs(rewritten)] == [
        "https://a.example",
        "https://b.example/",
    ]


def test_attribute_values_are_escaped_in_rewritten_tags(message):
    html = '<a title="Tom &amp; &quot;Jerry&quot;" href="https://example.com/">x</a>'

    rewritten = links.rewrite_html(html, message)

    assert rewritten.startswith('<a title="Tom &amp; &quot;Jerry&quot;" href="https://go.example.com/t/c/')


def pixel(message) -> str:
    return f'<img src="{links.open_url(message)}" width="1" height="1" alt="" style="border:0;width:1px;height:1px;" />'
