"""Organizer broadcasts: an audience, a message in both languages, one outbox row per recipient."""
