"""The HTTP side of the `chapkit` command: options shared by client commands, requests and output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
API_KEY_HEADER = "X-API-Key"

Url = Annotated[str, typer.Option("--url", envvar="CHAPKIT_URL", help="Base URL of the service.")]
ApiKey = Annotated[str | None, typer.Option("--api-key", envvar="CHAPKIT_API_KEY", help="API key, sent as X-API-Key.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts) instead of a table.")]

# Markup off: user text (paths, ids, error messages, `pip install 'chapkit[parquet]'`) prints literally;
# styles are given as `Text` where the CLI wants them.
console = Console(markup=False)
errors = Console(stderr=True, markup=False)


class ServiceError(Exception):
    """A request the service refused or could not answer; the message is for people.

    `status` is the HTTP status of a refusal, None when the service was not reached.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ServiceClient:
    """A small synchronous client for one chapkit service."""

    url: str
    api_key: str | None = None
    timeout: float = 30.0

    def _client(self) -> httpx.Client:
        import httpx  # loaded by the commands that talk to a service, not by `--help`

        headers = {API_KEY_HEADER: self.api_key} if self.api_key else {}
        return httpx.Client(base_url=self.url.rstrip("/"), headers=headers, timeout=self.timeout)

    def request(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        """Send one request and return its JSON body (None for an empty one); raise ServiceError otherwise."""
        import httpx

        try:
            with self._client() as client:
                response = client.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise ServiceError(f"cannot reach {self.url}: {exc}") from exc
        if response.is_error:
            raise ServiceError(f"{method} {path}: {response.status_code} {_problem(response)}", response.status_code)
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        """GET `path` and return its JSON body."""
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> Any:
        """POST a JSON body to `path` and return the JSON answer."""
        return self.request("POST", path, body=body)

    def delete(self, path: str) -> None:
        """DELETE `path`."""
        self.request("DELETE", path)

    def events(self, path: str) -> Iterator[Any]:
        """Follow a Server-Sent Events stream and yield each event's JSON data until it ends."""
        import httpx

        try:
            with self._client() as client, client.stream("GET", path, timeout=None) as response:
                if response.is_error:
                    response.read()
                    raise ServiceError(f"GET {path}: {response.status_code} {_problem(response)}", response.status_code)
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        yield json.loads(line[len("data:") :].strip())
        except httpx.HTTPError as exc:
            raise ServiceError(f"cannot follow {self.url}{path}: {exc}") from exc


def _problem(response: httpx.Response) -> str:
    """The `detail` of a problem response, else its text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict) and "detail" in body:
        detail = body["detail"]
        return detail if isinstance(detail, str) else json.dumps(detail)[:500]
    return json.dumps(body)[:500]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` on stderr and return the Exit to raise."""
    errors.print(Text.assemble(("error:", "red"), f" {message}"), highlight=False, soft_wrap=True)
    return typer.Exit(code)


def print_json(value: Any) -> None:
    """Print `value` as indented JSON on stdout (plain, for scripts)."""
    typer.echo(json.dumps(value, indent=2, default=str))


_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def cell(value: Any) -> str:
    """A short readable cell for a table: JSON cut at 60 characters, timestamps to the second."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str)
        return text if len(text) <= 60 else text[:57] + "..."
    text = str(value)
    if match := _TIMESTAMP.match(text):
        zone = match[3] or ""
        return f"{match[1]} {match[2]}{'' if zone in ('Z', '+00:00', '+0000') else zone}"
    return text


def is_id_column(column: str) -> bool:
    """Whether a column holds ids (`id`, `*_id`): the values people copy, never cut."""
    return column == "id" or column.endswith("_id")


def column_widths(columns: Sequence[str], cells: Sequence[Sequence[str]], available: int) -> list[int] | None:
    """Widths for a table's columns within `available` characters of cells, or None when they cannot fit.

    Ids keep their full width; other columns shrink, widest first, down to their longest word (at most 20).
    """
    natural = [max(len(column), *(len(line[index]) for line in cells)) for index, column in enumerate(columns)]
    least = [
        width
        if is_id_column(column)
        else min(
            width,
            20,
            max(len(word) for text in (column, *(line[index] for line in cells)) for word in [*text.split(), ""]),
        )
        for index, (column, width) in enumerate(zip(columns, natural, strict=True))
    ]
    if sum(least) > available:
        return None
    widths = list(natural)
    while sum(widths) > available:
        index = max((i for i in range(len(widths)) if widths[i] > least[i]), key=lambda i: widths[i])
        widths[index] -= 1
    return widths


def print_table(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """Print `rows` as a table of `columns` (a note when there are none); ids are never cut.

    Other cells wrap between words to fit the terminal; a table that cannot fit even so is printed as one
    block of `column  value` lines per row (as psql's expanded display), every id whole on one line.
    """
    if not rows:
        console.print(f"No {title.lower()}.")
        return
    cells = [[cell(row.get(column)) for column in columns] for row in rows]
    widths = column_widths(columns, cells, console.width - 3 * len(columns) - 1)  # borders, a space each side
    if widths is None:
        _print_expanded(title, columns, cells)
        return
    table = Table(title=title)
    for column, width in zip(columns, widths, strict=True):
        table.add_column(column, width=width, no_wrap=is_id_column(column), overflow="fold")
    for line in cells:
        table.add_row(*line)
    console.print(table)


def _print_expanded(title: str, columns: Sequence[str], cells: Sequence[Sequence[str]]) -> None:
    console.print(Text(title, style="bold"))
    width = max(len(column) for column in columns)
    for number, line in enumerate(cells, 1):
        console.print(Text(f"-[ {number} ]" + "-" * max(0, min(console.width, 40) - 7 - len(str(number))), "dim"))
        for column, value in zip(columns, line, strict=True):
            console.print(Text.assemble((column.ljust(width), "bold"), "  ", value))


def print_record(title: str, record: dict[str, Any]) -> None:
    """Print one record as a two-column field/value table."""
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")  # wraps, never cuts (ids among them)
    for key, value in record.items():
        shown = json.dumps(value, indent=2, default=str) if isinstance(value, dict | list) else cell(value)
        table.add_row(key, shown)
    console.print(table)


def items(page: Any) -> list[dict[str, Any]]:
    """The rows of a list answer: a plain list or a paginated page's `items`."""
    if isinstance(page, dict) and "items" in page:
        return list(page["items"])
    return list(page)


__all__ = [
    "API_KEY_HEADER",
    "DEFAULT_URL",
    "ApiKey",
    "AsJson",
    "ServiceClient",
    "ServiceError",
    "Url",
    "cell",
    "column_widths",
    "is_id_column",
    "fail",
    "items",
    "print_json",
    "print_record",
    "print_table",
]
