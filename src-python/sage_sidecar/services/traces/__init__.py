"""Runs and traces: every reply's model and tool calls, recorded off the streaming path
(recorder.py), read back with totals and estimated cost (store.py, prices.py), replayed against
the scripted provider (replay.py). Redaction before anything is stored: redact.py."""
