"""`attn users add` and `attn users import`: the password from stdin without its line ending,
CSV files as spreadsheets save them, and a bad row or a clash imports nothing at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.accounts import verifies
from tests.support.cli import assert_ok, assert_one_line_failure, attn
from tests.support.database import Database, password_hash, user_count, users_by_number
from tests.support.processes import child_environment

# Every test runs the real `attn` executable, a second or more each time.
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""], ids=["lf", "crlf", "none"])
def test_users_add_reads_password_without_line_ending(
    clean_database: Database, data_dir: Path, ending: str
) -> None:
    env = child_environment(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    password = "s3cret pass phrase "  # spaces are part of the password; only LF/CRLF is not
    result = attn(
        "users",
        "add",
        "--school-number",
        "T100",
        "--full-name",
        "Ada Lovelace",
        "--role",
        "teacher",
        "--password-stdin",
        env=env,
        stdin=password + ending,
    )
    assert_ok(result)
    users = users_by_number(clean_database)
    assert set(users) == {"T100"}
    full_name, role, stored_hash = users["T100"]
    assert (full_name, role) == ("Ada Lovelace", "teacher")
    assert verifies(stored_hash, password)
    for wrong in (password + "\n", password + "\r", password + "\r\n", password.rstrip()):
        assert not verifies(stored_hash, wrong), repr(wrong)


def test_users_add_duplicate_school_number_fails(clean_database: Database, data_dir: Path) -> None:
    env = child_environment(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    args = ("users", "add", "--school-number", "S200", "--full-name", "First One")
    assert_ok(attn(*args, "--role", "student", "--password-stdin", env=env, stdin="first\n"))
    first_hash = password_hash(clean_database, "S200")

    result = attn(
        "users",
        "add",
        "--school-number",
        "S200",
        "--full-name",
        "Second One",
        "--role",
        "teacher",
        "--password-stdin",
        env=env,
        stdin="second\n",
    )
    reason = assert_one_line_failure(result)
    assert "S200" in reason
    assert users_by_number(clean_database) == {"S200": ("First One", "student", first_hash)}


@pytest.mark.parametrize(
    ("options", "stdin"),
    [
        pytest.param(["--role", "principal", "--password-stdin"], "pw\n", id="bad-role"),
        pytest.param(
            ["--school-number", "S 300", "--role", "student", "--password-stdin"],
            "pw\n",
            id="number-with-space",
        ),
        pytest.param(
            ["--school-number", "{S300}", "--role", "student", "--password-stdin"],
            "pw\n",
            id="number-with-braces",
        ),
        pytest.param(
            ["--school-number", "S" * 100, "--role", "student", "--password-stdin"],
            "pw\n",
            id="number-100-chars",
        ),
        pytest.param(["--role", "student", "--password-stdin"], "\n", id="empty-password-lf"),
        pytest.param(["--role", "student", "--password-stdin"], "\r\n", id="empty-password-crlf"),
        pytest.param(["--role", "student", "--password-stdin"], "", id="no-stdin"),
        pytest.param(["--role", "student"], "pw\n", id="missing-password-stdin"),
    ],
)
def test_users_add_rejects_bad_input(
    clean_database: Database, data_dir: Path, options: list[str], stdin: str
) -> None:
    env = child_environment(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    if "--school-number" not in options:
        options = ["--school-number", "S300", *options]
    result = attn("users", "add", "--full-name", "Bad Input", *options, env=env, stdin=stdin)
    assert_one_line_failure(result)
    assert user_count(clean_database) == 0


HEADER = "school_number,full_name,role,password\n"


def write_csv(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def test_users_import_good_file(clean_database: Database, data_dir: Path, tmp_path: Path) -> None:
    env = child_environment(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    csv_file = write_csv(
        tmp_path / "users.csv",
        HEADER
        + "T500,Grace Hopper,teacher,hopper-pw\n"
        + 'S501,"Turing, Alan",student,turing pw\n'
        + 'S502,Zeynep Öztürk,student,"pa,ss"\n'
        + "A503,Root Admin,admin,admin-pw\n",
    )
    assert_ok(attn("users", "import", str(csv_file), env=env))
    users = users_by_number(clean_database)
    assert {number: (name, role) for number, (name, role, _) in users.items()} == {
        "T500": ("Grace Hopper", "teacher"),
        "S501": ("Turing, Alan", "student"),
        "S502": ("Zeynep Öztürk", "student"),
        "A503": ("Root Admin", "admin"),
    }
    assert verifies(users["T500"][2], "hopper-pw")
    assert verifies(users["S501"][2], "turing pw")
    assert verifies(users["S502"][2], "pa,ss")


def test_users_import_bom_crlf_and_quoted_names(
    clean_database: Database, data_dir: Path, tmp_path: Path
) -> None:
    """What a spreadsheet saves as "CSV UTF-8": a BOM, CRLF line ends, quoted cells."""
    env = child_environment(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    content = (
        "school_number,full_name,role,password\r\n"
        'T600,"Lovelace, Ada",teacher,ada-pw\r\n'
        'S601,"Kaya, Elif ""Eli""",student,"elif pw"\r\n'
    )
    csv_file = write_csv(tmp_path / "excel.csv", b"\xef\xbb\xbf" + content.encode("utf-8"))
    assert_ok(attn("users", "import", str(csv_file), env=env))
    users = users_by_number(clean_database)
    assert {number: (name, role) for number, (name, role, _) in users.items()} == {
        "T600": ("Lovelace, Ada", "teacher"),
        "S601": ('Kaya, Elif "Eli"', "student"),
    }
    assert verifies(users["T600"][2], "ada-pw")
    assert verifies(users["S601"][2], "elif pw")
    assert not verifies(users["S601"][2], "elif pw\r")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            HEADER + "S700,Good One,student,pw1\nS701,Bad Role,principal,pw2\n", id="bad-role"
        ),
        pytest.param(
            HEADER + "S700,Good One,student,pw1\nS 701,Bad Number,student,pw2\n",
            id="bad-number",
        ),
        pytest.param(
            HEADER + "S700,Good One,student,pw1\nS701,,student,pw2\n",
            id="empty-name",
        ),
        pytest.param(
            HEADER + "S700,Good One,student,pw1\nS701,Too,Many,student,pw2\n", id="extra-column"
        ),
        pytest.param(
            HEADER + "S700,Good One,student,pw1\nS701,Other,student,pw2\nS700,Again,student,pw3\n",
            id="duplicate-row",
        ),
        pytest.param(
            "number,name,role,password\nS700,Good One,student,pw1\n", id="wrong-header-names"
        ),
        pytest.param(
            "school_number,role,full_name,password\nS700,student,Good One,pw1\n",
            id="wrong-header-order",
        ),
        pytest.param("S700,Good One,student,pw1\nS701,Other,student,pw2\n", id="no-header"),
    ],
)
def test_users_import_bad_file_imports_nothing(
    clean_database: Database, data_dir: Path, tmp_path: Path, content: str
) -> None:
    env = child_environment(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    csv_file = write_csv(tmp_path / "users.csv", content)
    assert_one_line_failure(attn("users", "import", str(csv_file), env=env))
    assert user_count(clean_database) == 0


def test_users_import_row_without_password_makes_a_single_sign_on_account(
    clean_database: Database, data_dir: Path, tmp_path: Path
) -> None:
    env = child_environment(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    csv_file = write_csv(tmp_path / "users.csv", HEADER + "S710,Sso Only,teacher,\n")
    assert_ok(attn("users", "import", str(csv_file), env=env))
    assert users_by_number(clean_database)["S710"] == ("Sso Only", "teacher", "")


def test_users_import_clash_with_existing_user_imports_nothing(
    clean_database: Database, data_dir: Path, tmp_path: Path
) -> None:
    env = child_environment(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    assert_ok(
        attn(
            "users",
            "import",
            str(write_csv(tmp_path / "a.csv", HEADER + "S800,Old,student,old\n")),
            env=env,
        )
    )
    before = users_by_number(clean_database)
    assert set(before) == {"S800"}

    csv_file = write_csv(
        tmp_path / "b.csv",
        HEADER + "S801,New One,student,pw1\nS800,Clash,teacher,pw2\nS802,New Two,student,pw3\n",
    )
    reason = assert_one_line_failure(attn("users", "import", str(csv_file), env=env))
    assert "S800" in reason
    assert users_by_number(clean_database) == before


def test_users_import_missing_file(
    clean_database: Database, data_dir: Path, tmp_path: Path
) -> None:
    env = child_environment(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    assert_one_line_failure(attn("users", "import", str(tmp_path / "nope.csv"), env=env))
    assert user_count(clean_database) == 0
