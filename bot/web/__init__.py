"""The staff website: FAQ, unanswered questions, broadcasts, offers, statistics.

Server-rendered pages (aiohttp's server, Jinja2, htmx shipped in `static/`: no build step, no
CDN), in French and English from the bot's own catalogs. Sign-in without passwords: Telegram's
Login Widget or a one-time link the bot sends on /web. Every change goes through the same store
functions as the Telegram commands, and so into the same audit log.
"""
