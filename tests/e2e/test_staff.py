"""Staff keep the FAQ current from Telegram: edit, preview, publish, see it live, roll back; roles
granted by admins; a non-staff person or a forged button changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.faq.answers import topic_title
from bot.storage.models import AuditEntry, DialogStateRow, FaqExample, FaqRevision

from ..conftest import BACKENDS
from ..telegram_emulator import SimulatedUser, TelegramEmulator
from .conftest import RunningBot, forge_press, make_config, press_and_read, say_and_read, texts
from .processes import two_webhook_processes

STAFF, ADMIN = 9001, 9100
GENEVA = {"fr": "OIM Genève — offre PSOIG 2021-023", "en": "IOM Geneva — PSOIG offer 2021-023"}


@pytest.fixture
async def bot(database_url: str, emulator: TelegramEmulator) -> AsyncIterator[RunningBot]:
    running = RunningBot(make_config(database_url, emulator, top={"staff": [STAFF], "admins": [ADMIN]}))
    await running.start()
    yield running
    await running.stop()


async def revisions(bot: RunningBot) -> int:
    async with bot.sessions()() as session:
        return int(await session.scalar(select(func.count()).select_from(FaqRevision)) or 0)


async def at_quebec_birth_date(user: SimulatedUser) -> None:
    lang = "en" if (user.language_code or "").startswith("en") else "fr"
    await say_and_read(user, "/start")
    await press_and_read(user, "data:programs:quebec-psoig-2021-023")
    await press_and_read(user, "J’accepte" if lang == "fr" else "I agree")


async def open_stipend_editor(staff: SimulatedUser) -> str:
    """/faq, the stipend topic, the Québec offer: the current answer and the menu."""
    shown = await say_and_read(staff, "/faq")
    assert "Quel sujet" in shown, shown
    await press_and_read(staff, topic_title("stipend", "fr") or "")
    return await press_and_read(staff, GENEVA["fr"])


async def test_staff_edit_preview_publish_then_people_see_it_and_undo_brings_back_the_old_one(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    staff = emulator.user(STAFF, "Sophie", language_code="fr")
    amina = emulator.user(9002, "Amina", language_code="fr")
    await at_quebec_birth_date(amina)
    before = await say_and_read(amina, "c'est combien l'allocation?")
    assert "13 000,00 $ CA" in before and "Bourse révisée" not in before, before

    current = await open_stipend_editor(staff)
    assert "13 000,00 $ CA" in current and "CA$13,000.00" in current, current  # both languages, as people see them
    shown = await press_and_read(staff, "✏️ Modifier la réponse")
    assert "{stipend}" in shown  # the data staff can insert are listed
    shown = await say_and_read(staff, "Bourse révisée : <b>{stipend}</b> pour toute la durée.")
    assert "anglais" in shown, shown
    preview = await say_and_read(staff, "Revised stipend: <b>{stipend}</b> for the whole internship.")
    assert "Bourse révisée : 13 000,00 $ CA" in preview and "Revised stipend: CA$13,000.00" in preview, preview
    assert await revisions(bot) == 0  # nothing is live before staff confirm
    published = await press_and_read(staff, "✅ Publier")
    assert "Publié (version" in published, published

    after = await say_and_read(amina, "c koi l'allocation")
    assert "Bourse révisée : 13 000,00 $ CA" in after, after
    assert "Quelle est votre date de naissance?" in after.split("Bourse révisée")[-1], after  # then asked again
    bold = [m for m in emulator.chat_messages(9002) if "Bourse révisée" in m.get("text", "")]
    assert any(e["type"] == "bold" for e in bold[-1].get("entities", [])), bold[-1]  # staff formatting kept

    undone = await press_and_read(staff, "↩️ Annuler cette publication")
    assert "Publication annulée" in undone, undone
    again = await say_and_read(amina, "allocation?")
    assert "Bourse révisée" not in again and "13 000,00 $ CA" in again, again
    async with bot.sessions()() as session:
        actions = (await session.execute(select(AuditEntry.action, AuditEntry.actor_role))).all()
    assert [tuple(a) for a in actions] == [("faq.publish", "staff"), ("faq.publish", "staff")]


async def test_text_telegram_would_reject_is_refused_with_the_reason_before_publishing(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    staff = emulator.user(STAFF, "Sophie", language_code="fr")
    await open_stipend_editor(staff)
    await press_and_read(staff, "✏️ Modifier la réponse")
    for bad in ("<b>Allocation non fermée", "Montant : {montant}", "<script>x</script>"):
        refused = await say_and_read(staff, bad)
        assert "ne peut pas être publié" in refused, (bad, refused)
    shown = await say_and_read(staff, "Allocation : {stipend}.")
    assert "anglais" in shown  # the good text is taken; the bad ones were not
    await say_and_read(staff, "/cancel")
    assert await revisions(bot) == 0


async def test_non_staff_old_and_forged_buttons_change_nothing(bot: RunningBot, emulator: TelegramEmulator) -> None:
    staff = emulator.user(STAFF, "Sophie", language_code="fr")
    omar = emulator.user(9003, "Omar", language_code="fr")
    refused = await say_and_read(omar, "/faq")
    assert "réservée à l’équipe" in refused, refused
    await say_and_read(omar, "/grant 9003 admin")
    assert "/faq" not in (await say_and_read(omar, "/help"))  # no staff commands shown to him

    await open_stipend_editor(staff)
    await press_and_read(staff, "✏️ Modifier la réponse")
    await say_and_read(staff, "Allocation : {stipend}.")
    await say_and_read(staff, "Stipend: {stipend}.")
    menu = next(m for m in reversed(emulator.chat_messages(STAFF)) if m.get("reply_markup"))
    publish = next(
        b["callback_data"] for row in menu["reply_markup"]["inline_keyboard"] for b in row if "Publier" in b["text"]
    )
    # Omar replays the staff member's real button on his own chat, then forges one
    omar_message = emulator.chat_messages(9003)[-1]
    forge_press(emulator, omar, publish, omar_message)
    assert "réservée à l’équipe" in await texts(omar)
    forge_press(emulator, omar, "staff:000000:publish", omar_message)
    assert "réservée à l’équipe" in await texts(omar)
    # the staff member's own stale button (the nonce of an earlier step) is refused too
    forge_press(emulator, staff, publish.replace(publish.split(":")[1], "ffffff"), menu)
    assert "n’est plus valide" in await texts(staff)
    assert await revisions(bot) == 0
    await press_and_read(staff, "✅ Publier")
    assert await revisions(bot) == 1


async def test_admins_grant_and_revoke_roles_by_numeric_id(bot: RunningBot, emulator: TelegramEmulator) -> None:
    admin = emulator.user(ADMIN, "Awa", language_code="en")
    lea = emulator.user(9200, "Léa", language_code="en")
    assert "staff only" in await say_and_read(lea, "/faq")
    my_id = await say_and_read(lea, "/myid")
    assert "9200" in my_id
    assert "/grant" in await say_and_read(admin, "/help")
    assert "now has the staff role" in await say_and_read(admin, "/grant 9200 staff")
    assert "Which topic" in await say_and_read(lea, "/faq")
    assert "/faq_gaps" in await say_and_read(lea, "/help")
    listed = await say_and_read(admin, "/roles")
    assert "9200: staff" in listed and f"{ADMIN}: admin (config.yaml)" in listed, listed
    assert "from config.yaml" in await say_and_read(admin, f"/revoke {STAFF} staff")
    assert "already holds the staff role from config.yaml" in await say_and_read(admin, f"/grant {STAFF} staff")
    assert "Type the numeric id" in await say_and_read(admin, "/grant @lea staff")  # usernames are not trusted
    assert "no longer has" in await say_and_read(admin, "/revoke 9200 staff")
    assert "staff only" in await say_and_read(lea, "/faq")
    async with bot.sessions()() as session:
        audit = (await session.execute(select(AuditEntry.action, AuditEntry.subject_user_id))).all()
    assert [tuple(a) for a in audit] == [("role.grant", 9200), ("role.revoke", 9200)]


async def test_unanswered_questions_become_examples_with_one_tap(bot: RunningBot, emulator: TelegramEmulator) -> None:
    staff = emulator.user(STAFF, "Sophie", language_code="fr")
    amina = emulator.user(9002, "Amina", language_code="fr")
    ali = emulator.user(9004, "Ali", language_code="fr")
    await at_quebec_birth_date(amina)
    await at_quebec_birth_date(ali)
    question = "est-ce que je peux amener mon chien?"
    first = await say_and_read(amina, question)
    assert "Je ne connais pas la réponse" in first or "Vouliez-vous" in first, first
    await say_and_read(ali, "je peux amener mon chien?")
    gaps = await say_and_read(staff, "/faq_gaps")
    assert "amener mon chien" in gaps and "posée par 2" in gaps, gaps  # grouped, counted by people, nobody named
    assert "Amina" not in gaps and "9002" not in gaps
    await press_and_read(staff, "➕ 1")
    added = await press_and_read(staff, topic_title("location", "fr") or "")
    assert "Ajoutée" in added, added
    answered = await say_and_read(amina, question)
    assert "Genève" in answered, answered  # matching learnt it: the location answer
    async with bot.sessions()() as session:
        examples = (await session.execute(select(FaqExample.topic, FaqExample.author_role))).all()
    assert [tuple(e) for e in examples] == [("location", "staff")]
    assert "Aucune question" in await say_and_read(staff, "/faq_gaps")
    assert "???" not in await say_and_read(ali, "???") and "Aucune question" in await say_and_read(staff, "/faq_gaps")
    # the example is the latest wording, Ali's own words: they go when he asks to be forgotten
    await say_and_read(ali, "/forget")
    await press_and_read(ali, "Oui, tout effacer")
    async with bot.sessions()() as session:
        assert (await session.execute(select(FaqExample))).first() is None
    assert "Genève" not in await say_and_read(amina, question)  # and matching forgot them at once


@pytest.mark.slow
@pytest.mark.parametrize("database_url", BACKENDS[1:], indirect=True)
async def test_a_publication_is_live_at_once_in_every_webhook_process_and_so_is_its_undo(
    tmp_path: Path, database_url: str, emulator: TelegramEmulator
) -> None:
    async with two_webhook_processes(
        tmp_path, database_url, emulator, secret="staff-secret", settings={"staff": [STAFF]}
    ) as (balancer, processes):
        staff = emulator.user(STAFF, "Sophie", language_code="fr")
        amina = emulator.user(9002, "Amina", language_code="fr")
        await at_quebec_birth_date(amina)
        await open_stipend_editor(staff)
        await press_and_read(staff, "✏️ Modifier la réponse")
        await say_and_read(staff, "Bourse révisée : {stipend}.")
        await say_and_read(staff, "Revised stipend: {stipend}.")
        assert "Publié" in await press_and_read(staff, "✅ Publier")
        served_before = dict(balancer.served)
        for _ in range(2):  # two questions in a row: one reaches each process
            assert "Bourse révisée" in await say_and_read(amina, "allocation?")
        grew = [port for port, served in balancer.served.items() if served > served_before.get(port, 0)]
        assert len(grew) == 2, balancer.served  # each process answered one of them
        assert "Publication annulée" in await press_and_read(staff, "↩️ Annuler cette publication")
        for _ in range(2):
            assert "Bourse révisée" not in await say_and_read(amina, "allocation?")
    for process in processes:
        assert "ERROR" not in process.log(), process.log()


async def test_a_staff_member_back_in_their_own_dialog_drops_the_draft_and_keeps_their_answers(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    staff = emulator.user(STAFF, "Sophie", language_code="fr")
    await at_quebec_birth_date(staff)  # a staff member checking their own eligibility too
    await open_stipend_editor(staff)
    await press_and_read(staff, "✏️ Modifier la réponse")
    shown = await say_and_read(staff, "/start")
    assert "abandonnée" in shown and "date de naissance" in shown, shown
    shown = await say_and_read(staff, "1995-03-15")  # an answer, not an FAQ draft
    assert "Laquelle de ces situations" in shown and "anglais" not in shown, shown
    assert await revisions(bot) == 0


async def test_publishing_over_someone_else_s_change_or_undoing_it_is_refused(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    sophie = emulator.user(STAFF, "Sophie", language_code="fr")
    awa = emulator.user(ADMIN, "Awa", language_code="fr")  # an admin holds the staff role too
    for editor in (sophie, awa):  # both open the same answer
        await open_stipend_editor(editor)
        await press_and_read(editor, "✏️ Modifier la réponse")
        await say_and_read(editor, f"Version de {editor.first_name} : {{stipend}}")
        await say_and_read(editor, f"{editor.first_name}'s version: {{stipend}}")
    assert "Publié" in await press_and_read(awa, "✅ Publier")
    refused = await press_and_read(sophie, "✅ Publier")
    assert "Rien n’a été publié" in refused, refused  # Awa's text is not silently replaced
    # Sophie publishes anew; then Awa's undo of her older version would throw Sophie's away
    await open_stipend_editor(sophie)
    await press_and_read(sophie, "✏️ Modifier la réponse")
    await say_and_read(sophie, "Version de Sophie : {stipend}")
    await say_and_read(sophie, "Sophie's version: {stipend}")
    assert "Publié" in await press_and_read(sophie, "✅ Publier")
    awa_undo = next(m for m in reversed(emulator.chat_messages(ADMIN)) if "Annuler cette publication" in str(m))
    await awa.press("↩️ Annuler cette publication", message_id=awa_undo["message_id"])
    assert "Impossible d’annuler" in await texts(awa)
    amina = emulator.user(9002, "Amina", language_code="fr")
    await at_quebec_birth_date(amina)
    assert "Version de Sophie" in await say_and_read(amina, "allocation?")


async def publish_stipend(staff: SimulatedUser, french: str, english: str) -> str:
    await open_stipend_editor(staff)
    await press_and_read(staff, "✏️ Modifier la réponse")
    await say_and_read(staff, french)
    await say_and_read(staff, english)
    return await press_and_read(staff, "✅ Publier")


async def test_any_version_can_be_restored_from_the_history(bot: RunningBot, emulator: TelegramEmulator) -> None:
    staff = emulator.user(STAFF, "Sophie", language_code="fr")
    amina = emulator.user(9002, "Amina", language_code="fr")
    await at_quebec_birth_date(amina)
    for number in range(1, 13):  # more than one page of versions
        await publish_stipend(staff, f"Texte numéro {number} : {{stipend}}", f"Text number {number}: {{stipend}}")
    history = await say_and_read(staff, "/faq_history stipend")
    assert "Version 12" in history and "Version 3," in history and "Version 2," not in history, history
    first_page = next(m for m in reversed(emulator.chat_messages(STAFF)) if "Version 12" in m.get("text", ""))
    older = await press_and_read(staff, "Versions plus anciennes")
    assert "Version 2," in older and "Version 1," in older, older
    restored = await press_and_read(staff, "Restaurer la version 1")
    assert "La version 1 est de nouveau en ligne (nouvelle version 13)" in restored, restored
    assert "Texte numéro 1 : 13 000,00 $ CA" in await say_and_read(amina, "allocation?")
    await say_and_read(staff, "/faq_history stipend")  # a new list: page 1 and its buttons again
    fresh_page = next(m for m in reversed(emulator.chat_messages(STAFF)) if "Version 13" in m.get("text", ""))
    await press_and_read(staff, "Versions plus anciennes")
    await staff.press("Restaurer la version 12", message_id=fresh_page["message_id"])  # page 1, after paging
    assert "La version 12 est de nouveau en ligne" in await texts(staff)
    await staff.press("Restaurer la version 11", message_id=first_page["message_id"])  # an earlier list: stale
    assert "n’est plus valide" in await texts(staff)


async def test_staff_create_a_topic_teach_it_an_example_and_people_get_its_answer(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    staff = emulator.user(STAFF, "Sophie", language_code="fr")
    await say_and_read(staff, "/faq")
    await press_and_read(staff, "➕ Nouveau sujet")
    assert "une ligne" in await say_and_read(staff, "<b>Logement</b>")  # plain text only, on buttons
    assert "invisible" in await say_and_read(staff, "Loge\u200bment")  # the site's rule too
    taken = topic_title("stipend", "fr") or ""
    assert "porte déjà ce titre" in await say_and_read(staff, f" {taken.lower()} ")  # another topic's title
    await say_and_read(staff, "Logement")
    await say_and_read(staff, "Help with housing")  # an English title starting with "help": its own id
    await say_and_read(staff, "Aucun logement n’est fourni; écrivez à {email}.")
    preview = await say_and_read(staff, "No housing is provided; write to {email}.")
    assert "stages.oig@mri.gouv.qc.ca" in preview, preview
    assert "Publié" in await press_and_read(staff, "✅ Publier")
    await press_and_read(staff, "➕ Ajouter une question exemple")
    assert "Question ajoutée" in await say_and_read(staff, "est-ce qu'un appartement est fourni?")
    ana = emulator.user(9005, "Ana", language_code="fr")
    await at_quebec_birth_date(ana)
    shown = await say_and_read(ana, "un appartement est-il fourni pendant le stage?")  # a paraphrase
    assert "Aucun logement n’est fourni" in shown, shown
    assert "Logement" in await say_and_read(staff, "/faq_history t_help_with_housing")


async def test_a_question_erased_before_staff_use_it_is_stale_never_an_error(
    bot: RunningBot, emulator: TelegramEmulator
) -> None:
    staff = emulator.user(STAFF, "Sophie", language_code="fr")
    ali = emulator.user(9004, "Ali", language_code="fr")
    await at_quebec_birth_date(ali)
    await say_and_read(ali, "je peux venir avec mon perroquet?")
    assert "perroquet" in await say_and_read(staff, "/faq_gaps")
    await press_and_read(staff, "➕ 1")  # staff choose it, then Ali asks to be forgotten
    await say_and_read(ali, "/forget")
    await press_and_read(ali, "Oui, tout effacer")
    shown = await press_and_read(staff, topic_title("location", "fr") or "")
    assert "n’est plus valide" in shown and "Aucune question" in shown, shown
    async with bot.sessions()() as session:
        assert (await session.execute(select(FaqExample))).first() is None
        staff_state = (await session.execute(select(DialogStateRow.state))).scalars().all()
    assert "perroquet" not in str(staff_state)  # the staff member's state never held Ali's words
