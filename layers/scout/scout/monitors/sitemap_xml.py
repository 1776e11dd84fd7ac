"""Streaming readers of sitemap documents: XML (``urlset``/``sitemapindex``), plain text, gzip.

Sitemaps come from the sites being monitored, so they are hostile input. The XML reader is
expat fed chunk by chunk (no tree is built) and refuses any document type declaration:
entity expansion (billion laughs) and external entities both need one, so with no DTD
neither can happen. Decompression is bounded per output chunk, so a gzip bomb is stopped
after the limit's worth of output, never inflated whole.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from xml.parsers import expat

from scout.egress.urls import MAX_URL_LENGTH

DECODED_CHUNK_BYTES = 64 * 1024
MAX_ELEMENT_DEPTH = 32
_GZIP_MAGIC = b"\x1f\x8b"
_SITEMAP_ROOTS = {"urlset": "page", "sitemapindex": "sitemap"}
_ENTRY_ELEMENTS = {"urlset": "url", "sitemapindex": "sitemap"}


class SitemapFormatError(ValueError):
    """The document is not a sitemap scout will read (malformed, DTD, wrong root, bad gzip)."""


@dataclass(frozen=True)
class SitemapEntry:
    kind: str  # "page" (a <url> of a urlset, or a line of a text sitemap) or "sitemap" (of an index)
    loc: str


class GzipDecoder:
    """Inflates gzip (several members too) in pieces of at most ``DECODED_CHUNK_BYTES``."""

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self._inflater.eof:
                data = self._inflater.unused_data + data
                self._inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            self._started = True
            try:
                out = self._inflater.decompress(data, DECODED_CHUNK_BYTES)
            except zlib.error as exc:
                raise SitemapFormatError(f"the gzip data is corrupt ({exc})") from None
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                data = self._inflater.unused_data + data
                if data:
                    self._inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            if out:
                yield out

    def finish(self) -> None:
        if self._started and not self._inflater.eof:
            raise SitemapFormatError("the gzip data ends early")


class BodyDecoder:
    """Undoes ``Content-Encoding: gzip`` and then a gzipped file (``.gz``, found by magic bytes)."""

    def __init__(self, content_encoding: str) -> None:
        encodings = [part.strip().lower() for part in content_encoding.split(",") if part.strip()]
        encodings = [encoding for encoding in encodings if encoding != "identity"]
        if any(encoding not in ("gzip", "x-gzip") for encoding in encodings):
            raise SitemapFormatError(f"unsupported Content-Encoding {content_encoding!r}")
        if len(encodings) > 1:
            raise SitemapFormatError("more than one Content-Encoding")
        self._transfer = GzipDecoder() if encodings else None
        self._file: GzipDecoder | None = None
        self._sniffed = b""
        self._decided = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        pieces = self._transfer.feed(data) if self._transfer is not None else iter([data] if data else [])
        for piece in pieces:
            yield from self._file_layer(piece)

    def finish(self) -> Iterator[bytes]:
        if self._transfer is not None:
            self._transfer.finish()
        if not self._decided and self._sniffed:
            self._decided = True
            yield self._sniffed
        if self._file is not None:
            self._file.finish()

    def _file_layer(self, piece: bytes) -> Iterator[bytes]:
        if not self._decided:
            self._sniffed += piece
            if len(self._sniffed) < len(_GZIP_MAGIC):
                return
            self._decided = True
            piece, self._sniffed = self._sniffed, b""
            if piece.startswith(_GZIP_MAGIC):
                self._file = GzipDecoder()
        if self._file is not None:
            yield from self._file.feed(piece)
        else:
            yield piece


class SitemapReader:
    """Fed decoded bytes; collects the entries found so far (take them with :meth:`take`)."""

    def __init__(self) -> None:
        self._format: str | None = None  # "xml" or "text"
        self._entries: list[SitemapEntry] = []
        self._xml: expat.XMLParserType | None = None
        self._stack: list[str] = []
        self._root: str | None = None
        self._loc: list[str] | None = None
        self._loc_length = 0
        self._line = b""

    @property
    def root(self) -> str | None:
        """``urlset``, ``sitemapindex``, or ``text``; None until the document shows which."""
        return "text" if self._format == "text" else self._root

    def feed(self, data: bytes) -> None:
        if self._format is None:
            start = data.lstrip(b"\xef\xbb\xbf \t\r\n")
            if not start:
                return
            self._format = "xml" if start[:1] in (b"<", b"\xff", b"\xfe", b"\x00") else "text"
            if self._format == "xml":
                self._xml = self._new_xml_parser()
        if self._xml is not None:
            self._feed_xml(data, final=False)
        else:
            self._feed_text(data)

    def finish(self) -> None:
        if self._format is None:
            raise SitemapFormatError("the sitemap is empty")
        if self._xml is not None:
            self._feed_xml(b"", final=True)
            if self._root is None:
                raise SitemapFormatError("the document has no root element")
        elif self._line.strip():
            self._text_line(self._line)

    def take(self) -> list[SitemapEntry]:
        entries, self._entries = self._entries, []
        return entries

    def _new_xml_parser(self) -> expat.XMLParserType:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._refuse_dtd
        parser.EntityDeclHandler = self._refuse_entity
        parser.ExternalEntityRefHandler = self._refuse_external
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        parser.buffer_text = True
        return parser

    def _feed_xml(self, data: bytes, *, final: bool) -> None:
        assert self._xml is not None
        try:
            self._xml.Parse(data, final)
        except expat.ExpatError as exc:
            raise SitemapFormatError(f"the XML is malformed ({exc})") from None

    def _refuse_dtd(self, *_args: object) -> None:
        raise SitemapFormatError("the sitemap declares a document type (DTD); sitemaps have none")

    def _refuse_entity(self, *_args: object) -> None:
        raise SitemapFormatError("the sitemap declares entities; sitemaps have none")

    def _refuse_external(self, *_args: object) -> int:
        raise SitemapFormatError("the sitemap refers to an external entity")

    def _start(self, name: str, _attributes: dict[str, str]) -> None:
        namespace, _, local = name.rpartition(" ")
        if self._root is None:
            if local not in _SITEMAP_ROOTS:
                raise SitemapFormatError(f"the document is not a sitemap (its root element is <{local}>)")
            self._root = local
        if len(self._stack) >= MAX_ELEMENT_DEPTH:
            raise SitemapFormatError(f"elements are nested more than {MAX_ELEMENT_DEPTH} deep")
        # <loc> counts only as a direct child of <url>/<sitemap> in the sitemap's own namespace,
        # so image:loc and other extensions' locations are not taken for pages.
        if local == "loc" and len(self._stack) == 2:
            root_namespace = self._stack[0].rpartition(" ")[0]
            parent_namespace, _, parent = self._stack[1].rpartition(" ")
            if namespace == root_namespace == parent_namespace and parent == _ENTRY_ELEMENTS[self._root]:
                self._loc, self._loc_length = [], 0
        self._stack.append(name)

    def _end(self, _name: str) -> None:
        self._stack.pop()
        if self._loc is not None and len(self._stack) == 2:
            loc = "".join(self._loc).strip()
            self._loc = None
            assert self._root is not None
            self._entries.append(SitemapEntry(_SITEMAP_ROOTS[self._root], loc))

    def _text(self, text: str) -> None:
        if self._loc is not None:
            self._loc_length += len(text)
            if self._loc_length <= MAX_URL_LENGTH + 64:
                self._loc.append(text)

    def _feed_text(self, data: bytes) -> None:
        *lines, self._line = (self._line + data).split(b"\n")
        if len(self._line) > MAX_URL_LENGTH * 2:
            raise SitemapFormatError(f"a line of the text sitemap is longer than {MAX_URL_LENGTH * 2} bytes")
        for line in lines:
            self._text_line(line)

    def _text_line(self, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace").strip()
        if text:
            self._entries.append(SitemapEntry("page", text))
