"""`make mutate`: mutation testing of the pure modules with mutmut. See mutation/README.md."""
