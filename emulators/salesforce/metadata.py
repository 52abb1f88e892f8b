"""Field metadata of the emulated objects (Lead, Contact, Event, User, Account) and their describe.

Names, types, lengths and flags follow a standard Developer Edition org; custom fields and
field-level permissions from the org settings are layered on top.
"""

from dataclasses import dataclass, replace

from emulators.salesforce.ids import KEY_PREFIXES

API_VERSIONS = [f"{major}.0" for major in range(20, 63)]

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "datetime": "xsd:dateTime",
    "date": "xsd:date",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
}
_TEXT_TYPES = {"string", "textarea", "email", "phone", "url", "picklist", "combobox", "multipicklist"}


@dataclass(frozen=True)
class Picklist:
    value: str
    active: bool = True
    default: bool = False


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    default_value: object = None
    picklist: tuple[Picklist, ...] = ()
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    custom: bool = False
    readable: bool = True
    name_field: bool = False
    digits: int = 0
    precision: int = 0
    scale: int = 0

    def active_values(self) -> set[str]:
        return {entry.value for entry in self.picklist if entry.active}


def _ro(name: str, type_: str, label: str, **extra) -> Field:
    """A system-maintained field: never createable or updateable."""
    return Field(name, type_, label, createable=False, updateable=False, **extra)


def _pick(*values: str, inactive: tuple[str, ...] = ()) -> tuple[Picklist, ...]:
    return tuple(Picklist(v) for v in values) + tuple(Picklist(v, active=False) for v in inactive)


