"""The login throttle counts failures per key and forgets them on success."""

from __future__ import annotations

from mailadmin.services.throttle import FailureLimiter


def test_blocks_after_the_limit_and_clears_on_success() -> None:
    limiter = FailureLimiter(limit=2, window_seconds=3600)
    limiter.fail("user:a", "ip:1")
    assert not limiter.blocked("user:a")
    limiter.fail("user:a", "ip:1")
    assert limiter.blocked("user:a") and limiter.blocked("ip:1") and not limiter.blocked("user:b")
    limiter.clear("user:a")
    assert not limiter.blocked("user:a") and limiter.blocked("user:b", "ip:1")
