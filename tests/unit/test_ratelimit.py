import pytest

from core.ratelimit import TokenBucket


def test_burst_passes_then_paces_to_the_rate():
    bucket = TokenBucket(rate_bytes_per_s=1000, burst_bytes=500, now=0.0)
    assert bucket.delay_for(500, now=0.0) == 0.0
    assert bucket.delay_for(250, now=0.0) == pytest.approx(0.25)


def test_long_run_average_never_exceeds_rate():
    bucket = TokenBucket(rate_bytes_per_s=12_500, burst_bytes=16_384, now=0.0)
    now, sent = 0.0, 0
    for _ in range(1000):
        now += bucket.delay_for(4000, now)  # the sender waits as told, then sends
        sent += 4000
    assert sent / now <= 12_500 * 1.0 + 16_384 / now + 1e-6


def test_refill_is_capped_by_burst():
    bucket = TokenBucket(rate_bytes_per_s=100, burst_bytes=100, now=0.0)
    assert bucket.delay_for(100, now=1000.0) == 0.0
    assert bucket.delay_for(100, now=1000.0) == pytest.approx(1.0)


def test_set_rate_applies_from_now():
    bucket = TokenBucket(rate_bytes_per_s=100, burst_bytes=100, now=0.0)
    bucket.delay_for(100, now=0.0)
    bucket.set_rate(50, now=0.0)
    assert bucket.delay_for(50, now=0.0) == pytest.approx(1.0)


def test_rejects_nonsense():
    with pytest.raises(ValueError):
        TokenBucket(0, 10, 0.0)
