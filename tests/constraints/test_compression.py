"""A streamed response is gzipped chunk by chunk, each chunk readable as soon as it is sent."""

import zlib

from hypothesis import given
from hypothesis import strategies as st

from constraints.compression import compress_flushed


def decompressed_as_sent(chunks: list[bytes]) -> list[bytes]:
    """What a browser can read after each compressed piece arrives."""
    reader = zlib.decompressobj(wbits=31)  # gzip
    return [reader.decompress(piece) for piece in compress_flushed(chunks, max_random_bytes=100)]


@given(st.lists(st.binary(max_size=3000), max_size=6))
def test_it_makes_each_chunk_readable_as_soon_as_it_is_sent(chunks):
    read = decompressed_as_sent(chunks)
    assert b"".join(read) == b"".join(chunks)
    # The header first, then each chunk whole when it is yielded, then the trailer.
    assert read[1:-1] == chunks


def test_it_adds_a_random_length_against_breach():
    lengths = {
        len(b"".join(compress_flushed([b"<html>"], max_random_bytes=100))) for _ in range(50)
    }
    assert len(lengths) > 1
