"""Storage on SQLite and PostgreSQL: migrations, state, dedupe, erasure, retention, concurrency."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage import migrate, outbox, repo
from bot.storage.db import create_engine, sessionmaker
from bot.storage.leases import Liveness, new_owner
from bot.storage.migrate import upgrade_async
from bot.storage.models import (
    PERSONAL_TABLES,
    AuditEntry,
    Base,
    Broadcast,
    FaqExample,
    FaqRevision,
    FaqTopic,
    Person,
    RoleGrant,
    Subscription,
)

from ...conftest import BACKENDS
from ...support.schema import columns_holding, columns_referencing_people

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


STATE = {"v": 1, "lang": "fr", "phase": "question", "answers": {"birth_date": "1995-03-15", "spanish": True}}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def person(session: AsyncSession, external_id: int | str, channel: str = "telegram") -> int:
    """The bot's own id of a person known on `channel` as `external_id` (created if new)."""
    return (await repo.lock_person(session, channel, str(external_id))).id


async def test_migrations_create_exactly_the_models(database_url: str) -> None:
    await upgrade_async(database_url)
    await upgrade_async(database_url)  # idempotent: a second process starting does nothing
    engine = create_engine(database_url)
    async with engine.connect() as connection:

        def diff(sync: Any) -> list[Any]:
            return compare_metadata(MigrationContext.configure(sync), Base.metadata)

        assert await connection.run_sync(diff) == []
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    assert set(PERSONAL_TABLES) <= tables


