#!/bin/sh
# Creates Temporal's two databases on PostgreSQL and brings their schemas up to date, and creates
# Tributary's database (idempotent).
set -eu
plugin=postgres12
ep="${POSTGRES_SEEDS:-postgresql}"
for db in temporal temporal_visibility; do
  case "$db" in
    temporal) dir=/etc/temporal/schema/postgresql/v12/temporal/versioned ;;
    *) dir=/etc/temporal/schema/postgresql/v12/visibility/versioned ;;
  esac
  temporal-sql-tool --plugin "$plugin" --ep "$ep" -u "$POSTGRES_USER" -p 5432 --db "$db" create || true
  temporal-sql-tool --plugin "$plugin" --ep "$ep" -u "$POSTGRES_USER" -p 5432 --db "$db" setup-schema -v 0.0 || true
  temporal-sql-tool --plugin "$plugin" --ep "$ep" -u "$POSTGRES_USER" -p 5432 --db "$db" update-schema -d "$dir"
done
# Tributary's own database (its schema is migrated by Tributary itself on start).
temporal-sql-tool --plugin "$plugin" --ep "$ep" -u "$POSTGRES_USER" -p 5432 --db tributary create || true
echo "Temporal schemas are up to date; the tributary database exists"
