"""Reading the CSV files people upload (rosters, account imports): one header, then rows.

The reader strips a UTF-8 byte-order mark, checks the header, skips blank lines and hands
out each row with its line number; callers validate the cells and name the line in errors.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence


class CsvTableError(ValueError):
    """The text is not CSV with the expected header, or a row has the wrong width."""


def read_table(
    text: str, header: Sequence[str], *, check_width: bool = True
) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row after `header`; with `check_width` off,
    rows of another width are handed out too (for a caller that lists every bad row)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        first = next(reader, None)
        if first is None or [column.strip() for column in first] != list(header):
            raise CsvTableError(f"the first line must be the header {','.join(header)}")
        for line_number, row in enumerate(reader, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            if check_width and len(row) != len(header):
                raise CsvTableError(f"line {line_number}: expected {len(header)} columns")
            yield line_number, row
    except csv.Error as exc:
        raise CsvTableError(f"the file is not valid CSV: {exc}") from None
