"""LLM providers: clients that stream chat completions, behind one small interface."""
