"""The dialog state machine: questions, parsing, transitions. Imports rules/ only.

Entry points for channels: `engine.Engine.step(state, event)` with `events.Event` (also importable
from `engine`), `state.DialogState` and `state.Phase`, the `outputs` types, and
`answers.parse_answer` for a channel that reads one answer itself (a Rasa `validate_<slot>`).
"""
