"""Porcelain tests (a package, so that module names such as test_man_pages may repeat in other test folders)."""
