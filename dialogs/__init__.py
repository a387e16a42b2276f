"""The dialog state machine: questions, parsing, transitions. Imports rules/ only."""
