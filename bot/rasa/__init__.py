"""The Rasa action server: the same rules, parsers, catalogs and FAQ as the Telegram bot.

`python -m bot rasa-actions [--port 5055]` serves rasa-sdk's own endpoint with these actions:
`validate_eligibility_form`, `action_ask_<fact>` (one per fact: the chat's question and its
buttons), `action_check_eligibility` and `action_answer_faq`. Slots carry the contract's fact
names plus `language`, `programs`, `unknown_facts`, `eligibility_results` and `faq_topic`.

rasa-sdk is an optional dependency (`pip install '.[rasa]'`): nothing else imports this package.
"""
