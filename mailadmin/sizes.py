"""Sizes as officers read them: Vietnamese numbers (1.234,5), MB and GB of 1024 × 1024 bytes, never "MiB"."""

from __future__ import annotations


def vnnumber(value: float, decimals: int = 0) -> str:
    """A number as Vietnamese writes it: 1.234,5 (trailing zero decimals dropped)."""
    text = f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return text.rstrip("0").rstrip(",") if "," in text else text


def megabytes(mib: int) -> str:
    """A quota as officers say it: 500 MB, 2 GB, 1,5 GB (the directory keeps MiB)."""
    if mib >= 1024:
        return vnnumber(mib / 1024, 1) + " GB"
    return f"{mib} MB"


def storage_size(size: int) -> str:
    """Bytes as the quotas are shown: 0,4 MB, 350 MB, 1,5 GB."""
    mib = size / 2**20
    if mib >= 1024:
        return vnnumber(mib / 1024, 1) + " GB"
    return vnnumber(mib, 0 if mib >= 100 else 1) + " MB"
