"""Deadline reminders: people's opt-ins (subscriptions), when reminders fall due (schedule) and
the job that queues them in the outbox (scheduler)."""