async def test_state_answers_and_verdicts_are_saved(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        pid = await person(session, 42)
        await repo.save_state(session, pid, STATE, [("quebec-psoig-2021-023", "incomplete", [], ["citizenship"])])
    async with sessions.begin() as session:
        assert await repo.load_state(session, pid) == STATE
        smaller = {**STATE, "answers": {"birth_date": "1995-03-16"}}
        await repo.save_state(session, pid, smaller)
    async with sessions.begin() as session:
        document = await repo.export_person(session, pid)
    assert document["answers"] == {"birth_date": "1995-03-16"}
    assert document["verdicts"]["quebec-psoig-2021-023"]["missing"] == ["citizenship"]
    assert document["person"]["channel"] == "telegram" and document["person"]["telegram_user_id"] == 42


async def test_people_are_keyed_by_channel_and_channel_id(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        telegram = await person(session, 42)
        console = await person(session, "42", channel="console")
        again = await person(session, "42")
    assert telegram != console and again == telegram  # the same id on two channels: two people
    async with sessions.begin() as session:
        await repo.save_state(session, telegram, STATE)
    async with sessions() as session:
        assert await repo.load_state(session, console) is None


async def test_another_dialog_never_overwrites_the_eligibility_answers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from bot.storage.models import DialogStateRow

    async with sessions.begin() as session:
        pid = await person(session, 42)
        await repo.save_state(session, pid, STATE)
        session.add(DialogStateRow(person_id=pid, dialog="faq_edit", version=1, state={"v": 1}, updated_at=T0))
    async with sessions() as session:
        assert await repo.load_state(session, pid) == STATE
        assert await repo.load_state(session, pid, "faq_edit") == {"v": 1}
        assert (await repo.export_person(session, pid))["other_dialogs"] == {"faq_edit": {"v": 1}}


async def test_an_update_is_stored_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    key = repo.person_key("telegram", "42")
    async with sessions.begin() as session:
        assert await repo.store_update(session, 1001, key, {"update_id": 1001})
    async with sessions.begin() as session:
        assert not await repo.store_update(session, 1001, key, {"update_id": 1001})
        pending = await repo.pending_updates(session, key)
        assert [u.update_id for u in pending] == [1001]
        repo.mark_processed(pending[0])
    async with sessions.begin() as session:
        assert await repo.pending_updates(session, key) == []
        assert not await repo.store_update(session, 1001, key, {"update_id": 1001})  # redelivered: still refused


def staff_signed(author: int | None) -> dict[str, object]:
    return {"author_id": author, "author_role": "staff", "created_at": T0}


async def _fill(session: AsyncSession, external_id: int) -> int:
    """A person with a row in every table that can hold something about them; returns their id."""
    pid = await person(session, external_id)
    await repo.save_state(session, pid, STATE, [("iom-internship-rabat", "eligible", [], [])])
    session.add(Subscription(person_id=pid, program_id="iom-internship-rabat", topic="deadline", created_at=T0))
    # what they did as staff: a topic, an answer, an example, a role granted to someone, the audit trail
    staff = {"created_by": pid, "created_role": "staff", "created_at": T0}
    session.add(FaqTopic(id=f"topic{pid}", title_fr="Logement", title_en="Housing", **staff))
    signed = {"author_id": pid, "author_role": "staff", "created_at": T0}
    session.add(FaqRevision(topic="stipend", program_id=f"offer-{pid}", text_fr="x", text_en="y", **signed))
    session.add(FaqExample(topic="stipend", lang="fr", text=f"paye {pid}", **signed))
    # their own question, made an example by staff: it goes with them
    session.add(FaqExample(topic="location", lang="fr", text=f"mon chien {pid}?", asker_id=pid, **staff_signed(None)))
    session.add(RoleGrant(user_id=external_id + 1000, role="staff", granted_by=pid, granted_at=T0))
    session.add(RoleGrant(user_id=external_id, role="staff", granted_by=None, granted_at=T0))  # their own role
    detail = {"role": "staff"}
    session.add(
        AuditEntry(at=T0, actor_id=pid, actor_role="admin", action="grant", subject_user_id=None, detail=detail)
    )
    session.add(
        AuditEntry(at=T0, actor_id=None, actor_role="admin", action="grant", subject_user_id=external_id, detail=detail)
    )
    session.add(
        Broadcast(
            text_fr="x",
            text_en="y",
            audience={"kind": "subscribers"},
            status="done",
            total=1,
            origin="telegram",
            progress_chat_id=external_id,
            progress_message_id=5,
            **staff,
        )
    )
    await repo.record_unanswered(session, pid, "Où est le stage?", "fr")
    await outbox.enqueue(session, pid, external_id, [{"method": "sendMessage", "text": "x"}])
    payload = {"message": {"text": "1995-03-15", "from": {"id": external_id}, "chat": {"id": external_id}}}
    key = repo.person_key("telegram", str(external_id))
    await repo.store_update(session, 1000 + pid, key, payload)
    for applied in await repo.pending_updates(session, key):
        repo.mark_processed(applied)
    return pid


async def test_forget_leaves_nothing_about_the_person_in_any_column(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        amina = await _fill(session, 7770042)
        omar = await _fill(session, 7770043)
    async with sessions() as session:
        before = await columns_holding(session, amina, "7770042")
    # the search is able to see them: every table with a reference to people, and the raw Telegram ids
    referencing = columns_referencing_people()
    assert {"faq_revisions.author_id", "faq_examples.author_id", "audit_log.actor_id"} <= referencing
    assert referencing | {"people.id", "people.external_id", "outbox.chat_id"} <= before
    async with sessions.begin() as session:
        await repo.erase_person(session, amina)
    async with sessions() as session:
        assert await columns_holding(session, amina, "7770042") == set()
        query = select(FaqRevision).where(FaqRevision.program_id == f"offer-{amina}")
        faq = (await session.execute(query)).scalar_one()
        # what they edited as staff stays, signed by their role only
        assert (faq.author_id, faq.author_role, faq.text_fr) == (None, "staff", "x")
        assert (await session.get(FaqTopic, f"topic{amina}")) is not None
        assert await session.get(RoleGrant, (7770042, "staff")) is None  # their own role goes with them
        granted = await session.get(RoleGrant, (7770042 + 1000, "staff"))
        assert granted is not None and granted.granted_by is None  # the role they granted stays
        erasure = (
            await session.execute(select(AuditEntry.action, AuditEntry.actor_role).where(AuditEntry.id > 4))
        ).all()
        # the erasure is audited (without naming them): their example left matching, their role ended
        assert sorted(tuple(e) for e in erasure) == [("faq.example.erased", "privacy"), ("role.erased", "privacy")]
        assert await repo.content_version(session) == 2  # every process reloads: the role ends everywhere
        examples = (await session.execute(select(FaqExample.text))).scalars().all()
        assert f"mon chien {amina}?" not in examples and f"mon chien {omar}?" in examples
        assert f"paye {amina}" in examples  # what they wrote as staff stays
        # the other person is untouched
        assert await session.get(Person, omar) is not None
        assert (await repo.export_person(session, omar))["answers"] == {"birth_date": "1995-03-15", "spanish": True}


async def test_a_message_sent_after_the_erasure_was_asked_for_is_kept_for_a_new_conversation(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    key = repo.person_key("telegram", "7770044")
    async with sessions.begin() as session:
        amina = await _fill(session, 7770044)
        await repo.store_update(session, 99, key, {"message": {"text": "/start"}})  # typed after "yes, erase"
        await repo.erase_person(session, amina)
    async with sessions() as session:
        assert [u.update_id for u in await repo.pending_updates(session, key)] == [99]
        assert await repo.find_person(session, "telegram", "7770044") is None


async def test_retention_purges_inactive_people_only(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        old = await _fill(session, 42)
        recent = await _fill(session, 43)
        await session.execute(update(Person).where(Person.id == old).values(last_seen_at=T0 - timedelta(days=181)))
        await session.execute(update(Person).where(Person.id == recent).values(last_seen_at=T0 - timedelta(days=179)))
    async with sessions.begin() as session:
        assert await repo.purge_expired(session, 180, at=T0) == 1
    async with sessions() as session:
        assert await repo.load_state(session, old) is None
        assert await repo.load_state(session, recent) == STATE


async def test_questions_staff_see_are_kept_no_longer_than_the_retention(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        pid = await person(session, 44)
        await repo.record_unanswered(session, pid, "logement?", "fr", at=T0 - timedelta(days=181))
        await repo.record_unanswered(session, pid, "parking?", "fr", at=T0 - timedelta(days=10))
    async with sessions.begin() as session:
        await repo.purge_expired(session, 180, at=T0)
    async with sessions() as session:
        assert [q["text"] for q in (await repo.export_person(session, pid))["questions_asked"]] == ["parking?"]


async def test_concurrent_writers_never_fail(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids: dict[int, int] = {}

    async def writer(external_id: int) -> None:
        for step in range(5):
            async with sessions.begin() as session:
                pid = ids[external_id] = await person(session, external_id)
                state = await repo.load_state(session, pid) or {"v": 1, "answers": {}}
                state = {**state, "answers": {**state["answers"], f"n{step}": step}}
                await repo.save_state(session, pid, state)

    await asyncio.gather(*(writer(i) for i in range(1, 21)))
    async with sessions() as session:
        for pid in ids.values():
            state = await repo.load_state(session, pid)
            assert state is not None and len(state["answers"]) == 5
    assert len(set(ids.values())) == 20


async def test_one_person_s_transactions_are_serialised(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Two read-modify-write transactions on one person: no update is lost."""

    inside = asyncio.Event()  # set while one transaction holds the person, before it writes
    pids: list[int] = []

    async def bump(first: bool) -> None:
        if not first:
            await inside.wait()  # the others start while the first is mid-way
        async with sessions.begin() as session:
            pid = await person(session, 7)
            pids.append(pid)
            state = await repo.load_state(session, pid) or {"v": 1, "answers": {}, "count": 0}
            if first:
                inside.set()
                for _ in range(5):  # the transaction stays open over round trips: the others try meanwhile
                    await session.execute(text("SELECT 1"))
            await repo.save_state(session, pid, {**state, "count": state.get("count", 0) + 1})

    await asyncio.gather(*(bump(i == 0) for i in range(8)))
    async with sessions() as session:
        state = await repo.load_state(session, pids[0])
    assert state is not None and state["count"] == 8


async def test_outbox_leases_one_message_per_person_at_a_time(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        pid = await person(session, 42)
        await outbox.enqueue(session, pid, 42, [{"text": "a"}, {"text": "b"}], at=T0)
    async with sessions.begin() as session:
        first, _ = await outbox.claim_next(session, pid, owner="host:1/aaa", at=T0)
        assert first is not None and first.payload == {"text": "a"} and first.lease_owner == "host:1/aaa"
    async with sessions.begin() as session:
        later = T0 + timedelta(seconds=10)
        busy, wait = await outbox.claim_next(session, pid, owner="host:2/bbb", at=later)
        # "a" is out: not claimed again; looked at again after as long as it has been held (10 s),
        # not when its lease ends (20 s later): its sender records it in a moment, unless it died
        assert busy is None and wait == 10.0
        await session.execute(text("UPDATE outbox SET status = 'sent' WHERE id = :id"), {"id": first.id})
    async with sessions.begin() as session:
        second, _ = await outbox.claim_next(session, pid, owner="host:2/bbb", at=T0 + timedelta(seconds=11))
        assert second is not None and second.payload == {"text": "b"}


async def test_a_restarted_process_takes_back_its_predecessor_s_leases_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        amina, omar = await person(session, 1), await person(session, 2)
        await outbox.enqueue(session, amina, 1, [{"text": "to amina"}], at=T0)
        await outbox.enqueue(session, omar, 2, [{"text": "to omar"}], at=T0)
        dead, _ = await outbox.claim_next(session, amina, owner="host:8443/dead", at=T0)
        alive, _ = await outbox.claim_next(session, omar, owner="host:8444/alive", at=T0)
        assert dead is not None and alive is not None
    async with sessions.begin() as session:  # the process of host:8443 restarts one second later
        assert await outbox.reclaim_leases(session, "host:8443", "host:8443/new", at=T0 + timedelta(seconds=1)) == 1
    async with sessions.begin() as session:
        again, wait = await outbox.claim_next(session, amina, owner="host:8443/new", at=T0 + timedelta(seconds=1))
        assert again is not None and again.payload == {"text": "to amina"} and wait == 0
        held, wait = await outbox.claim_next(session, omar, owner="host:8443/new", at=T0 + timedelta(seconds=1))
        assert held is None and wait == 1.0  # another instance's live lease is left alone


async def test_the_chat_flood_bucket_is_shared_through_the_database(sessions: async_sessionmaker[AsyncSession]) -> None:
    pace = outbox.ChatPace(per_second=1.0, burst=2)

    async def send(at: datetime) -> tuple[str | None, float]:
        async with sessions.begin() as session:
            row, wait = await outbox.claim_next(session, pid, pace, at=at)
            if row is None:
                return None, wait
            row.status = "sent"
            await outbox.charge_send(session, pid, pace, at=at)
            return str(row.payload["text"]), wait

    async with sessions.begin() as session:
        pid = (await repo.lock_person(session, "telegram", "42", at=T0)).id
        await outbox.enqueue(session, pid, 42, [{"text": str(i)} for i in range(5)], at=T0)
    # a new person's chat starts with one message at once (an erased person's may have just gone)
    assert await send(T0) == ("0", 0.0)
    assert await send(T0 + timedelta(seconds=0.25)) == (None, 0.75)
    assert await send(T0 + timedelta(seconds=1)) == ("1", 0.0)
    # after a quiet moment, a burst of two, then one a second
    later = T0 + timedelta(seconds=10)
    assert await send(later) == ("2", 0.0)
    assert await send(later) == ("3", 0.0)
    assert await send(later) == (None, 1.0)
    assert await send(later + timedelta(seconds=1)) == ("4", 0.0)


async def test_migration_0002_keeps_every_telegram_user_s_data(database_url: str) -> None:
    """A database of the first release: Telegram ids were the people's keys. After the upgrade the
    same people, answers, states and pending updates are there, keyed by channel; rows a group
    post once created for the group itself are gone."""
    await asyncio.to_thread(migrate.upgrade, database_url, "0001")
    engine = create_engine(database_url)
    legacy = [
        "INSERT INTO people (id, chat_id, language, blocked, created_at, last_seen_at)"
        " VALUES (5550001, 5550001, 'en', false, '2026-01-01', '2026-01-02'),"
        " (-1001234, -1001234, NULL, false, '2026-01-01', '2026-01-02')",
        "INSERT INTO dialog_states (person_id, version, state, updated_at)"
        """ VALUES (5550001, 1, '{"v": 1, "lang": "en", "answers": {"birth_date": "1990-01-01"}}', '2026-01-02'),"""
        " (-1001234, 1, '{}', '2026-01-02')",
        "INSERT INTO answers (person_id, fact, value, answered_at)"
        """ VALUES (5550001, 'birth_date', '{"value": "1990-01-01"}', '2026-01-02')""",
        "INSERT INTO inbox (update_id, person_id, payload, received_at) VALUES (77, 5550001, '{}', '2026-01-02')",
    ]
    async with engine.begin() as connection:
        for statement in legacy:
            await connection.exec_driver_sql(statement)
    await engine.dispose()
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    async with sessionmaker(engine)() as session:
        amina = await repo.find_person(session, "telegram", "5550001")
        assert amina is not None and amina.id == 5550001 and amina.language == "en"
        assert (await repo.load_state(session, amina.id) or {})["answers"] == {"birth_date": "1990-01-01"}
        assert (await repo.export_person(session, amina.id))["answers"] == {"birth_date": "1990-01-01"}
        assert [u.update_id for u in await repo.pending_updates(session, "telegram:5550001")] == [77]
        assert await repo.find_person(session, "telegram", "-1001234") is None  # a group was never a person
        assert await session.scalar(select(func.count()).select_from(Person)) == 1
    async with sessionmaker(engine).begin() as session:
        newcomer = await person(session, "amina", channel="console")
    assert newcomer != 5550001  # new people get new keys after the old ones
    await engine.dispose()


async def test_a_predecessor_still_running_keeps_its_leases(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    engine = create_engine(database_url)
    # the old process, still sending during a rolling deploy (on SQLite, known by its process id)
    running = Liveness(engine, f"host/{os.getppid()}/feedbeef")
    await running.start()
    successor = Liveness(engine, new_owner("host"))
    ended = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await ended.wait()
    dead = f"host/{ended.pid}/0badc0de"  # a process that has ended
    try:
        async with sessions.begin() as session:
            amina, omar = await person(session, 1), await person(session, 2)
            await outbox.enqueue(session, amina, 1, [{"text": "to amina"}], at=T0)
            await outbox.enqueue(session, omar, 2, [{"text": "to omar"}], at=T0)
            assert (await outbox.claim_next(session, amina, owner=running.owner, at=T0))[0] is not None
            assert (await outbox.claim_next(session, omar, owner=dead, at=T0))[0] is not None
        async with sessions.begin() as session:
            assert await successor.alive(session, running.owner)
            assert not await successor.alive(session, dead)
            reclaimed = await outbox.reclaim_leases(session, "host", successor.owner, T0, alive=successor.alive)
        assert reclaimed == 1  # the dead one's only
        if running.postgres:  # the old process ends: its lock goes with its connection
            await running.stop()
            async with sessions.begin() as session:
                assert not await successor.alive(session, running.owner)
                assert await outbox.reclaim_leases(session, "host", successor.owner, T0, alive=successor.alive) == 1
    finally:
        await running.stop()
        await engine.dispose()
