"""The console's sentences for the admin API's error codes: one for every code, in both
languages, params filled in, field names translated, a general one for an unknown code."""

from __future__ import annotations

import re

import pytest

from apps.admin.api import ApiFailure
from apps.admin.failures import describe_failure
from apps.admin.texts import tr
from apps.common.i18n import set_language
from relay.admin.errors import ErrorCode

# An English word of three letters or more: none may be left in a Japanese sentence.
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture
def japanese():
    set_language("ja")
    yield
    set_language(None)


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_api_error_code_has_a_sentence(code):
    assert tr.knows(f"api_error_{code.value}"), code


def test_a_refusal_is_worded_from_its_code_and_params_not_its_message(japanese):
    failure = ApiFailure(
        400,
        "'idle_timeout_s' must be at least 300",
        "field_too_small",
        {"field": "idle_timeout_s", "minimum": 300},
    )
    text = describe_failure(failure)
    assert text == "無操作タイムアウト (秒) は 300 以上にしてください"
    signed_in = describe_failure(
        ApiFailure(401, "wrong login, password or one-time password", "sign_in_failed")
    )
    assert signed_in == tr("api_error_sign_in_failed")
    assert not ENGLISH_WORD.search(text + signed_in)


def test_a_query_bound_comes_as_a_float_and_shows_as_a_whole_number(japanese):
    failure = ApiFailure(400, "...", "field_too_large", {"field": "limit", "maximum": 1000.0})
    assert describe_failure(failure) == "表示件数 は 1000 以下にしてください"


def test_a_lockout_says_how_many_minutes_to_wait(japanese):
    failure = ApiFailure(429, "too many failed sign-ins", "locked_out", {"retry_after_s": 61})
    assert "2 分" in describe_failure(failure)


def test_a_busy_or_too_large_report_says_when_to_ask_again_or_how_to_ask_less(japanese):
    busy = ApiFailure(429, "...", "reports_busy", {"maximum": 1, "retry_after_s": 10})
    assert describe_failure(busy) == (
        "ほかのレポートを作成中です。10 秒ほど待ってからもう一度お試しください"
    )
    large = ApiFailure(413, "...", "report_too_large", {"maximum": 100000})
    assert "100000 件" in describe_failure(large) and "期間を短く" in describe_failure(large)
    set_language("en")
    assert describe_failure(busy) == "Other reports are being made: please try again in about 10 s"


def test_an_unknown_code_or_body_gets_the_general_sentence(japanese):
    for failure in (
        ApiFailure(418, "I am a teapot", "teapot"),
        ApiFailure(502, "<html>Bad gateway</html>"),
        ApiFailure(400, "...", "field_too_small", {}),  # a sentence whose params did not come
    ):
        assert describe_failure(failure) == tr("api_error_unknown", status=failure.status)


def test_an_unknown_field_is_named_as_the_api_names_it(japanese):
    failure = ApiFailure(400, "...", "field_empty", {"field": "newfield"})
    assert describe_failure(failure) == "'newfield' を入力してください"


def test_our_own_failures_keep_their_translated_words(japanese):
    assert describe_failure(ApiFailure(0, tr("bad_fingerprint"))) == tr("bad_fingerprint")
