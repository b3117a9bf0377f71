"""Reading doveadm's answers (the shapes Dovecot 2.3.19 gave in tests/mailserver/test_quota_use.py) and the
sizes the pages show; anything else Dovecot might say is "not available", never an exception past the service."""

from __future__ import annotations

import pytest

from mailadmin.services.mailstore import QuotaUse, UsageState, _payload, _storage
from mailadmin.sizes import megabytes, storage_size, vnnumber

REPORTED = [["doveadmResponse", [
    {"root": "User quota", "type": "STORAGE", "value": "1536", "limit": "102400", "percent": "1"},
    {"root": "User quota", "type": "MESSAGE", "value": "1", "limit": "-", "percent": "0"}], "mailadmin"]]


def test_the_storage_row_in_bytes() -> None:
    use = _storage(_payload(REPORTED))
    assert use == QuotaUse(UsageState.REPORTED, 1536 * 1024, 100 * 2**20) and use.percent == 1.5


def test_no_limit_is_none_and_has_no_share() -> None:
    rows = [{"type": "STORAGE", "value": "10", "limit": "-"}]
    assert _storage(rows).limit_bytes is None and _storage(rows).percent is None


@pytest.mark.parametrize("answer", [
    [["error", {"type": "exitCode", "exitCode": 67}, "mailadmin"]],  # a user Dovecot does not know
    [], {}, "x", [["doveadmResponse"]], [[1, 2, 3]], None])
def test_answers_that_are_not_a_quota_are_value_errors(answer: object) -> None:
    with pytest.raises(ValueError):
        _storage(_payload(answer))


@pytest.mark.parametrize("rows", [[], [{"type": "MESSAGE", "value": "1"}], [{"type": "STORAGE", "value": "x"}],
                                  "rows", [None]])
def test_rows_without_a_readable_storage_line_are_value_errors(rows: object) -> None:
    with pytest.raises(ValueError):
        _storage(rows)


@pytest.mark.parametrize(("size", "text"), [(0, "0 MB"), (400 * 1024, "0,4 MB"), (3 * 2**19, "1,5 MB"),
                                            (350 * 2**20, "350 MB"), (1536 * 2**20, "1,5 GB"),
                                            (2048 * 2**20, "2 GB"), (1000 * 2**30, "1.000 GB")])
def test_sizes_in_vietnamese_numbers(size: int, text: str) -> None:
    assert storage_size(size) == text


def test_quotas_and_numbers() -> None:
    assert [megabytes(500), megabytes(2048), megabytes(1536)] == ["500 MB", "2 GB", "1,5 GB"]
    assert [vnnumber(1234.5, 1), vnnumber(0.25, 1), vnnumber(12, 0)] == ["1.234,5", "0,2", "12"]
