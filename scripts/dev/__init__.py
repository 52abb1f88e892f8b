"""Development tooling: the demo launcher, embedded PostgreSQL and Redis, demo data. Not part of the product."""
