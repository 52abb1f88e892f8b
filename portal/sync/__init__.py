"""Posting completed bookings to Salesforce: the pure planner (plan, values, sources, fields, catalogue), the
snapshots it plans from, the outbox and schedule, the service that applies plans, and the errors page."""
