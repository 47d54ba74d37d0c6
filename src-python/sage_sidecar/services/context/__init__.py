"""The context window: how long a model's is (limits.py), how many tokens a request takes
(tokens.py), and what is left out, summarised or cut when the next request would not fit
(trim.py, summary.py, keeper.py)."""
