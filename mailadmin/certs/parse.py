"""Read uploaded certificates: PEM (one or several), DER, .cer/.crt, PKCS#7 (.p7b)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from cryptography.utils import CryptographyDeprecationWarning

from mailadmin.certs.chain import is_ca, issued_by
from mailadmin.certs.info import name_label
from mailadmin.certs.raw import (
    Framing,
    Kind,
    PemBlock,
    check_size,
    der_extent,
    der_framing,
    framing_error,
    headerless_base64,
    looks_like_pem,
    pem_blocks,
    unreadable,
)
from mailadmin.errors import InvalidInput
from mailadmin.i18n import t

MAX_CERTIFICATE_BYTES = 256 * 1024
# One real certificate is 1-3 KiB with a few SANs; far larger ones only cost every later reader
# (whois, LDAP, reminders) time and memory, so the sizes we keep and walk are bounded.
MAX_DER_BYTES = 16 * 1024
MAX_SAN_ENTRIES = 100
CERTIFICATE = Kind("chứng thư số", "certificate", "PEM, DER, PKCS#7")
_CERTIFICATE_LABELS = {"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"}
_PKCS7_LABELS = {"PKCS7", "PKCS #7 SIGNED DATA", "CMS"}


def load_certificates(
    data: bytes, *, max_bytes: int = MAX_CERTIFICATE_BYTES
) -> list[x509.Certificate]:
    """Every certificate in an upload, in file order, duplicates dropped."""
    data = check_size(data, max_bytes, CERTIFICATE)
    certs = _from_pem(data) if looks_like_pem(data) else _from_binary(data)
    unique = list(dict.fromkeys(certs))
    if not unique:
        raise _no_certificate()
    for index, cert in enumerate(unique, 1):
        _check_readable(cert, index)
    return unique


def split_leaf(
    certs: Sequence[x509.Certificate],
) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The personal (end-entity) certificate and the other certificates of an upload."""
    if not certs:
        raise _no_certificate()
    tops = [c for c in certs if not any(o != c and issued_by(o, c) for o in certs)]
    personal = [c for c in tops if not is_ca(c)]
    if not personal:
        raise InvalidInput(
            t(
                "Tệp chỉ chứa chứng thư của CA; thiếu chứng thư số cá nhân.",
                "The file holds only CA certificates; the personal certificate is missing.",
            )
        )
    if len(personal) > 1:
        names = "; ".join(name_label(c.subject) for c in personal)
        raise InvalidInput(
            t(
                "Tệp chứa nhiều chứng thư số cá nhân ({names}); hãy tải lên từng chứng thư một.",
                "The file holds several personal certificates ({names}); upload one at a time.",
                names=names,
            )
        )
    leaf = personal[0]
    return leaf, [c for c in certs if c != leaf]


def _from_pem(data: bytes) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    for block in pem_blocks(data, CERTIFICATE):
        certs.extend(_from_block(block))
    return certs


def _from_block(block: PemBlock) -> list[x509.Certificate]:
    if block.label.endswith("PRIVATE KEY"):
        raise InvalidInput(
            t(
                "Tệp chứa khóa bí mật. Tuyệt đối không tải khóa bí mật lên; chỉ tải chứng thư số.",
                "The file contains a private key. Never upload private keys; upload only the"
                " certificate.",
            )
        )
    if block.label in _CERTIFICATE_LABELS:
        der = block.der
        if block.label == "TRUSTED CERTIFICATE":  # OpenSSL appends trust settings after the DER
            der = der[: der_extent(der) or len(der)]
        _require_complete(der)
        cert = _try_certificate(der)
        if cert is None:
            raise unreadable(CERTIFICATE)
        return [cert]
    if block.label in _PKCS7_LABELS:
        _require_complete(block.der)
        return _pkcs7_from_der(block.der)
    raise InvalidInput(
        t(
            'Khối PEM thứ {index} là "{label}", không phải chứng thư số.',
            'PEM block {index} is a "{label}", not a certificate.',
            index=block.index,
            label=block.label,
        )
    )


def _from_binary(data: bytes) -> list[x509.Certificate]:
    der = headerless_base64(data) or data
    _require_complete(der)
    cert = _try_certificate(der)
    return [cert] if cert is not None else _pkcs7_from_der(der)


def _require_complete(der: bytes) -> None:
    framing = der_framing(der)
    if framing in (Framing.NOT_DER, Framing.TRUNCATED, Framing.TRAILING):
        raise framing_error(framing, CERTIFICATE)


def _try_certificate(der: bytes) -> x509.Certificate | None:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    except CryptographyDeprecationWarning:  # raised, not warned, when warnings are errors
        raise _nonconforming() from None


def _pkcs7_from_der(der: bytes) -> list[x509.Certificate]:
    try:
        return pkcs7.load_der_pkcs7_certificates(der)
    except (ValueError, UnsupportedAlgorithm):
        raise unreadable(CERTIFICATE) from None
    except CryptographyDeprecationWarning:
        raise _nonconforming() from None


def _no_certificate() -> InvalidInput:
    return InvalidInput(t("Tệp không chứa chứng thư số nào.", "The file contains no certificate."))


def _nonconforming() -> InvalidInput:
    return InvalidInput(
        t(
            "Chứng thư số không tuân thủ RFC 5280 (ví dụ: số hiệu chứng thư không phải số dương)"
            " nên không được chấp nhận.",
            "The certificate does not conform to RFC 5280 (e.g. its serial number is not"
            " positive) and is refused.",
        )
    )


def _check_readable(cert: x509.Certificate, index: int) -> None:
    """Touch every field used later, so a malformed one fails here with a clean message."""
    try:
        _ = (cert.subject, cert.issuer, cert.serial_number, cert.extensions)
        _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.public_key())
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidInput(
            t(
                "Chứng thư số thứ {index} trong tệp có trường dữ liệu sai định dạng"
                " hoặc dùng thuật toán khóa không được hỗ trợ.",
                "Certificate {index} in the file has a malformed field"
                " or uses an unsupported key algorithm.",
                index=index,
            )
        ) from None
    if cert.serial_number <= 0:
        raise _nonconforming()
    _check_bounds(cert, index)


def _check_bounds(cert: x509.Certificate, index: int) -> None:
    """Refuse a certificate naming more than MAX_SAN_ENTRIES alternative names or larger than MAX_DER_BYTES."""
    _check_san_count(cert, index)
    _check_size(cert, index)


def _check_san_count(cert: x509.Certificate, index: int) -> None:
    try:
        names = len(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        names = 0
    if names > MAX_SAN_ENTRIES:
        raise InvalidInput(t(
            "Chứng thư số thứ {index} có {n} tên thay thế (SAN); chỉ nhận tối đa {limit}.",
            "Certificate {index} has {n} subject alternative names (SAN); at most {limit} are accepted.",
            index=index, n=names, limit=MAX_SAN_ENTRIES))


def _check_size(cert: x509.Certificate, index: int) -> None:
    size = len(cert.public_bytes(Encoding.DER))
    if size > MAX_DER_BYTES:
        raise InvalidInput(t(
            "Chứng thư số thứ {index} dài {size} byte, lớn hơn {limit} KiB: không phải chứng thư số thông thường.",
            "Certificate {index} is {size} bytes long, larger than {limit} KiB: not an ordinary certificate.",
            index=index, size=size, limit=MAX_DER_BYTES // 1024))
