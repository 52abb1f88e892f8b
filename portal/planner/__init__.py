"""The pure sync planner: from a booking snapshot and Salesforce answers to the next Composite request or
the outcome. No Flask, SQLAlchemy, HTTP or clock in this package (tests/test_layers.py and the import contracts
enforce it)."""
