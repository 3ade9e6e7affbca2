"""Tests of myelin_stream's CRC-32C, the checksum of every record of a
version-2 stream: the vectorised path against the byte-by-byte one."""

import os
import random
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

pytest.importorskip("numpy")
pytest.importorskip("google.protobuf")

import myelin_stream as ms  # noqa: E402


def bytewise(data):
    return ms._crc_raw_small(data, 0xFFFFFFFF) ^ 0xFFFFFFFF


def test_check_value():
    # The CRC-32C check value (RFC 3720, appendix B.4).
    assert ms.crc32c(b"123456789") == 0xE3069283
    assert ms.crc32c(b"") == 0


@pytest.mark.parametrize("n", [4095, 4096, 4097, 4160, 4161, 5000, 8191, 8192, 8193,
                               12345, 64 * 127, 64 * 129 + 1, 65536, 100003])
def test_vectorised_equals_bytewise(n):
    # Lengths around the vectorised path's threshold (4096 bytes), whole
    # and partial chunks of 64, and odd chunk counts at several levels.
    data = random.Random(n).randbytes(n)
    assert ms.crc32c(data) == bytewise(data)


def test_long_runs_of_zeros_and_ones():
    for data in (bytes(70001), b"\xff" * 70001):
        assert ms.crc32c(data) == bytewise(data)


def test_one_flipped_bit_changes_it():
    data = bytearray(random.Random(7).randbytes(50000))
    want = ms.crc32c(data)
    for i in (0, 1, 63, 64, 4095, 25000, 49999):
        data[i] ^= 0x10
        assert ms.crc32c(data) != want, i
        data[i] ^= 0x10
    assert ms.crc32c(data) == want
