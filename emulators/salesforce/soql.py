"""A SOQL subset: SELECT fields | COUNT() FROM object [WHERE ...] [ORDER BY ...] [LIMIT n] [OFFSET n].

WHERE supports = != <> < <= > >= LIKE IN / NOT IN, AND / OR / NOT with parentheses, strings with the
documented escape sequences, numbers, booleans, NULL, dates and date-times. Errors carry the real
codes: MALFORMED_QUERY for syntax (including bad escapes), INVALID_FIELD, INVALID_TYPE.
"""

import re
from dataclasses import dataclass, field

from emulators.salesforce.errors import ApiError, api_error
from emulators.salesforce.metadata import Field
from emulators.salesforce.rules import parse_datetime, to_datetime

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(\.\d+)?)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    """,
    re.VERBOSE,
)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_KEYWORDS = {
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "in",
    "like",
    "order",
    "by",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "limit",
    "offset",
    "null",
    "true",
    "false",
}
_TEXT_TYPES = {
    "string",
    "textarea",
    "email",
    "phone",
    "url",
    "picklist",
    "combobox",
    "multipicklist",
    "id",
    "reference",
}


@dataclass
class Token:
    kind: str
    text: str
    position: int
    value: object = None  # decoded pieces of a string literal


@dataclass
class Query:
    sobject: str
    fields: list[str]
    count_only: bool = False
    where: tuple | None = None
    order: list[tuple[str, bool, bool]] = field(default_factory=list)  # (field, descending, nulls_first)
    limit: int | None = None
    offset: int = 0


def malformed(soql: str, position: int, detail: str) -> ApiError:
    """MALFORMED_QUERY with the caret-and-column layout of Salesforce's parser messages."""
    return api_error(
        400, "MALFORMED_QUERY", f"\n{soql}\n{' ' * position}^\nERROR at Row:1:Column:{position + 1}\n{detail}"
    )


