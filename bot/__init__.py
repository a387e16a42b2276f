"""Edges of the bot: Telegram, console, Rasa actions, storage, FAQ, broadcasts, command line."""
