"""Evidence files (佐证材料): safe names, and types checked by name and by content.

A file is accepted only when its extension is on the list below *and* its first
bytes are what that extension promises, so the upload never decides its own
type: web pages, SVG, scripts, executables and archives are refused, and so is a
program renamed ``.pdf``. The stored content type comes from this check, never
from what the client claimed.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile

from engine.errors import ValidationError

#: the longest name kept (the column's width), extension included
MAX_NAME = 200

_OFFICE_XML = "application/vnd.openxmlformats-officedocument."
#: extension → the content type stored and served
TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "docx": _OFFICE_XML + "wordprocessingml.document",
    "xlsx": _OFFICE_XML + "spreadsheetml.sheet",
    "pptx": _OFFICE_XML + "presentationml.presentation",
    "txt": "text/plain; charset=utf-8",
}
_NAMES = {"pdf": "PDF", "jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "gif": "GIF",
          "webp": "WebP", "doc": "Word", "xls": "Excel", "ppt": "PowerPoint", "docx": "Word",
          "xlsx": "Excel", "pptx": "PowerPoint", "txt": "text"}

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: the stream an old Office file of each kind must hold (names are UTF-16 in the file)
_OLE_STREAMS = {"doc": ("WordDocument",), "xls": ("Workbook", "Book"),
                "ppt": ("PowerPoint Document",)}
#: the folder an Office Open XML package of each kind must hold
_OOXML_PARTS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
_UNSAFE = re.compile(r'[<>:"|?*]')
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                    *(f"LPT{i}" for i in range(1, 10))}


def clean_filename(raw: object) -> str:
    """The uploaded name made safe to store and to offer for download.

    Folders (``/`` or ``\\``), control and invisible formatting characters (such as
    the right-to-left override that disguises ``exe.pdf``) and leading dots go;
    Chinese and other letters stay; a long name is shortened, keeping its extension.

    :raise ValidationError: on field ``file``, when nothing usable is left.
    """
    if not isinstance(raw, str):
        raise ValidationError({"file": "needs a file name"})
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = re.sub(r"[\t\n\r\v\f]+", " ", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    name = re.sub(r"\s+", " ", _UNSAFE.sub("_", name))
    # leading dots hide a file or climb a folder; Windows drops trailing dots and spaces
    name = name.lstrip(". ").rstrip(". ")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.upper() in _WINDOWS_DEVICES:
        stem = "_" + stem
    if len(ext) > 10:
        stem, ext = name, ""
    room = MAX_NAME - (len(ext) + 1 if ext else 0)
    name = stem[:room].rstrip(". ") + (f".{ext}" if ext else "")
    if not stem.strip():
        raise ValidationError({"file": "needs a file name"})
    return name


def extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def content_type(name: str, content: bytes) -> str:
    """The content type of an accepted file, by its (clean) name and its bytes.

    :raise ValidationError: on field ``file``: a type not accepted, or content that
        is not what the name says.
    """
    ext = extension(name)
    if ext not in TYPES:
        shown = f".{ext}" if ext else "a name without an extension"
        raise ValidationError({"file": f"{shown} is not accepted; accepted types: "
                                       + ", ".join(sorted(TYPES))})
    if ext == "txt":
        return _text_type(content)
    if not _looks_like(ext, content):
        raise ValidationError({"file": f"the content is not a {_NAMES[ext]} file, "
                                       f"though the name ends in .{ext}"})
    return TYPES[ext]


def _looks_like(ext: str, content: bytes) -> bool:
    head = content[:16]
    if ext == "pdf":
        return head.startswith(b"%PDF-")
    if ext in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext == "gif":
        return head[:6] in (b"GIF87a", b"GIF89a")
    if ext == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if ext in _OLE_STREAMS:
        return head.startswith(_OLE2) and any(
            stream.encode("utf-16-le") in content for stream in _OLE_STREAMS[ext])
    if ext in _OOXML_PARTS:
        return head.startswith(b"PK\x03\x04") and _ooxml_holds(content, _OOXML_PARTS[ext])
    return False


def _ooxml_holds(content: bytes, folder: str) -> bool:
    """Whether a ZIP is an Office package of the kind (only its directory is read)."""
    try:
        names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return False
    return "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)


def _text_type(content: bytes) -> str:
    """Plain text in UTF-8 (what we store it as) or GB18030 (Chinese Windows' Notepad)."""
    if b"\x00" not in content:
        try:
            content.decode("utf-8-sig")
            return TYPES["txt"]
        except UnicodeDecodeError:
            pass
        try:
            content.decode("gb18030")
            return "text/plain; charset=gb18030"
        except UnicodeDecodeError:
            pass
    raise ValidationError({"file": "the content is not plain text, though the name ends in .txt"})


__all__ = ["MAX_NAME", "TYPES", "clean_filename", "extension", "content_type"]
