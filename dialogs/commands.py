"""The commands a person may give at any point: /back, /restart, /language, /help, /review, /skip."""

from __future__ import annotations

from rules import N_, Message

from . import prompts
from .events import Event
from .flow import Flow
from .outputs import Output, Say
from .parsing import normalize
from .questions import QUESTIONS, dependents
from .state import ANSWERING, DialogState, Phase

# What people type after /language, in either language (compared without accents or case).
LANGUAGE_NAMES = {
    **dict.fromkeys(("fr", "fra", "francais", "french", "f"), "fr"),
    **dict.fromkeys(("en", "eng", "anglais", "english", "e"), "en"),
}


class Commands(Flow):
    """One handler per command; `Engine` maps the command names to them."""

    def _back(self, state: DialogState, event: Event) -> list[Output]:
        today = event.today
        if state.phase is Phase.CONFIRM_DATE:
            state.phase, state.candidates = Phase.QUESTION, []
            return self._reask(state, today)
        if state.editing is not None or state.phase is Phase.REVIEW:
            state.editing = None
            return self._advance(state, today)
        if state.phase in (Phase.QUESTION, Phase.DONE) and state.asked:
            last = state.asked[-1]
            state.forget({last} | dependents(last))
            state.phase, state.pending, state.attempts = Phase.QUESTION, last, 0
            return self._reask(state, today)
        if state.phase in (Phase.QUESTION, Phase.CONSENT, Phase.DECLINED, Phase.DONE):
            state.phase, state.pending = Phase.PROGRAMS, None
            return [prompts.programs_prompt(self.programs, today)]
        return [Say(Message(N_("back.nothing"))), *self._reask(state, today)]

    def _restart(self, state: DialogState, event: Event) -> list[Output]:
        fresh = DialogState(lang=state.lang, consent=state.consent, phase=Phase.PROGRAMS)
        state.__dict__.update(fresh.__dict__)
        return [Say(Message(N_("restarted"))), prompts.programs_prompt(self.programs, event.today)]

    def _language(self, state: DialogState, event: Event) -> list[Output]:
        wanted = normalize(event.arg).strip(" .!")
        chosen = LANGUAGE_NAMES.get(wanted) or LANGUAGE_NAMES.get(wanted.replace("_", "-").split("-")[0])
        if wanted and chosen is None:
            return [Say(Message(N_("language.unsupported"))), *self._reask(state, event.today)]
        state.lang = chosen or ("en" if state.lang == "fr" else "fr")
        if state.phase is Phase.DONE:  # the verdict itself, in the new language
            return [Say(Message(N_("language.changed"))), *self._advance(state, event.today)]
        return [Say(Message(N_("language.changed"))), *self._reask(state, event.today)]

    def _help(self, state: DialogState, event: Event) -> list[Output]:
        outputs: list[Output] = []
        if state.phase in ANSWERING and state.pending:
            outputs.append(Say(Message(QUESTIONS[state.pending].help)))
        outputs.append(Say(Message(N_("help.commands"))))
        return outputs + self._reask(state, event.today)

    def _review(self, state: DialogState, event: Event) -> list[Output]:
        if not state.answers and not state.skipped:
            return [Say(Message(N_("review.empty"))), *self._reask(state, event.today)]
        state.phase, state.editing = Phase.REVIEW, None
        return [prompts.review_prompt(state)]

    def _skip(self, state: DialogState, event: Event) -> list[Output]:
        return self._set_aside(state, event.today, dont_know=False)
