"""HTML pages: the OAuth login and approval pages, OAuth error pages, and the records browser."""

from flask import render_template_string

_LAYOUT = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} | Salesforce emulator</title>
<style>
body{font-family:sans-serif;margin:2rem;color:#181818}
table{border-collapse:collapse;margin-bottom:2rem;font-size:.85rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
.error{color:#b00020} label{display:block;margin-top:.5rem} button{margin-top:1rem;margin-right:.5rem}
</style></head><body><h1>{{ title }}</h1>{{ content|safe }}</body></html>"""

_LOGIN = """
<p>Log in to the emulated org to connect <strong>{{ client_id }}</strong>.</p>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="/services/oauth2/authorize">
  <input type="hidden" name="pending" value="{{ pending }}">
  <input type="hidden" name="step" value="login">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" autocomplete="username" value="{{ username }}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password">
  <button type="submit" id="Login">Log In</button>
</form>"""

_APPROVE = """
<p><strong>{{ client_id }}</strong> is requesting access for <strong>{{ username }}</strong>:</p>
<ul>{% for scope in scopes %}<li>{{ scope }}</li>{% endfor %}</ul>
<p>Do you want to allow access?</p>
<form method="post" action="/services/oauth2/authorize">
  <input type="hidden" name="pending" value="{{ pending }}">
  <input type="hidden" name="step" value="decision">
  <button type="submit" name="decision" value="deny" id="oaapprove_deny">Deny</button>
  <button type="submit" name="decision" value="allow" id="oaapprove">Allow</button>
</form>"""

_ERROR = """<p class="error" role="alert">error={{ error }}&amp;error_description={{ description }}</p>"""

_RECORDS = """
<p>Org {{ org_id }} &middot; API calls today: {{ api_calls }} / {{ limit }}</p>
<nav>{% for name, rows in tables %}<a href="#{{ name }}">{{ name }} ({{ rows|length }})</a> {% endfor %}</nav>
{% for name, rows in tables %}
<h2 id="{{ name }}">{{ name }}</h2>
{% if rows %}
<table><thead><tr>{% for column in columns[name] %}<th scope="col">{{ column }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr id="{{ row.Id }}">{% for column in columns[name] %}<td>{{ row.get(column) if row.get(column) is not none else "" }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>
{% else %}<p>No records.</p>{% endif %}
{% endfor %}"""

RECORD_PAGE_OBJECTS = ("Lead", "Contact", "Event", "Account", "User")


def _page(title: str, body: str, **context) -> str:
    content = render_template_string(body, **context)
    return render_template_string(_LAYOUT, title=title, content=content)


def login_page(pending: str, client_id: str, username: str = "", error: str = "") -> str:
    return _page("Log in", _LOGIN, pending=pending, client_id=client_id, username=username, error=error)


def approve_page(pending: str, client_id: str, username: str, scopes: list[str]) -> str:
    return _page("Allow access?", _APPROVE, pending=pending, client_id=client_id, username=username, scopes=scopes)


def error_page(error: str, description: str) -> str:
    return _page("Error", _ERROR, error=error, description=description)


def records_page(org_id: str, api_calls: int, limit: int, tables: list[tuple[str, list[dict]]]) -> str:
    """Every record per object, columns being the fields any record of that object has set."""
    columns = {
        name: [column for column in _column_order(rows) if any(row.get(column) not in (None, "") for row in rows)]
        for name, rows in tables
    }
    return _page(
        "Org records", _RECORDS, org_id=org_id, api_calls=api_calls, limit=limit, tables=tables, columns=columns
    )


def _column_order(rows: list[dict]) -> list[str]:
    order: list[str] = []
    for row in rows:
        order.extend(column for column in row if column not in order)
    return order
