"""Tools agents can call. Built-ins live here; MCP tools join through the same interface."""
