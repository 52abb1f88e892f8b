"""Unbound extensions, bound to an app in create_app: database session, login, CSRF, OAuth, Redis/RQ."""

from __future__ import annotations

import time

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from redis import Redis
from rq import Queue
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, scoped_session, sessionmaker


def sqlalchemy_url(database_url: str) -> str:
    """Use psycopg 3 whatever scheme spelling the environment gives."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


class AppSession(Session):
    """Binds to the current app's engine at each use, so apps in one process (tests) keep their own databases;
    an explicit bind (tests' rollback-per-test connection) wins."""

    def get_bind(self, mapper=None, clause=None, **kwargs):
        if self.bind is not None:
            return self.bind
        return current_app.extensions["database"].engine


class AppDatabase:
    """One app's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it has been idle `idle_seconds` or more (a restarted server
    or a dropped idle connection); a dead one is replaced before the request sees it. Connections in steady use are
    not checked: SQLAlchemy's pool_pre_ping costs a round trip on every checkout, the largest part of a cached
    booking page. A server that goes away under load fails the statements in flight, and the pool then replaces
    every connection it holds (SQLAlchemy's disconnect handling)."""

    @event.listens_for(engine, "checkin")
    def note_idle(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # a new connection, or one in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError() from error  # the pool discards it and checks out another


class Database:
    """A request-scoped session (removed at the end of each app context) over the current app's engine."""

    def __init__(self) -> None:
        self.session_factory = sessionmaker(class_=AppSession, expire_on_commit=False)
        self.session: scoped_session[Session] = scoped_session(self.session_factory)

    def init_app(self, app: Flask) -> None:
        engine = create_engine(sqlalchemy_url(app.config["DATABASE_URL"]), pool_size=app.config.get("DB_POOL_SIZE", 5))
        ping_when_idle(engine, app.config["DB_PING_AFTER_IDLE_SECONDS"])
        app.extensions["database"] = AppDatabase(engine)
        app.teardown_appcontext(lambda exc: self.session.remove())

    @property
    def engine(self) -> Engine:
        return current_app.extensions["database"].engine


class RedisQueues:
    """The app's Redis connection and its RQ queues (rq 2.x+: the connection is always explicit)."""

    def init_app(self, app: Flask) -> None:
        app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"]) if app.config["REDIS_URL"] else None

    @property
    def redis(self) -> Redis:
        connection = current_app.extensions["redis"]
        if connection is None:
            raise RuntimeError("REDIS_URL is not set")
        return connection

    def queue(self, name: str) -> Queue:
        return Queue(queue_name(current_app.config, name), connection=self.redis)


def queue_name(config, name: str) -> str:
    """Queue names carry a prefix so tests and deployments sharing a Redis stay apart."""
    return f"{config['RQ_QUEUE_PREFIX']}-{name}"


db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
oauth = OAuth()
queues = RedisQueues()
