"""What the tests share: the machinery behind the fixtures and the words tests are written in.

Fixtures live in the `conftest.py` files and build on these modules; test modules import from
here, never from one another or from a conftest. Each module is named after what it holds:

- `api`: a running app as the API tests drive it (`Api`, `PASSWORD`, `Headers`);
- `clock`: the clocks given to the app (`Clock`, `FrozenClock`);
- `database`: the test database (`Database`), emptying it, reading it in plain SQL;
- `lessons`: factories of lessons and records (also the benchmark's filler);
- `sweep`: the sweep's fault steps and what a swept lesson left in SQL and Redis;
- `accounts`: many accounts at once, checking a stored password;
- `ports`, `processes`, `health`: child `attn` processes, their environment, waiting for them;
- `cli`: running the `attn` command and checking its outcome;
- `browser`, `pages`: Chromium, the browser tests' server, people and page actions;
- `check_in`, `corrections`, `refusals`: the vocabularies of the check-in security,
  correction and bad-input tests.
"""