def _system_fields(label: str) -> list[Field]:
    return [
        _ro("Id", "id", f"{label} ID", length=18, nillable=False, defaulted_on_create=True),
        _ro("IsDeleted", "boolean", "Deleted", nillable=False, defaulted_on_create=True),
        _ro("CreatedDate", "datetime", "Created Date", nillable=False, defaulted_on_create=True),
        _ro(
            "CreatedById",
            "reference",
            "Created By ID",
            length=18,
            nillable=False,
            defaulted_on_create=True,
            reference_to=("User",),
        ),
        _ro("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, defaulted_on_create=True),
        _ro(
            "LastModifiedById",
            "reference",
            "Last Modified By ID",
            length=18,
            nillable=False,
            defaulted_on_create=True,
            reference_to=("User",),
        ),
        _ro("SystemModstamp", "datetime", "System Modstamp", nillable=False, defaulted_on_create=True),
    ]


def _owner() -> Field:
    return Field(
        "OwnerId", "reference", "Owner ID", length=18, nillable=False, defaulted_on_create=True, reference_to=("User",)
    )


_SALUTATIONS = _pick("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")
_LEAD_SOURCES = _pick("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other", inactive=("Trade Show",))
_INDUSTRIES = _pick("Agriculture", "Banking", "Consulting", "Education", "Healthcare", "Technology", "Other")

_LEAD = [
    *_system_fields("Lead"),
    _ro("MasterRecordId", "reference", "Master Record ID", length=18, reference_to=("Lead",)),
    Field("LastName", "string", "Last Name", length=80, nillable=False),
    Field("FirstName", "string", "First Name", length=40),
    Field("Salutation", "picklist", "Salutation", length=40, picklist=_SALUTATIONS),
    _ro("Name", "string", "Full Name", length=121, nillable=False, name_field=True),
    Field("Title", "string", "Title", length=128),
    Field("Company", "string", "Company", length=255, nillable=False),
    Field("Street", "textarea", "Street", length=255),
    Field("City", "string", "City", length=40),
    Field("State", "string", "State/Province", length=80),
    Field("PostalCode", "string", "Zip/Postal Code", length=20),
    Field("Country", "string", "Country", length=80),
    Field("Phone", "phone", "Phone", length=40),
    Field("MobilePhone", "phone", "Mobile Phone", length=40),
    Field("Email", "email", "Email", length=80),
    Field("Website", "url", "Website", length=255),
    Field("Description", "textarea", "Description", length=32000),
    Field("LeadSource", "picklist", "Lead Source", length=255, picklist=_LEAD_SOURCES),
    Field(
        "Status",
        "picklist",
        "Status",
        length=255,
        nillable=False,
        defaulted_on_create=True,
        default_value="Open - Not Contacted",
        restricted=True,
        picklist=(
            Picklist("Open - Not Contacted", default=True),
            Picklist("Working - Contacted"),
            Picklist("Closed - Converted"),
            Picklist("Closed - Not Converted"),
        ),
    ),
    Field("Industry", "picklist", "Industry", length=255, picklist=_INDUSTRIES),
    Field("Rating", "picklist", "Rating", length=255, picklist=_pick("Hot", "Warm", "Cold")),
    Field("AnnualRevenue", "currency", "Annual Revenue", precision=18),
    Field("NumberOfEmployees", "int", "Employees", digits=8),
    _owner(),
    _ro("IsConverted", "boolean", "Converted", nillable=False, defaulted_on_create=True),
    _ro("ConvertedDate", "date", "Converted Date"),
    _ro("ConvertedAccountId", "reference", "Converted Account ID", length=18, reference_to=("Account",)),
    _ro("ConvertedContactId", "reference", "Converted Contact ID", length=18, reference_to=("Contact",)),
    Field(
        "IsUnreadByOwner", "boolean", "Unread By Owner", nillable=False, defaulted_on_create=True, default_value=False
    ),
    _ro("LastActivityDate", "date", "Last Activity"),
]

_CONTACT = [
    *_system_fields("Contact"),
    _ro("MasterRecordId", "reference", "Master Record ID", length=18, reference_to=("Contact",)),
    Field("AccountId", "reference", "Account ID", length=18, reference_to=("Account",)),
    Field("LastName", "string", "Last Name", length=80, nillable=False),
    Field("FirstName", "string", "First Name", length=40),
    Field("Salutation", "picklist", "Salutation", length=40, picklist=_SALUTATIONS),
    _ro("Name", "string", "Full Name", length=121, nillable=False, name_field=True),
    Field("MailingStreet", "textarea", "Mailing Street", length=255),
    Field("MailingCity", "string", "Mailing City", length=40),
    Field("MailingState", "string", "Mailing State/Province", length=80),
    Field("MailingPostalCode", "string", "Mailing Zip/Postal Code", length=20),
    Field("MailingCountry", "string", "Mailing Country", length=80),
    Field("Phone", "phone", "Business Phone", length=40),
    Field("MobilePhone", "phone", "Mobile Phone", length=40),
    Field("Email", "email", "Email", length=80),
    Field("Title", "string", "Title", length=128),
    Field("Department", "string", "Department", length=80),
    Field("LeadSource", "picklist", "Lead Source", length=255, picklist=_LEAD_SOURCES),
    Field("Birthdate", "date", "Birthdate"),
    Field("Description", "textarea", "Contact Description", length=32000),
    _owner(),
    _ro("LastActivityDate", "date", "Last Activity"),
]

_EVENT = [
    *_system_fields("Activity"),
    Field("WhoId", "reference", "Name ID", length=18, reference_to=("Contact", "Lead")),
    Field("WhatId", "reference", "Related To ID", length=18, reference_to=("Account",)),
    Field(
        "Subject",
        "combobox",
        "Subject",
        length=255,
        picklist=_pick("Call", "Email", "Meeting", "Send Letter/Quote", "Other"),
    ),
    Field("Location", "string", "Location", length=255),
    Field("IsAllDayEvent", "boolean", "All-Day Event", nillable=False, defaulted_on_create=True, default_value=False),
    Field("ActivityDateTime", "datetime", "Due Date Time"),
    Field("ActivityDate", "date", "Due Date Only"),
    Field("DurationInMinutes", "int", "Duration", digits=9),
    Field("StartDateTime", "datetime", "Start Date Time"),
    Field("EndDateTime", "datetime", "End Date Time"),
    Field("Description", "textarea", "Description", length=32000),
    _ro("AccountId", "reference", "Account ID", length=18, reference_to=("Account",)),
    _owner(),
    Field("IsPrivate", "boolean", "Private", nillable=False, defaulted_on_create=True, default_value=False),
    Field(
        "ShowAs",
        "picklist",
        "Show Time As",
        length=40,
        defaulted_on_create=True,
        default_value="Busy",
        restricted=True,
        picklist=(Picklist("Busy", default=True), Picklist("OutOfOffice"), Picklist("Free")),
    ),
    Field("Type", "picklist", "Type", length=40, picklist=_pick("Call", "Email", "Meeting", "Other")),
]

_USER = [
    *_system_fields("User"),
    _ro("Username", "string", "Username", length=80, nillable=False),
    _ro("LastName", "string", "Last Name", length=80, nillable=False),
    _ro("FirstName", "string", "First Name", length=40),
    _ro("Name", "string", "Full Name", length=121, nillable=False, name_field=True),
    _ro("Email", "email", "Email", length=128, nillable=False),
    _ro("Alias", "string", "Alias", length=8, nillable=False),
    _ro("IsActive", "boolean", "Active", nillable=False, defaulted_on_create=True),
    _ro(
        "TimeZoneSidKey",
        "picklist",
        "Time Zone",
        length=40,
        nillable=False,
        restricted=True,
        picklist=_pick("America/Los_Angeles", "Europe/London", "Asia/Tokyo", "GMT"),
    ),
    _ro("UserType", "picklist", "User Type", length=40, picklist=_pick("Standard")),
]

_ACCOUNT = [
    *_system_fields("Account"),
    _ro("MasterRecordId", "reference", "Master Record ID", length=18, reference_to=("Account",)),
    Field("Name", "string", "Account Name", length=255, nillable=False, name_field=True),
    Field(
        "Type",
        "picklist",
        "Account Type",
        length=40,
        picklist=_pick("Prospect", "Customer - Direct", "Customer - Channel", "Other"),
    ),
    Field("Phone", "phone", "Account Phone", length=40),
    Field("Website", "url", "Website", length=255),
    Field("Industry", "picklist", "Industry", length=255, picklist=_INDUSTRIES),
    Field("BillingCity", "string", "Billing City", length=40),
    Field("BillingCountry", "string", "Billing Country", length=80),
    Field("Description", "textarea", "Account Description", length=32000),
    _owner(),
]

STANDARD_FIELDS: dict[str, list[Field]] = {
    "Lead": _LEAD,
    "Contact": _CONTACT,
    "Event": _EVENT,
    "User": _USER,
    "Account": _ACCOUNT,
}
OBJECT_LABELS = {
    "Lead": ("Lead", "Leads"),
    "Contact": ("Contact", "Contacts"),
    "Event": ("Event", "Events"),
    "User": ("User", "Users"),
    "Account": ("Account", "Accounts"),
}


def custom_field_from_spec(spec: dict) -> Field:
    """Build a custom field from a control-API spec ({"name": "Foo__c", "type": "string", ...})."""
    values = tuple(
        Picklist(v["value"], active=v.get("active", True)) if isinstance(v, dict) else Picklist(str(v))
        for v in spec.get("picklistValues", [])
    )
    return Field(
        name=spec["name"],
        type=spec.get("type", "string"),
        label=spec.get("label", spec["name"].removesuffix("__c").replace("_", " ")),
        length=int(spec.get("length", 255 if spec.get("type", "string") in _TEXT_TYPES else 0)),
        nillable=not spec.get("required", False),
        picklist=values,
        restricted=bool(spec.get("restrictedPicklist", False)),
        reference_to=tuple(spec.get("referenceTo", ())),
        custom=True,
    )


def apply_permission(base: Field, permission: dict) -> Field:
    """Narrow a field by field-level security: readable / createable / updateable flags."""
    readable = permission.get("readable", True)
    return replace(
        base,
        readable=readable,
        createable=base.createable and readable and permission.get("createable", True),
        updateable=base.updateable and readable and permission.get("updateable", True),
    )


def describe_field(f: Field) -> dict:
    """The describe entry of one field, with the keys a real describe carries."""
    text = f.type in _TEXT_TYPES
    return {
        "aggregatable": f.type not in {"textarea"},
        "autoNumber": False,
        "byteLength": f.length * 3 if text else (18 if f.type in {"id", "reference"} else 0),
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "controllerName": None,
        "createable": f.createable,
        "custom": f.custom,
        "defaultValue": f.default_value,
        "defaultValueFormula": None,
        "defaultedOnCreate": f.defaulted_on_create,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": f.digits,
        "externalId": False,
        "filterable": f.type != "textarea" or f.length <= 255,
        "groupable": f.type not in {"textarea", "datetime", "double", "currency"},
        "htmlFormatted": False,
        "idLookup": f.name == "Id" or f.type == "email",
        "inlineHelpText": None,
        "label": f.label,
        "length": f.length,
        "name": f.name,
        "nameField": f.name_field,
        "namePointing": False,
        "nillable": f.nillable,
        "permissionable": f.nillable and f.createable,
        "picklistValues": [
            {
                "active": entry.active,
                "defaultValue": entry.default,
                "label": entry.value,
                "validFor": None,
                "value": entry.value,
            }
            for entry in f.picklist
        ],
        "precision": f.precision,
        "referenceTo": list(f.reference_to),
        "relationshipName": f.name.removesuffix("Id") if f.type == "reference" else None,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": f.restricted,
        "scale": f.scale,
        "soapType": _SOAP_TYPES.get(f.type, "xsd:string"),
        "sortable": f.type != "textarea" or f.length <= 255,
        "type": f.type,
        "unique": False,
        "updateable": f.updateable,
        "writeRequiresMasterRead": False,
    }


def describe_object(name: str, fields: list[Field], version: str) -> dict:
    """The describe body of one object, readable fields only."""
    label, plural = OBJECT_LABELS[name]
    base = f"/services/data/v{version}/sobjects/{name}"
    writable = name != "User"
    return {
        "activateable": False,
        "childRelationships": [],
        "createable": writable,
        "custom": False,
        "customSetting": False,
        "deletable": writable,
        "feedEnabled": name != "Event",
        "fields": [describe_field(f) for f in fields if f.readable],
        "keyPrefix": KEY_PREFIXES[name],
        "label": label,
        "labelPlural": plural,
        "layoutable": True,
        "mergeable": name in {"Lead", "Contact", "Account"},
        "name": name,
        "queryable": True,
        "recordTypeInfos": [],
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": writable,
        "updateable": writable,
        "urls": {
            "compactLayouts": f"{base}/describe/compactLayouts",
            "rowTemplate": f"{base}/{{ID}}",
            "describe": f"{base}/describe",
            "sobject": base,
        },
    }
