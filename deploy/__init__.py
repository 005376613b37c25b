"""Deployment helpers (gateway rendering); the rest of deploy/ is configuration, not Python."""
