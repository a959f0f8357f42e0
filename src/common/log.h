#pragma once
// Structured logging: one line per event, as `key=value` text or as JSON lines, to stderr.
// A Field takes strings and numbers only; Secret has no conversion, so a secret cannot be
// logged by accident. Thread-safe: each line is written with one write(2).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace portcullis::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };
enum class Format { kText, kJson };

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, const char* v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v), quoted(true) {}
  Field(std::string_view k, int64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, double v);
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}

  std::string_view key;
  std::string value;
  bool quoted;
};

void Configure(Level level, Format format);
bool Enabled(Level level);
void Write(Level level, std::string_view event, std::initializer_list<Field> fields);

// Parses "debug", "info", "warn", "error", "off".
bool ParseLevel(std::string_view text, Level* out);

inline void Debug(std::string_view e, std::initializer_list<Field> f = {}) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, e, f);
}
inline void Info(std::string_view e, std::initializer_list<Field> f = {}) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, e, f);
}
inline void Warn(std::string_view e, std::initializer_list<Field> f = {}) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, e, f);
}
inline void Error(std::string_view e, std::initializer_list<Field> f = {}) {
  if (Enabled(Level::kError)) Write(Level::kError, e, f);
}

}  // namespace portcullis::log
