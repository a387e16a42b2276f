"""The emulator's chat behaviour: messages, edits, buttons, callback answers, blocking."""

from __future__ import annotations

import asyncio

import pytest

from tests.telegram_emulator import ManualClock, TelegramEmulator
from tests.telegram_emulator.client import RawApi

from .conftest import TOKEN

KEYBOARD = {"inline_keyboard": [[{"text": "Oui", "callback_data": "yes"}, {"text": "Non", "callback_data": "no"}]]}


async def test_urls_and_get_me(emulator: TelegramEmulator, api: RawApi) -> None:
    assert emulator.base_url == f"http://127.0.0.1:{emulator.port}/bot"
    assert emulator.api_url("getMe") == f"{emulator.base_url}{TOKEN}/getMe"
    me = await api.ok("getMe")
    assert me["id"] == 123 and me["is_bot"] is True and me["username"] == "emulator_bot"
    assert me["can_join_groups"] is True
    assert (await api.ok("GETME"))["id"] == 123  # method names are case-insensitive


async def test_wrong_token_and_unknown_method(api: RawApi) -> None:
    status, body = await api.call("getMe", token="123:WRONG")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert await api.error("sendPigeon") == (404, "Not Found")


@pytest.mark.parametrize("encoding", ["json", "form", "multipart"])
async def test_every_body_encoding_is_understood(emulator: TelegramEmulator, api: RawApi, encoding: str) -> None:
    await emulator.user(1001, "Amina").send("hello")
    status, body = await api.call(
        "sendMessage",
        encoding=encoding,
        chat_id=1001,
        text="<b>Choisis</b>",
        parse_mode="HTML",
        reply_markup=KEYBOARD,
        disable_notification=True,
    )
    assert status == 200, body
    result = body["result"]
    assert result["text"] == "Choisis"
    assert result["entities"] == [{"offset": 0, "length": 7, "type": "bold"}]
    assert result["reply_markup"] == KEYBOARD
    assert result["chat"] == {"id": 1001, "first_name": "Amina", "type": "private"}


