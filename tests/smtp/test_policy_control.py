"""The password-policy response control as slapd encodes it (BER), including the cases slapd here never sends."""

from __future__ import annotations

import pytest

from mailadmin.directory.binder import password_policy_state


@pytest.mark.parametrize(("value", "state"), [
    (bytes.fromhex("3003810102"), (2, None)),  # changeAfterReset (what an admin reset gives)
    (bytes.fromhex("3003810100"), (0, None)),  # passwordExpired (bind refused)
    (bytes.fromhex("3005a003810102"), (None, 2)),  # expired, 2 grace logins left (bind accepted)
    (bytes.fromhex("3006a00480020e10"), (None, None)),  # timeBeforeExpiration: 3,600 s, a warning only
    (bytes.fromhex("3008a003810101810102"), (2, 1)),
    (bytes.fromhex("3000"), (None, None)),
])
def test_states_are_read(value: bytes, state: tuple[int | None, int | None]) -> None:
    assert password_policy_state(value) == state


@pytest.mark.parametrize("value", ["30058101", "300381", "3103810102", "30038101020000", "30", "3084ffffffff"])
def test_malformed_values_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        password_policy_state(bytes.fromhex(value))
