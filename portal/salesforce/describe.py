"""sObject describes cached per connection and object (DescribeCache), so opening the mapping editor makes no
Salesforce call; "refresh Salesforce fields" fetches them again."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from ..extensions import db
from ..models import DescribeCache, SalesforceConnection, utcnow
from .client import SalesforceClient, client_for_connection


def cached_describe(connection: SalesforceConnection, object_name: str) -> DescribeCache | None:
    query = select(DescribeCache).where(
        DescribeCache.connection_id == connection.id, DescribeCache.object_name == object_name
    )
    return db.session.scalar(query.execution_options(populate_existing=True))


def describe_of(
    connection: SalesforceConnection, object_name: str, client: SalesforceClient | None = None
) -> DescribeCache:
    """The cached describe, fetched from Salesforce only when there is none yet (through `client` when the caller
    has one, so the call counts in its attempt). Raises the client's SalesforceError when a fetch fails."""
    return cached_describe(connection, object_name) or refresh_describe(connection, object_name, client)


def refresh_describe(
    connection: SalesforceConnection, object_name: str, client: SalesforceClient | None = None
) -> DescribeCache:
    """Fetch the describe again and store it; committed, since the next page or sync reads it from the cache."""
    if client is None:
        with client_for_connection(connection.id) as own_client:
            payload = own_client.describe(object_name)
    else:
        payload = client.describe(object_name)
    store_describe(connection, object_name, payload)
    db.session.commit()
    return cached_describe(connection, object_name)


def store_describe(connection: SalesforceConnection, object_name: str, payload: dict) -> dict:
    """Keep a describe fetched elsewhere (e.g. by a sync that found none cached); the caller commits."""
    # An upsert, so two processes storing the same describe at once do not collide on the unique key.
    statement = insert(DescribeCache).values(
        connection_id=connection.id, object_name=object_name, payload=payload, fetched_at=utcnow()
    )
    statement = statement.on_conflict_do_update(
        index_elements=[DescribeCache.connection_id, DescribeCache.object_name],
        set_={"payload": statement.excluded.payload, "fetched_at": statement.excluded.fetched_at},
    )
    db.session.execute(statement)
    return payload
