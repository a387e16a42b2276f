"""Telegram's text rules in the emulator: HTML and MarkdownV2 parsing, lengths, keyboards."""

from __future__ import annotations

import pytest

from tests.telegram_emulator import TelegramEmulator
from tests.telegram_emulator.client import RawApi
from tests.telegram_emulator.html_parse import parse_html

pytestmark = pytest.mark.emulator(rate_limits=False, chats=[(1001, "Amina")])

PARSE = "Bad Request: can't parse entities: "


async def send(api: RawApi, text: str, parse_mode: str | None = "HTML", **extra: object) -> dict:
    return await api.ok("sendMessage", chat_id=1001, text=text, parse_mode=parse_mode, **extra)


async def test_html_entities_use_utf16_offsets(api: RawApi) -> None:
    message = await send(
        api, "😀 <b>gras <i>et</i></b> &lt;tag&gt; &amp; &#233;&#x1F600; <tg-spoiler>s</tg-spoiler> <u>u</u> <s>x</s>"
    )
    assert message["text"] == "😀 gras et <tag> & é😀 s u x"
    assert message["entities"] == [
        {"offset": 3, "length": 7, "type": "bold"},
        {"offset": 8, "length": 2, "type": "italic"},
        {"offset": 23, "length": 1, "type": "spoiler"},
        {"offset": 25, "length": 1, "type": "underline"},
        {"offset": 27, "length": 1, "type": "strikethrough"},
    ]


async def test_html_code_pre_links_and_blockquotes(api: RawApi) -> None:
    message = await send(
        api,
        '<pre><code class="language-python">x = 1</code></pre><code>c</code>'
        '<a href="example.org/a?b=1&amp;c=2">lien</a><blockquote expandable>q</blockquote>'
        '<span class="tg-spoiler">z</span><a href="not a url">plain</a>',
    )
    assert message["text"] == "x = 1clienqzplain"
    assert message["entities"] == [
        {"offset": 0, "length": 5, "type": "pre", "language": "python"},
        {"offset": 5, "length": 1, "type": "code"},
        {"offset": 6, "length": 4, "type": "text_link", "url": "http://example.org/a?b=1&c=2"},
        {"offset": 10, "length": 1, "type": "expandable_blockquote"},
        {"offset": 11, "length": 1, "type": "spoiler"},
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("é<p>x</p>", 'Unsupported start tag "p" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a href>x</a>", 'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0'),
    ],
)
async def test_bad_html_is_rejected_like_telegram(api: RawApi, text: str, error: str) -> None:
    assert await api.error("sendMessage", chat_id=1001, text=text, parse_mode="HTML") == (400, PARSE + error)


async def test_unescaped_ampersand(emulator: TelegramEmulator, api: RawApi) -> None:
    status, description = await api.error("sendMessage", chat_id=1001, text="R&D", parse_mode="html")
    assert status == 400 and description.startswith(PARSE + 'Unescaped "&" at byte offset 1')
    assert (await api.error("sendMessage", chat_id=1001, text="a&nbsp;b", parse_mode="HTML"))[0] == 400
    assert (await send(api, "R&amp;D &lt;3 &gt"))["text"] == "R&D <3 >"
    # The real server keeps an unknown & as it is; the lenient emulator does the same.
    assert parse_html("R&D &nbsp;", strict_ampersand=False) == ("R&D &nbsp;", [])


async def test_length_is_counted_after_parsing(api: RawApi) -> None:
    assert len((await send(api, "a" * 4096, None))["text"]) == 4096
    assert len((await send(api, "\n  " + "a" * 4096 + "  \n", None))["text"]) == 4096  # trimmed
    assert await api.error("sendMessage", chat_id=1001, text="a" * 4097) == (400, "Bad Request: message is too long")
    assert len((await send(api, "<b>" + "a" * 4096 + "</b>"))["text"]) == 4096
    assert len((await send(api, "&lt;" * 4096))["text"]) == 4096
    assert await api.error("sendMessage", chat_id=1001, text="&lt;" * 4097, parse_mode="HTML") == (
        400,
        "Bad Request: message is too long",
    )
    # tdlib counts code points: 4096 emoji (8192 UTF-16 units) still fit.
    assert len((await send(api, "😀" * 4096, None))["text"]) == 4096


@pytest.mark.parametrize("text", ["", "   \n ", "<b></b>", "<b> </b>\n"])
async def test_empty_after_parsing(api: RawApi, text: str) -> None:
    assert await api.error("sendMessage", chat_id=1001, text=text, parse_mode="HTML") == (
        400,
        "Bad Request: message text is empty",
    )


