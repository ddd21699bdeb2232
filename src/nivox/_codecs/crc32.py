"""Joining CRC-32 values: the CRC of ``a + b`` from the CRCs of ``a`` and ``b`` and ``len(b)``.

Lets threads checksum the parts of one output separately. Appending a byte
to a message multiplies its CRC register by a fixed matrix over GF(2)
(zeros in, shifted and reduced by the polynomial); appending ``n`` zero
bytes is that matrix to the power ``n``, found by repeated squaring. Then
``crc(a + b) = zeros(crc(a), len(b)) ^ crc(b)``.
"""

from __future__ import annotations

__all__ = ["crc32_combine"]

_POLY = 0xEDB88320  # CRC-32 (gzip, zlib), bit-reversed


def _apply(matrix: list[int], vector: int) -> int:
    result, row = 0, 0
    while vector:
        if vector & 1:
            result ^= matrix[row]
        vector >>= 1
        row += 1
    return result


def _product(a: list[int], b: list[int]) -> list[int]:
    """The matrix applying ``b`` then ``a``."""
    return [_apply(a, column) for column in b]


def _one_zero_bit() -> list[int]:
    # column k: where register bit k goes when one 0 bit is shifted in
    return [_POLY] + [1 << (k - 1) for k in range(1, 32)]


def _one_zero_byte() -> list[int]:
    matrix = _one_zero_bit()
    for _ in range(3):
        matrix = _product(matrix, matrix)
    return matrix


_ZERO_BYTE = _one_zero_byte()


def crc32_combine(crc_a: int, crc_b: int, length_b: int) -> int:
    """CRC-32 of the concatenation of ``a`` and ``b``, given their CRCs and ``len(b)``."""
    power, register = _ZERO_BYTE, crc_a
    while length_b > 0:
        if length_b & 1:
            register = _apply(power, register)
        length_b >>= 1
        if length_b:
            power = _product(power, power)
    return register ^ crc_b
