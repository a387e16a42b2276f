"""The references of `bench/dialog.py`, written the way python-telegram-bot's own examples go.

`python -m bench.reference_bots echo|conversation [--token T] [--base-url URL] [--workdir DIR]`,
the token and base URL defaulting to TELEGRAM_BOT_TOKEN and TELEGRAM_BASE_URL; it logs "bot ready"
once initialised and polls (`Application.run_polling`, defaults) until SIGTERM.

- `echo`: a bare echo bot, every text answered with itself, the default `HTTPXRequest`.
- `conversation`: the Rabat eligibility questions as a `ConversationHandler` with
  `PicklePersistence` (a file in `--workdir`, or in a temporary directory): the same steps, the
  same buttons (callback data `<step>:<value>`), the same messages per answer as the project's
  bot (one; two for the verdict; HTML), and typed dates (`31/12/2000`, `2000-12-31`) and numbers (`1,5`) read well
  enough for the scripted people. Nothing is validated beyond that, nothing is stored durably
  before the pickle (every 60 s and at the stop).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)
from telegram.warnings import PTBUserWarning

PROGRAMS, CONSENT, BIRTH_DATE, EDUCATION, EXPERIENCE, IOM_INTEREST = range(6)
# The contract's values, written out: a reference bot imports nothing of the project (its memory
# and start are measured, and `rules` would bring pydantic and the offers).
EDUCATION_LEVELS = (
    "bachelor_final_year",
    "bachelor_in_progress",
    "master_in_progress",
    "phd_in_progress",
    "bar_school",
    "graduated",
    "none",
)
ACCEPTED = {"bachelor_final_year", "master_in_progress", "phd_in_progress", "graduated"}
TEXTS: dict[str, dict[str, Any]] = {
    "fr": {
        "welcome": "Bonjour! Je vérifie votre admissibilité aux offres de stage, en quelques questions.",
        "programs": "Quelle offre voulez-vous vérifier?",
        "rabat": "OIM Rabat — lutte contre la traite (ouverte)",
        "quebec": "Québec sans frontières — PSOIG (fermée le 10 octobre 2021)",
        "all": "Toutes les offres ouvertes",
        "title": "✅ Stage en lutte contre la traite et protection de l’enfance, OIM Rabat",
        "consent": "Je conserve vos réponses 180 jours pour vérifier votre admissibilité. /forget les efface. "
        "Êtes-vous d’accord?",
        "accept": "J’accepte",
        "decline": "Non merci",
        "thanks": "Merci!",
        "birth_date": "Quelle est votre date de naissance? (par exemple 31/12/2000)",
        "noted": "C’est noté.",
        "education": "Laquelle de ces situations vous décrit le mieux?",
        "levels": (
            "Dernière année du baccalauréat",
            "Baccalauréat en cours",
            "Maîtrise en cours",
            "Doctorat en cours",
            "École du Barreau",
            "Diplômé·e",
            "Aucune",
        ),
        "experience": "Combien d’années d’expérience professionnelle pertinente avez-vous? (par exemple 1,5)",
        "iom_interest": "Connaissez-vous le travail de l’OIM et vous y intéressez-vous?",
        "yes": "Oui",
        "no": "Non",
        "dont_know": "Je ne sais pas",
        "eligible": "Admissible : vous remplissez tous les critères.",
        "not_eligible": "Non admissible : au moins un critère n’est pas rempli.",
        "done": "Que voulez-vous faire maintenant?",
        "quotes": "Citations : OIM Rabat",
        "review": "Revoir mes réponses",
        "restart": "Recommencer",
        "again": "Je n’ai pas compris. Réessayez, par exemple 31/12/2000.",
    },
    "en": {
        "welcome": "Hello! I check whether you are eligible for internship offers, in a few questions.",
        "programs": "Which offer do you want to check?",
        "rabat": "IOM Rabat — counter-trafficking (open)",
        "quebec": "Québec sans frontières — PSOIG (closed on October 10, 2021)",
        "all": "All open offers",
        "title": "✅ Counter-trafficking and child protection internship, IOM Rabat",
        "consent": "I keep your answers for 180 days to check your eligibility. /forget erases them. Do you agree?",
        "accept": "I agree",
        "decline": "No thanks",
        "thanks": "Thank you!",
        "birth_date": "What is your date of birth? (for example 31/12/2000)",
        "noted": "Noted.",
        "education": "Which of these describes you best?",
        "levels": (
            "Final year of a bachelor's",
            "Bachelor's in progress",
            "Master's in progress",
            "PhD in progress",
            "Bar school",
            "Graduated",
            "None",
        ),
        "experience": "How many years of relevant work experience do you have? (for example 1.5)",
        "iom_interest": "Do you know IOM's work and are you interested in it?",
        "yes": "Yes",
        "no": "No",
        "dont_know": "I don't know",
        "eligible": "Eligible: you meet every criterion.",
        "not_eligible": "Not eligible: at least one criterion is not met.",
        "done": "What would you like to do now?",
        "quotes": "Quotes: IOM Rabat",
        "review": "Review my answers",
        "restart": "Start again",
        "again": "I didn't understand that. Try again, for example 31/12/2000.",
    },
}


def texts(update: Update) -> dict[str, Any]:
    user = update.effective_user
    return TEXTS["en" if user is not None and (user.language_code or "").startswith("en") else "fr"]


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)] for data, label in buttons])


async def say(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text, parse_mode="HTML", reply_markup=markup)


async def pressed(update: Update) -> str:
    """The pressed button's value (after `<step>:`), the query answered."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    return (query.data or "").split(":", 1)[-1]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    t = texts(update)
    assert context.user_data is not None
    context.user_data.clear()
    programs = [("programs:iom-internship-rabat", t["rabat"]), ("programs:quebec-psoig-2021-023", t["quebec"])]
    await say(update, f"{t['welcome']}\n\n{t['programs']}", keyboard(*programs, ("programs:?all", t["all"])))
    return PROGRAMS


