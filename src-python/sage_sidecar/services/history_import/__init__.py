"""Bring conversation history in from other apps: ChatGPT and Claude data exports, and Sage's
own JSON export. One parser per format turns a file into `Parsed` conversations; `service`
previews or stores them (idempotently: an imported conversation's id is derived from its source)."""
