"""How fast the rules and the dialog engine are, relative to storing the state as JSON.

The baseline is what every channel pays per step anyway: a JSON round trip of a dialog state.
Ratios keep the figures comparable across machines; timings use the best of several runs.
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date

from bot.i18n import gettext
from bot.render import render_output
from dialogs.engine import Engine, Event
from dialogs.state import DialogState
from rules import evaluate, load_programs, parse_facts, questions_to_ask

TODAY = date(2021, 9, 15)
PROGRAMS = load_programs()
FACTS = parse_facts({
    "birth_date": "1995-03-15", "education": "master_in_progress", "citizenship": "canadian", "quebec_domicile": True,
    "quebec_resident_since": "2010-01-01", "french_writing": "excellent", "english_writing": "excellent",
    "iom_interest": True, "prior_psoig_internship": False, "spanish": True, "field_of_study": "law",
})  # fmt: skip
SCRIPT = ["programs:?all", "1995-03-15", "education:master_in_progress", "iom_interest:yes", "citizenship:canadian",
          "quebec_domicile:yes", "2010-01-01", "french_writing:excellent", "english_writing:excellent",
          "prior_psoig_internship:no", "spanish:yes", "field_of_study:law"]  # fmt: skip


def best(action: Callable[[], object], repeat: int = 5, number: int = 200) -> float:
    """Seconds per call, best of `repeat` runs of `number` calls."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            action()
        timings.append((time.perf_counter() - start) / number)
    return min(timings)


def full_dialog(engine: Engine) -> DialogState:
    state, _ = engine.step(None, Event.start(TODAY))
    for step in SCRIPT:
        event = Event.text(step, TODAY) if step[0].isdigit() else Event.press(step, TODAY)
        state, outputs = engine.step(state.to_json(), event)
        for output in outputs:
            render_output(output, state.lang)
    return state


def main() -> None:
    engine = Engine(PROGRAMS, translate=gettext)
    stored = full_dialog(engine).to_json()
    baseline = best(lambda: json.loads(json.dumps(stored)))
    cases = {
        "evaluate, one offer": best(lambda: evaluate(FACTS, PROGRAMS["quebec-psoig-2021-023"], TODAY)),
        "questions_to_ask, both offers": best(lambda: questions_to_ask({}, PROGRAMS.values(), TODAY)),
        "engine step + render, per answer": best(lambda: full_dialog(engine), number=20) / (len(SCRIPT) + 1),
    }
    print(f"baseline: JSON round trip of a dialog state  {baseline * 1e6:9.1f} µs")
    for name, seconds in cases.items():
        print(f"{name:<42} {seconds * 1e6:9.1f} µs   {seconds / baseline:6.1f}× baseline   {1 / seconds:10.0f}/s")
    tracemalloc.start()
    states = [full_dialog(engine).to_json() for _ in range(200)]
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = len(json.dumps(states[0]).encode())
    print(f"stored state of a finished dialog           {size:9d} bytes")
    per_dialog = current / len(states) / 1024
    print(f"memory per finished dialog kept in memory   {per_dialog:9.1f} KiB (peak {peak / 1024:.0f} KiB)")


def run(args: list[str]) -> None:
    """`python -m bench [engine] [faq] [broadcast] [rasa] [dialog] [options]`: the benchmarks named, or
    every one; options (from the first `-`) go to the one benchmark named that takes options (broadcast:
    `--database-url URL`; dialog: `--people N --duration S --warmup S --rate R --open-duration S
    --database-url URL --configuration-duration S`), or to broadcast when none is named. Without
    options, the dialog benchmark adds its PostgreSQL rows when TEST_DATABASE_URL is set."""
    from . import broadcast, dialog, faq, rasa  # only here: the engine's figures need none of their imports

    split = next((n for n, arg in enumerate(args) if arg.startswith("-")), len(args))
    names, options = args[:split], args[split:]
    benchmarks: dict[str, Callable[[], None]] = {
        "engine": main,
        "faq": faq.main,
        "broadcast": lambda: broadcast.main(options if "dialog" not in names else ()),
        "rasa": rasa.main,
        "dialog": lambda: dialog.main(options if "dialog" in names else ()),
    }
    unknown = [name for name in names if name not in benchmarks]
    if unknown:
        print(
            f"python -m bench: unknown benchmark {unknown[0]!r}: choose from {', '.join(benchmarks)}", file=sys.stderr
        )
        raise SystemExit(2)
    with_options = [name for name in names if name in ("broadcast", "dialog")]
    if options and names and len(with_options) != 1:
        print(
            f"python -m bench: {options[0]} is an option of the broadcast or the dialog benchmark: name one of them",
            file=sys.stderr,
        )
        raise SystemExit(2)
    for number, name in enumerate(names or list(benchmarks)):
        if number:
            print()
        benchmarks[name]()


if __name__ == "__main__":
    run(sys.argv[1:])