async def test_text_is_trimmed_and_entities_follow(api: RawApi) -> None:
    message = await send(api, "\n  <b> Bonjour</b>\r\n  ")
    assert message["text"] == "Bonjour"
    assert message["entities"] == [{"offset": 0, "length": 7, "type": "bold"}]
    linked = await send(api, "voir https://example.org/x et /aide", None)
    assert [e["type"] for e in linked["entities"]] == ["url", "bot_command"]


async def test_markdown_v2(api: RawApi) -> None:
    message = await send(api, r"*gras* _it_ __sous__ ~b~ ||s|| `c` [l](https://e.org) \. \!", "MarkdownV2")
    assert message["text"] == "gras it sous b s c l . !"
    assert [e["type"] for e in message["entities"]] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    pre = await send(api, "```python\nprint(1)\n```", "MarkdownV2")
    assert pre["text"] == "print(1)"  # the trailing newline is trimmed, the entity too
    assert pre["entities"] == [{"offset": 0, "length": 8, "type": "pre", "language": "python"}]
    quote = await send(api, ">cité\n>encore\nfin", "MarkdownV2")
    assert quote["text"] == "cité\nencore\nfin"
    assert quote["entities"] == [{"offset": 0, "length": 11, "type": "blockquote"}]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Merci.", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("1-2", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("*gras", "Can't find end of Bold entity at byte offset 0"),
        ("é _x", "Can't find end of Italic entity at byte offset 3"),
        ("[lien](https://e.org", "Can't find end of a URL at byte offset 7"),
    ],
)
async def test_bad_markdown_v2(api: RawApi, text: str, error: str) -> None:
    assert await api.error("sendMessage", chat_id=1001, text=text, parse_mode="MarkdownV2") == (400, PARSE + error)


async def test_parse_modes_and_explicit_entities(api: RawApi) -> None:
    assert (await send(api, "*b* _i_", "Markdown"))["entities"] == [
        {"offset": 0, "length": 1, "type": "bold"},
        {"offset": 2, "length": 1, "type": "italic"},
    ]
    assert await api.error("sendMessage", chat_id=1001, text="x", parse_mode="BBCode") == (
        400,
        "Bad Request: unsupported parse_mode",
    )
    entities = [{"type": "bold", "offset": 3, "length": 2}]
    form = await api.call("sendMessage", encoding="form", chat_id=1001, text="😀 ab", entities=entities)
    assert form[1]["result"]["entities"] == [{"offset": 3, "length": 2, "type": "bold"}]
    assert (
        await api.error("sendMessage", chat_id=1001, text="ab", entities=[{"type": "bold", "offset": 1, "length": 5}])
    )[0] == 400


async def test_callback_data_is_limited_to_64_bytes(api: RawApi) -> None:
    def keyboard(data: str) -> dict:
        return {"inline_keyboard": [[{"text": "go", "callback_data": data}]]}

    assert await send(api, "ok", None, reply_markup=keyboard("a" * 64))
    assert await send(api, "ok", None, reply_markup=keyboard("é" * 32))  # 64 bytes
    for data in ("a" * 65, "é" * 33, ""):
        assert await api.error("sendMessage", chat_id=1001, text="x", reply_markup=keyboard(data)) == (
            400,
            "Bad Request: BUTTON_DATA_INVALID",
        )


@pytest.mark.parametrize(
    ("markup", "fragment"),
    [
        (
            {"inline_keyboard": [[{"text": "x", "callback_data": "a", "url": "https://e.org"}]]},
            "exactly one of the optional fields",
        ),
        ({"inline_keyboard": [[{"text": "x"}]]}, "Text buttons are unallowed"),
        ({"inline_keyboard": [[{"text": "", "callback_data": "a"}]]}, "BUTTON_TEXT_INVALID"),
        ({"inline_keyboard": [{"text": "x", "callback_data": "a"}]}, "Array of Arrays"),
        ({"keyboard": [[{"text": " "}]]}, "BUTTON_TEXT_INVALID"),
        ({"inline_keyboard": [[{"text": "x", "url": "not a url"}]]}, "is invalid"),
        ({"colour": "blue"}, "can't parse reply keyboard markup JSON object"),
    ],
)
async def test_bad_keyboards(api: RawApi, markup: dict, fragment: str) -> None:
    status, description = await api.error("sendMessage", chat_id=1001, text="x", reply_markup=markup)
    assert status == 400 and fragment in description


async def test_markup_json_errors_and_edit_needs_inline(api: RawApi) -> None:
    status, body = await api.call("sendMessage", encoding="form", chat_id=1001, text="x", reply_markup="{not json")
    assert (status, body["description"]) == (400, "Bad Request: can't parse reply keyboard markup JSON object")
    sent = await send(api, "x", None)
    assert await api.error(
        "editMessageText", chat_id=1001, message_id=sent["message_id"], text="y", reply_markup={"keyboard": [["a"]]}
    ) == (400, "Bad Request: inline keyboard expected")
