"""The test suite (a package, so that module names such as ``conftest`` are unique)."""
