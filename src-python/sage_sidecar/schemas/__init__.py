"""Pydantic models at the API boundary, one module per domain."""
