"""REST error bodies: Salesforce answers errors with a JSON array of {message, errorCode, fields}."""


class ApiError(Exception):
    """A REST failure carrying its HTTP status and the error array to send back."""

    def __init__(self, status: int, errors: list[dict]):
        super().__init__(errors[0].get("message") if errors else "")
        self.status = status
        self.errors = errors

    @property
    def code(self) -> str:
        return self.errors[0]["errorCode"] if self.errors else ""


def error(code: str, message: str, fields: list[str] | None = None) -> dict:
    """One error entry; ``fields`` is included only where Salesforce includes it (record errors)."""
    entry = {"message": message, "errorCode": code}
    if fields is not None:
        entry["fields"] = fields
    return entry


def api_error(status: int, code: str, message: str, fields: list[str] | None = None) -> ApiError:
    return ApiError(status, [error(code, message, fields)])


def not_found() -> ApiError:
    return api_error(404, "NOT_FOUND", "The requested resource does not exist")


def invalid_session() -> ApiError:
    return api_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
