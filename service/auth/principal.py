"""Who is asking, and what their role lets them do."""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    PARTNER = "partner"
    READER = "reader"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role | None  # None: anonymous

    @property
    def anonymous(self) -> bool:
        return self.role is None

    def may_write(self) -> bool:
        return self.role in (Role.ADMIN, Role.EDITOR, Role.PARTNER)

    def may_change(self, owner: str) -> bool:
        """Admins and editors change any record; partners only the ones they own."""
        if self.role in (Role.ADMIN, Role.EDITOR):
            return True
        return self.role is Role.PARTNER and owner == self.name


ANONYMOUS = Principal("anonymous", None)
