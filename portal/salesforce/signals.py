"""Hooks for other features: a team's connection broke (tell owners/admins, park syncs) or came back
(re-enqueue parked syncs). Sent after the change is committed; the sender is the Flask app."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# keyword arguments: team_id, connection_id, reason (e.g. "invalid_grant: expired access/refresh token")
connection_broken = _signals.signal("salesforce-connection-broken")

# keyword arguments: team_id, connection_id
connection_restored = _signals.signal("salesforce-connection-restored")
