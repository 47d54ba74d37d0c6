"""The scripted model server used by tests, benchmarks and `scripts/run.sh --demo`: not a provider
client and not part of the app (nothing the app runs imports it, so the frozen build leaves it out).
"""
