"""What staff, organizers and admins do from Telegram: roles, the FAQ editor, unanswered questions."""