def tokenize(soql: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(soql):
        match = _TOKEN.match(soql, position)
        if match is None:
            raise malformed(soql, position, f"unexpected token: '{soql[position]}'")
        kind = match.lastgroup
        if kind == "string":
            token, position = _read_string(soql, position)
            tokens.append(token)
            continue
        if kind != "ws":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    return tokens


def _read_string(soql: str, start: int) -> tuple[Token, int]:
    """Read a quoted literal into pieces: plain text, or ("escaped", char) for \\% and \\_."""
    pieces, position = [], start + 1
    while position < len(soql):
        char = soql[position]
        if char == "'":
            return Token("string", soql[start : position + 1], start, pieces), position + 1
        if char != "\\":
            pieces.append(char)
            position += 1
            continue
        piece, position = _read_escape(soql, start, position)
        pieces.append(piece)
    raise malformed(
        soql,
        start,
        f"Invalid string literal '{soql[start + 1 :]}'. Missing closing quote character ' in string literal.",
    )


def _read_escape(soql: str, start: int, position: int) -> tuple[object, int]:
    following = soql[position + 1 : position + 2]
    if following.lower() in _SIMPLE_ESCAPES or following in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[following if following in _SIMPLE_ESCAPES else following.lower()], position + 2
    if following in {"%", "_"}:
        return ("escaped", following), position + 2
    hex_digits = soql[position + 2 : position + 6]
    if following == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", hex_digits):
        return chr(int(hex_digits, 16)), position + 6
    literal_end = soql.find("'", position + 2)
    literal = soql[start : literal_end + 1 if literal_end != -1 else len(soql)]
    raise malformed(
        soql, start, f"Invalid string literal {literal}. Illegal character sequence '\\{following}' in string literal."
    )


class Parser:
    """Recursive-descent parser over the token list, resolving field names against the object."""

    def __init__(self, soql: str, describe_fields) -> None:
        self.soql = soql
        self.tokens = tokenize(soql)
        self.index = 0
        self.describe_fields = describe_fields  # callable(name) -> (canonical name, {lower name: Field}) | None

    # -- token helpers -----------------------------------------------------------------------

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def peek_word(self) -> str:
        token = self.peek()
        return token.text.lower() if token is not None and token.kind == "word" else ""

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise malformed(self.soql, len(self.soql), "unexpected token: '<EOF>'")
        self.index += 1
        return token

    def expect_word(self, word: str) -> None:
        token = self.take()
        if token.kind != "word" or token.text.lower() != word:
            raise self.unexpected(token)

    def expect_punct(self, char: str) -> None:
        token = self.take()
        if token.text != char:
            raise self.unexpected(token)

    def unexpected(self, token: Token) -> ApiError:
        return malformed(self.soql, token.position, f"unexpected token: '{token.text}'")

    # -- grammar -----------------------------------------------------------------------------

    def parse(self) -> Query:
        self.expect_word("select")
        selected = self.select_list()
        self.expect_word("from")
        object_token = self.take()
        described = self.describe_fields(object_token.text) if object_token.kind == "word" else None
        if described is None:
            raise api_error(
                400,
                "INVALID_TYPE",
                f"\n{self.soql}\n{' ' * object_token.position}^\nERROR at Row:1:Column:{object_token.position + 1}\n"
                f"sObject type '{object_token.text}' is not supported. If you are attempting to use a custom object, "
                "be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call "
                "for the appropriate names.",
            )
        sobject, self.fields = described
        query = Query(sobject, [], count_only=selected is None)
        query.fields = [self.resolve(token, sobject).name for token in selected or []]
        self.check_duplicates(query.fields, selected or [])
        self.clauses(query, sobject)
        return query

    def select_list(self) -> list[Token] | None:
        if self.peek_word() == "count":
            self.take()
            self.expect_punct("(")
            self.expect_punct(")")
            return None
        selected = [self.take_field_token()]
        while self.peek() is not None and self.peek().text == ",":
            self.take()
            selected.append(self.take_field_token())
        return selected

    def take_field_token(self) -> Token:
        token = self.take()
        if token.kind != "word" or token.text.lower() in _KEYWORDS:
            raise self.unexpected(token)
        return token

    def check_duplicates(self, names: list[str], tokens: list[Token]) -> None:
        seen = set()
        for name, token in zip(names, tokens, strict=True):
            if name in seen:
                raise malformed(self.soql, token.position, f"duplicate field selected: {name}")
            seen.add(name)

    def clauses(self, query: Query, sobject: str) -> None:
        if self.peek_word() == "where":
            self.take()
            query.where = self.condition(sobject)
        if self.peek_word() == "order":
            self.take()
            self.expect_word("by")
            query.order = self.order_list(sobject)
        if self.peek_word() == "limit":
            self.take()
            query.limit = self.integer()
        if self.peek_word() == "offset":
            self.take()
            query.offset = self.integer()
        if self.peek() is not None:
            raise self.unexpected(self.peek())

    def integer(self) -> int:
        token = self.take()
        if token.kind != "number" or not token.text.isdigit():
            raise self.unexpected(token)
        return int(token.text)

    def order_list(self, sobject: str) -> list[tuple[str, bool, bool]]:
        order = []
        while True:
            name = self.resolve(self.take_field_token(), sobject).name
            descending = False
            if self.peek_word() in {"asc", "desc"}:
                descending = self.take().text.lower() == "desc"
            nulls_first = not descending  # Salesforce's default: ASC NULLS FIRST, DESC NULLS LAST
            if self.peek_word() == "nulls":
                self.take()
                position = self.take()
                if position.text.lower() not in {"first", "last"}:
                    raise self.unexpected(position)
                nulls_first = position.text.lower() == "first"
            order.append((name, descending, nulls_first))
            if self.peek() is None or self.peek().text != ",":
                return order
            self.take()

    def condition(self, sobject: str) -> tuple:
        """condition := term ((AND|OR) term)*, one connective per level, as SOQL requires."""
        terms = [self.term(sobject)]
        connective = None
        while self.peek_word() in {"and", "or"}:
            token = self.take()
            if connective not in (None, token.text.lower()):
                raise self.unexpected(token)
            connective = token.text.lower()
            terms.append(self.term(sobject))
        return terms[0] if connective is None else (connective, terms)

    def term(self, sobject: str) -> tuple:
        if self.peek_word() == "not":
            self.take()
            return ("not", self.term(sobject))
        token = self.peek()
        if token is not None and token.text == "(":
            self.take()
            inner = self.condition(sobject)
            self.expect_punct(")")
            return inner
        return self.comparison(sobject)

    def comparison(self, sobject: str) -> tuple:
        f = self.resolve(self.take_field_token(), sobject)
        operator = self.take()
        word = operator.text.lower() if operator.kind == "word" else ""
        if word == "like":
            return ("like", f.name, self.like_pattern(f))
        if word == "not" and self.peek_word() == "in":
            self.take()
            return ("not", ("in", f.name, self.value_list(f)))
        if word == "in":
            return ("in", f.name, self.value_list(f))
        if operator.kind != "op":
            raise self.unexpected(operator)
        return ("cmp", f.name, "!=" if operator.text == "<>" else operator.text, self.value(f))

    def value_list(self, f: Field) -> list:
        self.expect_punct("(")
        values = [self.value(f)]
        while self.peek() is not None and self.peek().text == ",":
            self.take()
            values.append(self.value(f))
        self.expect_punct(")")
        return values

    def like_pattern(self, f: Field) -> re.Pattern:
        token = self.take()
        if token.kind != "string":
            raise self.unexpected(token)
        regex = ""
        for piece in token.value:
            if isinstance(piece, tuple):
                regex += re.escape(piece[1])
            else:
                regex += ".*" if piece == "%" else "." if piece == "_" else re.escape(piece)
        return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL)

    def value(self, f: Field) -> object:
        """A literal, checked against the field's type as Salesforce does."""
        token = self.take()
        word = token.text.lower() if token.kind == "word" else ""
        if word == "null":
            return None
        if f.type == "boolean":
            return self.boolean_value(f, token, word)
        if f.type in {"datetime", "date"}:
            return self.temporal_value(f, token)
        if f.type in {"int", "double", "currency", "percent"}:
            if token.kind != "number":
                raise self.type_error(f, "number", quoted=False)
            return float(token.text)
        if token.kind != "string":
            if token.kind in {"number", "date", "datetime"} or word in {"true", "false"}:
                raise self.type_error(f, "string", quoted=True)
            raise self.unexpected(token)
        return self.plain_string(token)

    def boolean_value(self, f: Field, token: Token, word: str) -> bool:
        if word not in {"true", "false"}:
            raise self.type_error(f, "boolean", quoted=False)
        return word == "true"

    def temporal_value(self, f: Field, token: Token) -> str:
        if f.type == "datetime" and token.kind == "datetime":
            try:
                return to_datetime(token.text)
            except ValueError:
                raise malformed(
                    self.soql,
                    token.position,
                    f"line 1:{token.position} no viable alternative at character '{token.text}'",
                ) from None
        if f.type == "date" and token.kind == "date":
            return token.text
        raise self.type_error(f, "dateTime" if f.type == "datetime" else "date", quoted=False)

    def plain_string(self, token: Token) -> str:
        text = ""
        for piece in token.value:
            if isinstance(piece, tuple):  # \% and \_ belong to LIKE patterns only
                raise malformed(
                    self.soql,
                    token.position,
                    f"Invalid string literal {token.text}. Illegal character sequence '\\{piece[1]}' in string literal.",
                )
            text += piece
        return text

    def type_error(self, f: Field, type_name: str, quoted: bool) -> ApiError:
        should = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return api_error(
            400,
            "INVALID_FIELD",
            f"value of filter criterion for field '{f.name}' must be of type {type_name} and {should}",
        )

    def resolve(self, token: Token, sobject: str) -> Field:
        if "." in token.text:
            relationship = token.text.split(".", 1)[0]
            raise self.invalid_field(
                token,
                f"Didn't understand relationship '{relationship}' in field path. If you are attempting to use a custom "
                "relationship, be sure to append the '__r' after the custom relationship name. Please reference your "
                "WSDL or the describe call for the appropriate names.",
            )
        f = self.fields.get(token.text.lower())
        if f is None or not f.readable:
            raise self.invalid_field(
                token,
                f"No such column '{token.text}' on entity '{sobject}'. If you are attempting to use a custom field, be "
                "sure to append the '__c' after the custom field name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
            )
        return f

    def invalid_field(self, token: Token, detail: str) -> ApiError:
        return api_error(
            400,
            "INVALID_FIELD",
            f"\n{self.soql}\n{' ' * token.position}^\nERROR at Row:1:Column:{token.position + 1}\n{detail}",
        )


