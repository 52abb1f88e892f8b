"""Faithful local stand-ins for the external services the portal talks to (design.md section 6)."""
