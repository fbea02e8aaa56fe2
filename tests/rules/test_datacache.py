"""The shipped data files' parsed form in the user's cache (edi837.datacache): the same
data as a parse, never served for a file whose bytes changed, and no harm when the
cache folder is broken, foreign or cannot be written."""
from __future__ import annotations

import datetime as dt
import shutil
import tomllib
from pathlib import Path

import pytest

from edi837 import datacache
from edi837.drugs import DrugTableError, load_drug_table
from edi837.drugs import loader as drug_loader

REPO = Path(__file__).resolve().parents[2]
EVERY_KIND = """\
title = "plain"
when = 2026-12-07
stamp = 2026-12-07T10:30:00.250+05:30
utc = 2026-12-07T10:30:00Z
local = 2026-12-07T10:30:00
clock = 07:45:00.5
numbers = [1, -0.0, 1.5e300, inf]
nested = [[2025-01-01, "x"], {in_a_table = 2024-02-29}]
[[rows]]
day = 2025-10-01
ok = true
"""


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(datacache.CACHE_ENV, str(folder))
    return folder


def counting_parser(calls: list[str]):
    def parse(content: bytes):
        calls.append(content.decode())
        return tomllib.loads(content.decode())
    return parse


def test_the_second_read_comes_from_the_cache_and_equals_the_parse(tmp_path, cache):
    source = tmp_path / "facts.toml"
    source.write_text(EVERY_KIND)
    calls: list[str] = []
    first = datacache.load_parsed(source, "facts", counting_parser(calls))
    second = datacache.load_parsed(source, "facts", counting_parser(calls))
    assert len(calls) == 1  # parsed once
    assert first == second == tomllib.loads(EVERY_KIND)
    assert type(second["when"]) is dt.date and type(second["stamp"]) is dt.datetime
    assert second["stamp"].utcoffset() == dt.timedelta(hours=5, minutes=30)
    assert second["utc"].utcoffset() == dt.timedelta(0) and second["local"].tzinfo is None
    assert type(second["clock"]) is dt.time and second["nested"][1]["in_a_table"].day == 29
    assert len(list(cache.glob("facts-facts-*.marshal"))) == 1
    second["rows"].clear()  # each read is a fresh object: a caller may change its own
    assert datacache.load_parsed(source, "facts", counting_parser(calls))["rows"]


def test_a_changed_file_is_parsed_again_not_served_from_the_cache(tmp_path, cache):
    source = tmp_path / "facts.toml"
    source.write_text(EVERY_KIND)
    calls: list[str] = []
    datacache.load_parsed(source, "facts", counting_parser(calls))
    source.write_text(EVERY_KIND.replace('"plain"', '"edited"'))
    again = datacache.load_parsed(source, "facts", counting_parser(calls))
    assert again["title"] == "edited" and len(calls) == 2
    # another parser of the same bytes has a cache entry of its own
    other = datacache.load_parsed(source, "other", lambda content: {"kind": "other"})
    assert other == {"kind": "other"}


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other key", "empty"])
def test_a_broken_cache_file_is_parsed_again_and_replaced(tmp_path, cache, damage):
    source = tmp_path / "facts.toml"
    source.write_text(EVERY_KIND)
    datacache.load_parsed(source, "facts", counting_parser([]))
    [kept] = cache.glob("facts-*.marshal")
    good = kept.read_bytes()
    kept.write_bytes({"garbage": b"\x00not marshal at all", "truncated": good[:len(good) // 2],
                      "other key": __import__("marshal").dumps(("0" * 64, {"title": 1}, [])),
                      "empty": b""}[damage])
    calls: list[str] = []
    assert datacache.load_parsed(source, "facts", counting_parser(calls)) \
        == tomllib.loads(EVERY_KIND)
    assert len(calls) == 1 and kept.read_bytes() == good


def test_an_unwritable_or_disabled_cache_costs_only_the_parse(tmp_path, monkeypatch):
    source = tmp_path / "facts.toml"
    source.write_text(EVERY_KIND)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for setting in (str(blocker / "cache"), ""):
        monkeypatch.setenv(datacache.CACHE_ENV, setting)
        calls: list[str] = []
        for _ in range(2):
            assert datacache.load_parsed(source, "facts", counting_parser(calls))["title"] \
                == "plain"
        assert len(calls) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "facts.toml"]


