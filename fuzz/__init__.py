"""`make fuzz`: schemathesis against every service's OpenAPI, on MariaDB. See fuzz/README.md."""
