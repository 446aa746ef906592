"""What the tests share: the machinery behind the fixtures and the words tests are written in.

Fixtures live in the `conftest.py` files and build on these modules; test modules import from
here, never from one another or from a conftest. Each module is named after what it holds.
"""
