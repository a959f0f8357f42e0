#pragma once
// The light-oauth2 importer's source adapter for SQL dumps (`portcullis import light-oauth2
// <file>`); light_oauth2_source.h reads a live PostgreSQL database instead.
//
// Reads the rows of chosen tables out of a SQL dump, without a database: INSERT statements
// (with or without a column list, one or many row tuples; PostgreSQL, MySQL/MariaDB and the
// light-oauth2 create_*.sql scripts) and PostgreSQL COPY ... FROM stdin blocks (pg_dump's
// default). Every other statement (CREATE, ALTER, SET, functions with dollar quoting, ...) is
// skipped.
//
// Values come back as text (numbers in their literal spelling, booleans as "true"/"false") or
// nullopt for NULL; expressions such as now() or CURRENT_TIMESTAMP read as NULL. Backslash
// escapes apply in E'...' strings, in COPY data, and in plain strings when the dump is MySQL's
// (detected from backquoted identifiers or /*!...*/ directives).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/client/import/light_oauth2_import.h"

namespace portcullis::store {

using oauth::legacy::Row;     // column (lower case) -> value
using oauth::legacy::Tables;  // table (lower case) -> rows

// `tables` maps each wanted table (lower case, no schema) to its column order, used for
// INSERTs without a column list. Fails on a malformed INSERT or COPY of a wanted table, naming
// the line.
Result<Tables> ParseSqlDump(std::string_view text,
                            const std::map<std::string, std::vector<std::string>>& tables);

}  // namespace portcullis::store
