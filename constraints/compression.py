"""Pages gzipped on their way out, a streamed page's chunks each sent as soon as it is made."""

import secrets
from gzip import GzipFile

from django.middleware import gzip
from django.utils.text import StreamingBuffer


class GZipMiddleware(gzip.GZipMiddleware):
    """Django's GZip (random bytes in each response against BREACH), except that a streamed
    response's chunks are flushed: Django's compresses a stream whole and holds a small first
    chunk back until later ones fill zlib's buffer, so the dashboard's head (its CSS and
    plotly's script) would leave with the body and the browser could not start on it sooner."""

    def process_response(self, request, response):
        flushed = response.streaming and not response.is_async
        flushed = flushed and not response.has_header("Content-Encoding")
        chunks = response.streaming_content if flushed else None
        response = super().process_response(request, response)
        if chunks is not None and response.get("Content-Encoding") == "gzip":
            response.streaming_content = compress_flushed(
                chunks, max_random_bytes=self.max_random_bytes
            )
        return response


def compress_flushed(chunks, *, max_random_bytes: int):
    """One gzip stream of `chunks`, each one's compressed bytes yielded whole as it comes
    (a sync flush: a few bytes more per chunk)."""
    buffer = StreamingBuffer()
    name = b"a" * secrets.randbelow(max_random_bytes)  # as Django's: a length to guess
    with GzipFile(filename=name, mode="wb", compresslevel=6, fileobj=buffer, mtime=0) as zfile:
        yield buffer.read()
        for chunk in chunks:
            zfile.write(chunk)
            zfile.flush()
            yield buffer.read()
    yield buffer.read()
