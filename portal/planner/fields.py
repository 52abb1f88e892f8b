"""An immutable view of an sObject describe: the field metadata the planner, the value conversion and the mapping
editor rely on, read from the describe JSON (cached per connection in DescribeCache.payload)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TEXT_TYPES = frozenset({"string", "textarea", "combobox", "encryptedstring"})
# Field types a mapping row may write; compound, binary and system types (address, base64, id, ...) are not offered.
MAPPABLE_TYPES = TEXT_TYPES | frozenset(
    {
        "email",
        "phone",
        "url",
        "picklist",
        "multipicklist",
        "boolean",
        "int",
        "double",
        "currency",
        "percent",
        "date",
        "datetime",
        "reference",
    }
)


@dataclass(frozen=True)
class FieldInfo:
    name: str
    label: str
    type: str
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    picklist_values: tuple[str, ...] = ()  # active values only
    restricted_picklist: bool = False
    reference_to: tuple[str, ...] = ()

    @property
    def required_on_create(self) -> bool:
        """Salesforce refuses a create without it (e.g. Lead LastName and Company)."""
        return self.createable and not self.nillable and not self.defaulted_on_create

    @property
    def display(self) -> str:
        return f"{self.label} ({self.name})"

    def writable(self, overwrite: bool) -> bool:
        """Createable, and updateable too when the integration overwrites existing records."""
        return self.createable and (self.updateable or not overwrite)


@dataclass(frozen=True)
class ObjectFields:
    object_name: str
    fields: tuple[FieldInfo, ...]

    def get(self, name: str) -> FieldInfo | None:
        """The field by API name; Salesforce API names are case-insensitive."""
        wanted = name.lower()
        return next((f for f in self.fields if f.name.lower() == wanted), None)

    @property
    def required_on_create(self) -> tuple[FieldInfo, ...]:
        return tuple(f for f in self.fields if f.required_on_create)

    def offered(self, overwrite: bool) -> tuple[FieldInfo, ...]:
        """The fields the mapping editor offers: writable by the connected user and of a type a row can fill."""
        return tuple(f for f in self.fields if f.writable(overwrite) and f.type in MAPPABLE_TYPES)


def field_from_describe(entry: Mapping[str, Any]) -> FieldInfo:
    return FieldInfo(
        name=entry["name"],
        label=entry.get("label") or entry["name"],
        type=entry.get("type", "string"),
        length=int(entry.get("length") or 0),
        nillable=bool(entry.get("nillable", True)),
        createable=bool(entry.get("createable", False)),
        updateable=bool(entry.get("updateable", False)),
        defaulted_on_create=bool(entry.get("defaultedOnCreate", False)),
        picklist_values=tuple(v["value"] for v in entry.get("picklistValues") or () if v.get("active", True)),
        restricted_picklist=bool(entry.get("restrictedPicklist", False)),
        reference_to=tuple(entry.get("referenceTo") or ()),
    )


def fields_from_describe(describe: Mapping[str, Any]) -> ObjectFields:
    """Read an sObject describe body (GET /sobjects/<name>/describe)."""
    return ObjectFields(
        object_name=describe["name"], fields=tuple(field_from_describe(entry) for entry in describe.get("fields", ()))
    )