def test_the_default_folder_is_the_users_cache(tmp_path, monkeypatch):
    monkeypatch.delenv(datacache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert datacache.cache_dir() == tmp_path / "xdg" / "edi837"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datacache.cache_dir() == tmp_path / "home" / ".cache" / "edi837"


def test_a_parse_error_is_raised_and_nothing_is_cached(tmp_path, cache):
    source = tmp_path / "facts.toml"
    source.write_text("title = ")
    with pytest.raises(tomllib.TOMLDecodeError):
        datacache.load_parsed(source, "facts", counting_parser([]))
    assert not cache.exists() or not list(cache.iterdir())


def test_only_a_few_versions_of_one_file_are_kept(tmp_path, cache):
    source = tmp_path / "facts.toml"
    for n in range(7):
        source.write_text(f"n = {n}\n")
        assert datacache.load_parsed(source, "facts", counting_parser([])) == {"n": n}
    assert len(list(cache.glob("facts-facts-*.marshal"))) == datacache._KEEP
    assert not list(cache.glob(".tmp-*"))


def shipped_copy(tmp_path, monkeypatch) -> Path:
    """The drug loader reading a copy of the shipped package folder's table."""
    folder = tmp_path / "drugs"
    folder.mkdir()
    shutil.copy(REPO / "edi837" / "drugs" / "table.toml", folder / "table.toml")
    monkeypatch.setattr(drug_loader, "_HERE", folder)
    return folder / "table.toml"


def test_the_drug_table_from_the_cache_is_the_table_from_the_toml(tmp_path, cache,
                                                                  monkeypatch):
    table_file = shipped_copy(tmp_path, monkeypatch)
    monkeypatch.setenv(datacache.CACHE_ENV, "")
    parsed = load_drug_table()
    monkeypatch.setenv(datacache.CACHE_ENV, str(cache))
    load_drug_table()  # fills the cache
    from edi837 import tomlfile

    def no_parse(text):
        raise AssertionError("parsed, not read from the cache")

    monkeypatch.setattr(tomlfile, "loads", no_parse)
    cached = load_drug_table()
    for name in ("version", "updated", "policy", "drugs", "administration_codes", "files"):
        assert getattr(cached, name) == getattr(parsed, name), name  # (a table is equal
        # only to itself)
    # the TOML changes: the cache is not used, the edit is seen
    monkeypatch.undo()
    monkeypatch.setattr(drug_loader, "_HERE", table_file.parent)
    monkeypatch.setenv(datacache.CACHE_ENV, str(cache))
    assert 650 not in {drug.dosing.max_units_per_day for drug in parsed.drugs.values()}
    text = table_file.read_text()
    assert 'max_units_per_day = 600' in text
    table_file.write_text(text.replace('max_units_per_day = 600', 'max_units_per_day = 650', 1))
    edited = load_drug_table()
    assert 650 in {drug.dosing.max_units_per_day for drug in edited.drugs.values()}


def test_a_users_table_is_validated_with_the_shipped_one_cached(tmp_path, cache):
    load_drug_table()  # the shipped table cached
    mine = tmp_path / "my-drugs.toml"
    mine.write_text('version = "local.1"\nupdated = 2026-12-01\n[drugs.J9999]\n'
                    'descriptor = 12\n')
    with pytest.raises(DrugTableError) as raised:
        load_drug_table([mine])
    assert "my-drugs.toml: line 4: drugs.J9999.descriptor" in str(raised.value)
    assert not list(cache.glob("my-drugs*"))  # a user's file is never cached
