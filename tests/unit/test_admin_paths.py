"""The admin console's URL helpers: data in a path is one segment, whatever it holds, and only
an HTTPS address of the admin API is accepted."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from apps.admin.api import ApiFailure, base_url, segment, tenant_path

# Logins and tenant names are text without control characters (the relay refuses those, and a
# lone surrogate cannot even be encoded in UTF-8).
names = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1)


@given(names)
def test_a_segment_decodes_back_to_the_value_and_survives_url_handling(value):
    encoded = segment(value)
    assert urllib.parse.unquote(encoded) == value
    assert not set(encoded) & set("/?#.")
    # As the client sends it: neither re-encoded nor normalised on the way.
    url = URL(f"https://relay.example/staff/{encoded}", encoded=True)
    assert url.raw_path == f"/staff/{encoded}"


@pytest.mark.parametrize("login", ["a#b", "a/b", "a?b", "a%2Fb", "..", "."])
def test_reserved_characters_stay_inside_their_segment(login):
    path = tenant_path("町/役場", "staff", login, "totp")
    parts = path.split("/")
    assert parts[:4] == ["", "api", "v1", "tenants"]
    assert [urllib.parse.unquote(p) for p in parts[4:]] == ["町/役場", "staff", login, "totp"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "https://",
        "127.0.0.1:8444",
        "http://127.0.0.1:8444",  # the password would travel in clear
        "https://127.0.0.1:8444/?x=1",
        "https://127.0.0.1:8444/#top",
        "https://[::1",
    ],
)
def test_anything_but_an_https_address_is_refused_with_a_message(text):
    with pytest.raises(ApiFailure) as refused:
        base_url(text)
    assert refused.value.status == 0 and "https://" in refused.value.message


def test_an_https_address_is_kept_without_its_trailing_slash():
    assert base_url(" https://127.0.0.1:8444/ ") == "https://127.0.0.1:8444"
    assert base_url("https://relay.example/admin") == "https://relay.example/admin"
