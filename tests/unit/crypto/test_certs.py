import pytest

from core.crypto.certs import (
    format_host_id,
    generate_identity,
    host_id_for_certificate,
    parse_fingerprint,
    parse_host_id,
    pem_to_der,
)
from core.crypto.tls import server_context
from core.errors import CryptoError
from storage.identity import load_or_create_identity


def test_host_id_is_stable_and_tied_to_the_key(tmp_path):
    first = load_or_create_identity(tmp_path, "host", "pc-01")
    again = load_or_create_identity(tmp_path, "host", "pc-01")
    assert first == again
    assert (tmp_path / "host.key").stat().st_mode & 0o777 == 0o600
    host_id = host_id_for_certificate(first.cert_der)
    assert len(host_id) == 20 and host_id == host_id_for_certificate(pem_to_der(first.cert_pem))
    assert host_id != host_id_for_certificate(generate_identity("pc-01").cert_der)


# The DER of the P-256 curve OID (1.2.840.10045.3.1.7) and of prime192v2 (...3.1.2), which
# parses as a certificate but whose key cryptography cannot load.
P256_OID_DER = bytes.fromhex("06082a8648ce3d030107")
PRIME192V2_OID_DER = bytes.fromhex("06082a8648ce3d030102")


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda der: der.replace(P256_OID_DER, PRIME192V2_OID_DER), id="unknown-curve"),
        pytest.param(
            lambda der: der.replace(b"\x03\x42\x00\x04", b"\x03\x42\x00\x05"), id="bad-point"
        ),
        pytest.param(lambda der: der[:40], id="truncated"),
    ],
)
def test_unusable_certificates_raise_crypto_error_only(mangle):
    der = generate_identity("x").cert_der
    mangled = mangle(der)
    assert mangled != der
    with pytest.raises(CryptoError):
        host_id_for_certificate(mangled)


def test_host_id_parsing_accepts_display_forms():
    host_id = host_id_for_certificate(generate_identity("x").cert_der)
    shown = format_host_id(host_id)
    assert shown.count("-") == 3
    assert parse_host_id(shown) == parse_host_id(shown.lower()) == parse_host_id(host_id)
    for bad in ("", "ABC", "1" * 20, host_id + "A"):
        with pytest.raises(CryptoError):
            parse_host_id(bad)


def test_fingerprint_forms():
    fp = "ab" * 32
    colons = ":".join(["AB"] * 32)
    assert (
        parse_fingerprint(fp)
        == parse_fingerprint(colons)
        == parse_fingerprint("sha256:" + fp)
        == fp
    )
    for bad in ("ab" * 31, "zz" * 32, "ab" * 33):
        with pytest.raises(CryptoError):
            parse_fingerprint(bad)


def test_pem_to_der_rejects_garbage():
    with pytest.raises(CryptoError):
        pem_to_der("not a certificate")


def test_a_certificate_bundle_is_refused_everywhere_one_certificate_is_meant():
    """The relay fingerprints a home PC's certificate and the office PC trusts it in TLS: with a
    bundle they would read different certificates, so only exactly one is accepted."""
    one, other = generate_identity("home-pc"), generate_identity("someone-else")
    bundle = one.cert_pem + other.cert_pem
    assert pem_to_der(one.cert_pem)
    with pytest.raises(CryptoError):
        pem_to_der(bundle)
    with pytest.raises(CryptoError):
        server_context(generate_identity("office-pc"), client_cert_pem=bundle)
