"""The account a person signs in as on the account page, and the checks on what they typed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")
MAX_FIELD_LENGTH = 256
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Account:
    """One signed-in person. `subject` is Google's sub or Microsoft's oid (blank: derived from the e-mail)."""

    email: str
    name: str
    subject: str = ""
    given_name: str = ""
    family_name: str = ""
    email_verified: bool = True
    tenant_id: str = ""


@dataclass
class AccountForm:
    """The account page's fields as typed, with one message per invalid field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, name: str, *, label: str, required: bool = False) -> str:
        value = self.values.get(name, "").strip()
        if required and not value:
            self.errors[name] = f"Enter {label}."
        elif len(value) > MAX_FIELD_LENGTH:
            self.errors[name] = f"{label.capitalize()} is longer than {MAX_FIELD_LENGTH} characters."
        elif CONTROL_CHARACTERS.search(value):
            self.errors[name] = f"{label.capitalize()} cannot contain control characters."
        return value

    def email(self) -> str:
        value = self.text("email", label="an e-mail address", required=True)
        if value and "email" not in self.errors and not EMAIL_PATTERN.match(value):
            self.errors["email"] = "Enter an e-mail address like name@example.com."
        return value

    def tenant_id(self) -> str:
        value = self.text("tenant_id", label="a tenant id", required=True)
        if value and "tenant_id" not in self.errors:
            try:
                return str(uuid.UUID(value))
            except ValueError:
                self.errors["tenant_id"] = "A tenant id is a GUID, like 3f6a1d2e-5b7c-4e8f-9a0b-1c2d3e4f5a6b."
        return value


def form_values(form: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: form.get(name, "") for name in names}
