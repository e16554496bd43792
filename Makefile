# Thin wrapper over dev.py (which needs only Python 3.11+).
PY ?= python3
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/cinema_test

.PHONY: setup run test test-pg cov lint format typecheck migrate-regen

setup: ; $(PY) dev.py setup
run: ; $(PY) dev.py run
test: ; $(PY) dev.py test
test-pg: ; TEST_DATABASE_URL=$(PG_TEST_URL) $(PY) dev.py test
cov: ; $(PY) dev.py cov
lint: ; $(PY) dev.py lint
format: ; $(PY) dev.py format
typecheck: ; $(PY) dev.py typecheck
migrate-regen: ; scripts/regen_schema_migration.sh
