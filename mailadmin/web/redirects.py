"""Where a `next` parameter may send the browser: local paths of this site, nothing else."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

# Browsers strip tabs and newlines from URLs and read `\` as `/`, so `/\tevil.com` or `/\evil.com`
# become `//evil.com` (another host); a CR/LF would also break the Location header itself.
# Percent-decoded forms are checked too, as some proxies and frameworks decode once more.
DECODE_ROUNDS = 3


def safe_next(value: str | None, default: str) -> str:
    """`value` when it is a plain local path (`/…`) of this site, else `default`."""
    if not value:
        return default
    forms = _decoded_forms(value)
    return value if all(_plainly_local(form) for form in forms) else default


def _decoded_forms(value: str) -> list[str]:
    """The value and each further percent-decoding of it, until it stops changing."""
    forms = [value]
    for _ in range(DECODE_ROUNDS):
        decoded = unquote(forms[-1], errors="replace")
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    return forms


def _plainly_local(value: str) -> bool:
    """One leading `/`, no scheme, host, backslash, whitespace, control character, `//` or dot segment."""
    if not value.startswith("/") or value.startswith("//"):
        return False
    if any(ch == "\\" or ch.isspace() or not ch.isprintable() for ch in value):
        return False
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "//" in parts.path:
        return False
    return not {".", ".."} & set(parts.path.split("/"))