def parse(soql: str, describe_fields) -> Query:
    return Parser(soql, describe_fields).parse()


# -- evaluation --------------------------------------------------------------------------------


def matches(node: tuple | None, record: dict, fields: dict[str, Field]) -> bool:
    if node is None:
        return True
    kind = node[0]
    if kind == "and":
        return all(matches(child, record, fields) for child in node[1])
    if kind == "or":
        return any(matches(child, record, fields) for child in node[1])
    if kind == "not":
        return not matches(node[1], record, fields)
    value = record.get(node[1])
    if kind == "like":
        return isinstance(value, str) and bool(node[2].match(value))
    f = fields[node[1].lower()]
    if kind == "in":
        return any(_compare(f, value, "=", candidate) for candidate in node[2])
    return _compare(f, value, node[2], node[3])


def _compare(f: Field, value: object, operator: str, literal: object) -> bool:
    if literal is None or value is None:
        equal = literal is None and value is None
        return equal if operator == "=" else (not equal if operator == "!=" else False)
    left, right = _comparable(f, value), _comparable(f, literal)
    return {
        "=": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[operator]


def _comparable(f: Field, value: object) -> object:
    """Text compares case-insensitively (ids by their 15-character form); date-times as moments."""
    if f.type == "datetime":
        return parse_datetime(value)
    if f.type in {"id", "reference"}:
        return str(value)[:15]
    if f.type in _TEXT_TYPES:
        return str(value).lower()
    return value


def sort_key(record: dict, name: str, descending: bool, nulls_first: bool, fields: dict[str, Field]):
    value = record.get(name)
    # Nulls go to the requested end regardless of direction; reversing later flips them, so pre-flip.
    null_rank = 0 if nulls_first != descending else 1
    if value is None:
        return (null_rank, 0)
    return (1 - null_rank, _comparable(fields[name.lower()], value))