async def test_unknown_chat_until_the_user_writes(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    assert await api.error("sendMessage", chat_id=1001, text="hi") == (400, "Bad Request: chat not found")
    assert await api.error("sendMessage", chat_id="@amina", text="hi") == (400, "Bad Request: chat not found")
    assert await api.error("sendMessage", text="hi") == (400, "Bad Request: chat_id is empty")
    await user.send("bonjour")
    assert await api.error("sendMessage", chat_id=1001) == (400, "Bad Request: message text is empty")
    assert (await api.ok("sendMessage", chat_id=1001, text="hi"))["message_id"] == 2


async def test_user_messages_become_updates_with_command_entities(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina", username="amina_k", language_code="fr")
    sent = await user.send("/start@emulator_bot offer-42")
    await user.send("just text")
    updates = await api.ok("getUpdates")
    assert [u["update_id"] for u in updates] == [updates[0]["update_id"], updates[0]["update_id"] + 1]
    message = updates[0]["message"]
    assert message == sent
    assert message["from"] == {
        "id": 1001,
        "is_bot": False,
        "first_name": "Amina",
        "username": "amina_k",
        "language_code": "fr",
    }
    assert message["entities"] == [{"offset": 0, "length": 19, "type": "bot_command"}]
    assert "entities" not in updates[1]["message"]


async def test_next_reply_shows_what_the_user_sees(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    await user.send("/start")
    sent = await api.ok(
        "sendMessage",
        chat_id=1001,
        parse_mode="HTML",
        reply_markup=KEYBOARD,
        text='<b>Bienvenue</b> Amina, voir <a href="https://example.org">ici</a>',
    )
    reply = await user.next_reply(timeout=1)
    assert reply.message_id == sent["message_id"]
    assert reply.text == "Bienvenue Amina, voir ici"
    assert reply.html == '<b>Bienvenue</b> Amina, voir <a href="https://example.org/">ici</a>'
    assert reply.buttons == [["Oui", "Non"]]
    assert reply.button_data == [["yes", "no"]]
    assert reply.is_edit is False and reply.parse_mode == "HTML"
    with pytest.raises(AssertionError, match="transcript tail"):
        await user.next_reply(timeout=0.05)


async def test_edits_not_modified_and_keyboard_removal(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    await user.send("/start")
    sent = await api.ok("sendMessage", chat_id=1001, text="Question 1", reply_markup=KEYBOARD)
    mid = sent["message_id"]
    same = await api.error("editMessageText", chat_id=1001, message_id=mid, text="Question 1", reply_markup=KEYBOARD)
    assert same == (
        400,
        "Bad Request: message is not modified: specified new message content "
        "and reply markup are exactly the same as a current content and reply markup "
        "of the message",
    )
    assert (await api.error("editMessageReplyMarkup", chat_id=1001, message_id=mid, reply_markup=KEYBOARD))[0] == 400
    # Same text without reply_markup is a change: it drops the keyboard.
    edited = await api.ok("editMessageText", chat_id=1001, message_id=mid, text="Question 1")
    assert "reply_markup" not in edited and "edit_date" in edited
    edit = await user.next_edit(timeout=1)
    assert edit.is_edit and edit.message_id == mid and edit.buttons == []
    assert (await user.next_reply(timeout=1)).text == "Question 1"  # the original send only
    with pytest.raises(AssertionError):
        await user.next_reply(timeout=0.05)
    restored = await api.ok("editMessageReplyMarkup", chat_id=1001, message_id=mid, reply_markup=KEYBOARD)
    assert restored["reply_markup"] == KEYBOARD


async def test_unknown_messages_and_user_messages(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    own = await user.send("/start")
    assert await api.error("editMessageText", chat_id=1001, message_id=99, text="x") == (
        400,
        "Bad Request: message to edit not found",
    )
    assert await api.error("editMessageText", chat_id=1001, message_id=own["message_id"], text="x") == (
        400,
        "Bad Request: message can't be edited",
    )
    assert await api.error("deleteMessage", chat_id=1001, message_id=99) == (
        400,
        "Bad Request: message to delete not found",
    )
    sent = await api.ok("sendMessage", chat_id=1001, text="bye")
    assert await api.ok("deleteMessage", chat_id=1001, message_id=sent["message_id"]) is True
    assert await api.error("deleteMessage", chat_id=1001, message_id=sent["message_id"]) == (
        400,
        "Bad Request: message to delete not found",
    )
    assert await api.error("editMessageText", chat_id=1001, message_id=sent["message_id"], text="x") == (
        400,
        "Bad Request: message to edit not found",
    )
    assert user.deleted_message_ids == [sent["message_id"]]


async def test_chat_messages_are_the_current_state(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    await user.send("/start")
    first = await api.ok("sendMessage", chat_id=1001, text="one")
    second = await api.ok("sendMessage", chat_id=1001, text="two")
    await api.ok("editMessageText", chat_id=1001, message_id=first["message_id"], text="uno")
    await api.ok("deleteMessage", chat_id=1001, message_id=second["message_id"])
    assert [m["text"] for m in emulator.chat_messages(1001)] == ["/start", "uno"]
    assert emulator.chat_messages(4242) == []


async def test_reply_to_a_message(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    asked = await user.send("question?")
    answer = await api.ok(
        "sendMessage", chat_id=1001, text="answer", reply_parameters={"message_id": asked["message_id"]}
    )
    assert answer["reply_to_message"]["text"] == "question?"
    assert await api.error("sendMessage", chat_id=1001, text="x", reply_to_message_id=77) == (
        400,
        "Bad Request: message to be replied not found",
    )
    loose = await api.ok(
        "sendMessage", chat_id=1001, text="x", reply_parameters={"message_id": 77, "allow_sending_without_reply": True}
    )
    assert "reply_to_message" not in loose


async def test_press_creates_callback_query_and_answers_are_checked(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    await user.send("/start")
    start_update = (await api.ok("getUpdates"))[0]["update_id"]
    old = await api.ok("sendMessage", chat_id=1001, text="old", reply_markup=KEYBOARD)
    newer = {
        "inline_keyboard": [[{"text": "Lien", "url": "https://example.org"}, {"text": "Oui", "callback_data": "yes-2"}]]
    }
    await api.ok("sendMessage", chat_id=1001, text="new", reply_markup=newer)
    query = await user.press("Oui")
    assert query["data"] == "yes-2" and query["message"]["text"] == "new"
    assert query["from"]["id"] == 1001
    by_data = await user.press("data:no", message_id=old["message_id"])
    assert by_data["data"] == "no"
    with pytest.raises(AssertionError, match=r"'Lien'.*'Oui'"):
        await user.press("Peut-être")
    with pytest.raises(AssertionError, match="url button"):
        await user.press("Lien")
    updates = await api.ok("getUpdates", offset=start_update + 1)
    assert [u["callback_query"]["id"] for u in updates] == [query["id"], by_data["id"]]
    assert len(emulator.unanswered_callback_queries()) == 2

    assert await api.error("answerCallbackQuery", callback_query_id=query["id"], text="x" * 201) == (
        400,
        "Bad Request: MESSAGE_TOO_LONG",
    )
    assert await api.ok("answerCallbackQuery", callback_query_id=query["id"], text="Noté", show_alert=True) is True
    assert await api.error("answerCallbackQuery", callback_query_id=query["id"]) == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    assert await api.error("answerCallbackQuery", callback_query_id="12345")
    assert [(a["text"], a["show_alert"], a["data"]) for a in user.callback_answers] == [("Noté", True, "yes-2")]
    assert [q.query_id for q in emulator.unanswered_callback_queries()] == [by_data["id"]]


async def test_callback_queries_expire_after_15_emulated_seconds() -> None:
    clock = ManualClock(time_scale=10)  # advance(1.4) is 14 emulated seconds
    async with TelegramEmulator(TOKEN, clock=clock) as emulator, RawApi(emulator.base_url, TOKEN) as api:
        user = emulator.user(1001, "Amina")
        await user.send("/start")
        await api.ok("sendMessage", chat_id=1001, text="?", reply_markup=KEYBOARD)
        fresh = await user.press("Oui")
        assert await api.ok("answerCallbackQuery", callback_query_id=fresh["id"]) is True
        early, late = await user.press("Oui"), await user.press("Non")
        clock.advance(1.4)
        assert await api.ok("answerCallbackQuery", callback_query_id=early["id"]) is True
        clock.advance(0.2)  # 16 emulated seconds
        status, description = await api.error("answerCallbackQuery", callback_query_id=late["id"])
        assert (status, description.startswith("Bad Request: query is too old")) == (400, True)
        assert [q.query_id for q in emulator.unanswered_callback_queries()] == [late["id"]]


async def test_message_dates_follow_the_clock(emulator: TelegramEmulator, api: RawApi, clock: ManualClock) -> None:
    user = emulator.user(1001, "Amina")
    asked = await user.send("/start")
    assert asked["date"] == clock.unix()
    clock.advance(90)
    answer = await api.ok("sendMessage", chat_id=1001, text="bonjour")
    assert answer["date"] == asked["date"] + 90
    clock.advance(5)
    edited = await api.ok("editMessageText", chat_id=1001, message_id=answer["message_id"], text="salut")
    assert (edited["date"], edited["edit_date"]) == (answer["date"], answer["date"] + 5)


async def test_block_and_unblock(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    await user.send("/start")
    await user.block()
    assert user.blocked
    assert await api.error("sendMessage", chat_id=1001, text="hi") == (403, "Forbidden: bot was blocked by the user")
    assert (await api.error("sendChatAction", chat_id=1001, action="typing"))[0] == 403
    with pytest.raises(AssertionError, match="blocked"):
        await user.send("hello?")
    await user.unblock()
    updates = await api.ok("getUpdates")
    changes = [u["my_chat_member"] for u in updates if "my_chat_member" in u]
    assert [(c["old_chat_member"]["status"], c["new_chat_member"]["status"]) for c in changes] == [
        ("member", "kicked"),
        ("kicked", "member"),
    ]
    assert changes[0]["new_chat_member"]["user"]["id"] == 123
    assert (await api.ok("sendMessage", chat_id=1001, text="welcome back"))["text"]


async def test_commands_per_scope_and_language(emulator: TelegramEmulator, api: RawApi) -> None:
    english = [{"command": "start", "description": "Start"}]
    french = [{"command": "start", "description": "Commencer"}, {"command": "aide", "description": "Aide"}]
    assert await api.ok("setMyCommands", commands=english) is True
    assert (
        await api.ok("setMyCommands", commands=french, language_code="fr", scope={"type": "all_private_chats"}) is True
    )
    assert await api.ok("getMyCommands") == english
    assert await api.ok("getMyCommands", language_code="de") == english
    assert await api.ok("getMyCommands", language_code="fr", scope={"type": "all_private_chats"}) == french
    assert await api.ok("getMyCommands", scope={"type": "all_private_chats"}) == []
    assert emulator.user(1001, "Amina", language_code="fr").visible_commands() == french
    assert emulator.user(1002, "Bob", language_code="en").visible_commands() == english
    assert await api.error("setMyCommands", commands=[{"command": "Start", "description": "x"}]) == (
        400,
        "Bad Request: BOT_COMMAND_INVALID",
    )
    assert (await api.error("setMyCommands", commands=english, scope={"type": "chat", "chat_id": 555}))[
        1
    ] == "Bad Request: chat not found"
    assert await api.ok("deleteMyCommands") is True
    assert await api.ok("getMyCommands") == []


async def test_reply_keyboards_and_chat_actions(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    await user.send("/start")
    keyboard = {"keyboard": [["Français", "English"]], "resize_keyboard": True, "one_time_keyboard": True}
    sent = await api.ok("sendMessage", chat_id=1001, text="Langue ?", reply_markup=keyboard)
    assert "reply_markup" not in sent  # Telegram only echoes inline keyboards
    assert user.reply_keyboard == [["Français", "English"]]
    assert (await user.next_reply(timeout=1)).keyboard == [["Français", "English"]]
    tapped = await user.tap("Français")
    assert tapped["text"] == "Français"
    with pytest.raises(AssertionError, match="Deutsch"):
        await user.tap("Deutsch")
    await api.ok("sendMessage", chat_id=1001, text="ok", reply_markup={"remove_keyboard": True})
    assert user.reply_keyboard is None
    assert await api.ok("sendChatAction", chat_id=1001, action="typing") is True
    assert await api.error("sendChatAction", chat_id=1001, action="dancing") == (
        400,
        "Bad Request: wrong parameter action in request",
    )
    assert user.chat_actions == ["typing"]


async def test_replies_until_idle_collects_a_burst(emulator: TelegramEmulator, api: RawApi) -> None:
    user = emulator.user(1001, "Amina")
    await user.send("/start")

    # idle=0: only the update the bot has not fetched yet keeps it from returning.
    collecting = asyncio.create_task(user.replies_until_idle(idle=0))
    await asyncio.sleep(0)  # it has seen the update waiting for the bot
    for text in ("un", "deux"):
        await api.ok("sendMessage", chat_id=1001, text=text)
    # Not idle while the update is not fetched, although messages came.
    assert not collecting.done()
    await api.ok("getUpdates")
    replies = await collecting
    assert [r.text for r in replies] == ["un", "deux"]
    assert await user.replies_until_idle(idle=0.05) == []
    assert "sendMessage" in emulator.transcript_text()
    assert [e.method for e in emulator.transcript if e.kind == "call"][-3:] == [
        "sendMessage",
        "sendMessage",
        "getUpdates",
    ]
