"""Reading a digest message back as a mail client would: the standard library's parser, the parts, the HTML's visible text."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser

URL = re.compile(r"https?://[^\s\"'<>)]+")
DECIMAL = re.compile(r"\d[\d,]*\.\d+")


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def recipients(message: EmailMessage) -> list[str]:
    """Return every address the message is addressed to, in To, Cc and Bcc."""
    fields = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(fields)]


def parts(message: EmailMessage) -> tuple[str, str]:
    """Return the plain-text part and the HTML part."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    # A part read back from CRLF lines keeps them; a mail client shows lines.
    return str(text.get_content()).replace("\r\n", "\n"), str(html.get_content()).replace("\r\n", "\n")


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def visible(html: str) -> str:
    """Return the text an HTML part shows (its tags' words, entities decoded)."""
    reader = _Visible()
    reader.feed(html)
    return " ".join(reader.chunks)
