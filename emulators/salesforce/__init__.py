"""A Salesforce-compatible org in memory: OAuth login hosts, the REST data API, rules and faults.

Run it with ``python -m emulators.salesforce --port N`` or ``emulators.salesforce.testing.start_emulator``.
"""
