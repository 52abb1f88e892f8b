"""The sync engine: the outbox written with each booking change, the database as the schedule (claims,
leases, retries, the sweep), the service that runs one attempt through the Salesforce client, the snapshots
the planner plans from, trail retention, and each booking's sync state for lists."""
