import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class MailboxBackend(BaseEmailBackend):
    """Writes each message as one .eml file under EMAIL_FILE_PATH.

    Django's filebased backend appends a whole session to one log file; a
    file per message can be opened by any mail client and counted by tests.
    """

    def __init__(self, file_path: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
            target = self.directory / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
            partial = target.with_suffix(".eml.part")
            partial.write_bytes(message.message().as_bytes(linesep="\r\n"))
            # Readers only ever see whole messages.
            partial.rename(target)
            sent += 1
        return sent