async def program(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    t = texts(update)
    assert context.user_data is not None
    context.user_data["program"] = await pressed(update)
    await say(update, t["consent"], keyboard(("consent:yes", t["accept"]), ("consent:no", t["decline"])))
    return CONSENT


async def consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    t = texts(update)
    if await pressed(update) != "yes":
        return ConversationHandler.END
    await say(update, f"{t['thanks']}\n\n{t['birth_date']}", keyboard(("birth_date:?unknown", t["dont_know"])))
    return BIRTH_DATE


def parse_date(text: str) -> date | None:
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


async def birth_date(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    t = texts(update)
    assert update.effective_message is not None and context.user_data is not None
    born = parse_date(update.effective_message.text or "")
    if born is None:
        await say(update, t["again"], keyboard(("birth_date:?unknown", t["dont_know"])))
        return BIRTH_DATE
    context.user_data["birth_date"] = born
    levels = [(f"education:{level}", label) for level, label in zip(EDUCATION_LEVELS, t["levels"], strict=True)]
    text = f"{t['noted']} {born.isoformat()}\n\n{t['education']}"
    await say(update, text, keyboard(*levels, ("education:?unknown", t["dont_know"])))
    return EDUCATION


async def education(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    t = texts(update)
    assert context.user_data is not None
    context.user_data["education"] = await pressed(update)
    await say(update, t["experience"], keyboard(("relevant_experience_years:?unknown", t["dont_know"])))
    return EXPERIENCE


async def experience(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    t = texts(update)
    assert update.effective_message is not None and context.user_data is not None
    try:
        context.user_data["experience"] = float((update.effective_message.text or "").replace(",", "."))
    except ValueError:
        await say(update, t["again"], keyboard(("relevant_experience_years:?unknown", t["dont_know"])))
        return EXPERIENCE
    buttons = [("iom_interest:yes", t["yes"]), ("iom_interest:no", t["no"]), ("iom_interest:?unknown", t["dont_know"])]
    await say(update, f"{t['noted']} {context.user_data['experience']}\n\n{t['iom_interest']}", keyboard(*buttons))
    return IOM_INTEREST


async def iom_interest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    t = texts(update)
    data = context.user_data
    assert data is not None
    data["iom_interest"] = await pressed(update) == "yes"
    born: date = data["birth_date"]
    today = date.today()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    eligible = 20 <= age <= 36 and data["education"] in ACCEPTED and data["experience"] < 2 and data["iom_interest"]
    await say(update, f"<b>{t['title']}</b>\n{t['eligible' if eligible else 'not_eligible']}")
    buttons = [
        ("quotes:iom-internship-rabat", t["quotes"]),
        ("done:review", t["review"]),
        ("done:restart", t["restart"]),
    ]
    await say(update, t["done"], keyboard(*buttons))
    return ConversationHandler.END


def conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    warnings.filterwarnings("ignore", category=PTBUserWarning)  # per_message=False with buttons: as intended
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[CommandHandler("start", start)],
        states={
            PROGRAMS: [CallbackQueryHandler(program, pattern="^programs:")],
            CONSENT: [CallbackQueryHandler(consent, pattern="^consent:")],
            BIRTH_DATE: [MessageHandler(text, birth_date)],
            EDUCATION: [CallbackQueryHandler(education, pattern="^education:")],
            EXPERIENCE: [MessageHandler(text, experience)],
            IOM_INTEREST: [CallbackQueryHandler(iom_interest, pattern="^iom_interest:")],
        },
        fallbacks=[CommandHandler("start", start)],
        name="eligibility",
        persistent=True,
    )


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


async def ready(_application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    print("bot ready", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reference_bots", description=__doc__.splitlines()[0])
    parser.add_argument("bot", choices=("echo", "conversation"))
    parser.add_argument("--token", default=os.environ.get("TELEGRAM_BOT_TOKEN"))
    parser.add_argument("--base-url", default=os.environ.get("TELEGRAM_BASE_URL"))
    parser.add_argument("--workdir", type=Path, help="where the pickle goes (default: a temporary directory)")
    args = parser.parse_args()
    if not args.token or not args.base_url:
        parser.error("a token and a base URL (--token/--base-url or TELEGRAM_BOT_TOKEN/TELEGRAM_BASE_URL)")
    with tempfile.TemporaryDirectory() as tmp:
        builder = Application.builder().token(args.token).base_url(args.base_url).post_init(ready)
        if args.bot == "conversation":
            builder = builder.persistence(PicklePersistence(filepath=(args.workdir or Path(tmp)) / "conversations"))
        application = builder.build()
        if args.bot == "echo":
            application.add_handler(MessageHandler(filters.TEXT, echo))
        else:
            application.add_handler(conversation())
        application.run_polling()


if __name__ == "__main__":
    main()
