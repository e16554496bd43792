#!/usr/bin/env bash
# Regenerate the auto "initial schema" migration from the current table classes.
# Only for the pre-release period, while no database outside development has
# applied it: after the first release, add new migrations instead
# (`piccolo migrations new cinema --auto`). Hand-written migrations (seed data,
# PostgreSQL search indexes) live in their own files and are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
export PICCOLO_CONF=cinema.piccolo_conf
tmp=$(mktemp -d)
export DATABASE_URL="sqlite:///$tmp/gen.sqlite"
rm -f piccolo_migrations/cinema_0001_schema.py
piccolo migrations new cinema --auto --desc=schema >/dev/null
new=$(ls -t piccolo_migrations/cinema_2*.py | head -n 1)
# A fixed module name and ID, so parallel regenerations cannot fork the chain.
sed -i 's/^ID = .*/ID = "2026-11-29T00:00:00:000000"/' "$new"
sed -i "s/^DESCRIPTION = .*/DESCRIPTION = \"schema\"/" "$new"
mv "$new" piccolo_migrations/cinema_0001_schema.py
rm -rf "$tmp"
echo "wrote piccolo_migrations/cinema_0001_schema.py"
