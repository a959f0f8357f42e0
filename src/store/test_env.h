#pragma once
// For tests only: the parts of the test environment a test may need (a PostgreSQL server), and
// whether the run requires them. scripts/test.sh sets PORTCULLIS_TEST_REQUIRE=all, so that a
// missing PostgreSQL fails the run instead of skipping ~80 cases in silence.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace portcullis::testing_env {

// Whether PORTCULLIS_TEST_REQUIRE (all, or a comma list such as "pg,nginx") names `what`.
inline bool Required(std::string_view what) {
  const char* env = std::getenv("PORTCULLIS_TEST_REQUIRE");
  std::string_view list = env ? env : "";
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    if (item == "all" || item == what) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace portcullis::testing_env

// In a test body or SetUp: sets `out` (std::string) to PORTCULLIS_TEST_PG_URL, or skips the
// test when it is unset, or fails it when the run requires PostgreSQL.
#define PORTCULLIS_PG_URL_OR_SKIP(out)                                                       \
  do {                                                                                       \
    const char* pc_pg_url_ = std::getenv("PORTCULLIS_TEST_PG_URL");                          \
    if (pc_pg_url_ == nullptr || *pc_pg_url_ == '\0') {                                      \
      if (::portcullis::testing_env::Required("pg")) {                                       \
        FAIL() << "PORTCULLIS_TEST_PG_URL is not set, and PORTCULLIS_TEST_REQUIRE asks for " \
                  "PostgreSQL";                                                              \
      }                                                                                      \
      GTEST_SKIP() << "PORTCULLIS_TEST_PG_URL is not set";                                   \
    }                                                                                        \
    (out) = pc_pg_url_;                                                                      \
  } while (0)
