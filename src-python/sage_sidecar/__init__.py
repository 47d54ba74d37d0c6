"""Sage Desktop sidecar: the local agent platform the Tauri shell spawns."""

__version__ = "0.1.0"
