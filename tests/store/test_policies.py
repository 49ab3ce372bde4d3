"""Workflow policies set on the dashboard, on each backend: set, replaced, read back with
who set them and when, cleared; and the 0011 migration that makes their table."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect

from inkling.privacy.policy import Policy, Tracking
from inkling.store import SetPolicy, Store
from inkling.store.engine import MIGRATIONS

WEIRD = "billing \"><svg onload=alert('xss')> — Grüße"


def test_a_policy_is_set_replaced_read_and_cleared(store: Store) -> None:
    assert store.policies.all() == [] and store.policies.overrides() == {}
    store.policies.set("legal", Policy(Tracking.NONE), by="sam@help.example", at=100.0)
    clicks = Policy(Tracking.CLICKS, read_receipt=True, disclosure=True)
    store.policies.set(WEIRD, clicks, by="ada@help.example", at=200.0)
    assert store.policies.all() == [
        SetPolicy(WEIRD, clicks, "ada@help.example", 200.0),
        SetPolicy("legal", Policy(Tracking.NONE), "sam@help.example", 100.0),
    ]
    store.policies.set(
        "legal", Policy(Tracking.FULL, disclosure=True), by="ada@help.example", at=300.0
    )
    assert store.policies.overrides() == {
        WEIRD: clicks,
        "legal": Policy(Tracking.FULL, disclosure=True),
    }
    assert [p.changed_by for p in store.policies.all()] == ["ada@help.example"] * 2
    assert store.policies.clear("legal") is True
    assert store.policies.clear("legal") is False  # nothing left to clear
    assert list(store.policies.overrides()) == [WEIRD]


def test_the_0011_migration_makes_the_table_and_going_back_drops_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0010")
    assert "workflow_policies" not in inspect(engine).get_table_names()
    store = Store(url)  # migrates on first use
    store.policies.set("legal", Policy(Tracking.NONE), by="cli")
    assert list(store.policies.overrides()) == ["legal"]
    store.close()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    assert "workflow_policies" not in inspect(engine).get_table_names()
    engine.dispose()
