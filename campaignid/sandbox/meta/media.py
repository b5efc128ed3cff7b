"""Media upload: multipart parsing, type allow-list, size limits, content sniffing, and the media store.

The effective type is the Content-Type of the ``file`` part, as on the real API: a part sent without one
is ``application/octet-stream`` and is refused. Uploaded media ids are numeric strings valid for 30 days
(sandbox clock), or ``ttl_minutes`` when given. Bytes are kept on disk, addressed by their SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path

from .errors import GraphError, invalid, missing

MB = 1024 * 1024
KB = 1024
MEDIA_TTL_S = 30 * 24 * 3600
WEBP_STATIC_MAX = 100 * KB
ALLOWED: dict[str, int] = {
    "audio/aac": 16 * MB, "audio/amr": 16 * MB, "audio/mpeg": 16 * MB, "audio/mp4": 16 * MB, "audio/ogg": 16 * MB,
    "image/jpeg": 5 * MB, "image/png": 5 * MB, "image/webp": 500 * KB,
    "video/mp4": 16 * MB, "video/3gpp": 16 * MB,
    "text/plain": 100 * MB, "application/pdf": 100 * MB, "application/msword": 100 * MB,
    "application/vnd.ms-excel": 100 * MB, "application/vnd.ms-powerpoint": 100 * MB,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * MB,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * MB,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * MB,
}
# Types whose bytes are checked against their signature.
SNIFFED = ("image/png", "image/jpeg", "image/webp")


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def _header(value: str) -> Message:
    message = Message()
    message["content-type"] = value
    return message


def parse_multipart(content_type: str, body: bytes) -> dict[str, Part]:
    """Parts of a multipart/form-data body by field name; empty when the body is not valid multipart."""
    header = _header(content_type)
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str) or not boundary:
        return {}
    parts: dict[str, Part] = {}
    for chunk in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            continue
        headers = BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if isinstance(name, str) and name not in parts:
            ctype = headers.get_content_type() if headers.get("content-type") else None
            parts[name] = Part(name, headers.get_filename(), ctype, data.removesuffix(b"\r\n"))
    return parts


@dataclass
class Upload:
    mime_type: str
    data: bytes
    filename: str
    ttl_s: int = MEDIA_TTL_S


def _text(parts: dict[str, Part], name: str) -> str | None:
    part = parts.get(name)
    return part.data.decode("utf-8", "replace").strip() if part is not None else None


def _ttl(parts: dict[str, Part]) -> int:
    raw = _text(parts, "ttl_minutes")
    if raw is None:
        return MEDIA_TTL_S
    if not raw.isdigit() or int(raw) < 1:
        raise invalid("Param ttl_minutes must be a positive integer.")
    return min(MEDIA_TTL_S, int(raw) * 60)


def check_upload(parts: dict[str, Part]) -> Upload:
    product = _text(parts, "messaging_product")
    if not product:
        raise missing("messaging_product")
    if product != "whatsapp":
        raise invalid(f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".')
    file = parts.get("file")
    if file is None or not file.filename:
        raise missing("file")
    if not _text(parts, "type"):
        raise missing("type")
    mime = (file.content_type or "application/octet-stream").lower()
    if mime not in ALLOWED:
        raise invalid(f"Param file must be a file with one of the following types: {', '.join(ALLOWED)}. "
                      f"Received file of type '{mime}'.")
    limit = ALLOWED[mime]
    if mime == "image/webp" and b"ANIM" not in file.data[:4096]:
        limit = WEBP_STATIC_MAX
    if len(file.data) > limit:
        raise invalid(f"Param file is {len(file.data)} bytes; the maximum for {mime} is {limit} bytes.")
    detected = sniff(file.data)
    if mime in SNIFFED and detected != mime:
        raise GraphError(131053, f"The file content is not a valid {mime} (detected: {detected or 'unknown'}).")
    return Upload(mime, file.data, file.filename, _ttl(parts))


@dataclass
class Media:
    id: str
    mime_type: str
    sha256: str
    size: int
    filename: str
    phone_number_id: str
    uploaded_at: float
    expires_at: float

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.items: dict[str, Media] = {}

    def put(self, upload: Upload, phone_number_id: str, now: float) -> Media:
        digest = hashlib.sha256(upload.data).hexdigest()
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / digest
        if not path.exists():
            path.write_bytes(upload.data)
        media_id = str(10**15 + secrets.randbelow(9 * 10**15))
        media = Media(media_id, upload.mime_type, digest, len(upload.data), upload.filename, phone_number_id,
                      now, now + upload.ttl_s)
        self.items[media_id] = media
        return media

    def find(self, media_id: str) -> Media | None:
        return self.items.get(str(media_id))

    def read(self, media: Media) -> bytes:
        return (self.root / media.sha256).read_bytes()

    def delete(self, media_id: str) -> bool:
        return self.items.pop(media_id, None) is not None

    def clear(self) -> None:
        self.items.clear()
        shutil.rmtree(self.root, ignore_errors=True)
