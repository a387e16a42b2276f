"""The Telegram channel (python-telegram-bot v22)."""

import os

# Opt in to python-telegram-bot's coming behaviour: durations such as RetryAfter.retry_after are
# datetime.timedelta (the bot reads both), without a deprecation warning on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "1")
