#include "store/sql/sql_dump.h"

#include <algorithm>
#include <cctype>

namespace portcullis::store {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

class Parser {
 public:
  Parser(std::string_view text, const std::map<std::string, std::vector<std::string>>& tables)
      : s_(text), tables_(tables) {
    mysql_ = text.find('`') != std::string_view::npos || text.find("/*!") != std::string_view::npos;
  }

  Result<Tables> Run() {
    while (true) {
      SkipSpaceAndComments();
      if (i_ >= s_.size()) break;
      if (s_[i_] == ';') {
        ++i_;
        continue;
      }
      size_t start = i_;
      std::string word = Lower(Word());
      if (word == "insert") {
        auto st = Insert(start);
        if (!st) return Fail(std::move(st.error()));
      } else if (word == "copy") {
        auto st = Copy(start);
        if (!st) return Fail(std::move(st.error()));
      } else {
        if (word.empty()) ++i_;
        SkipStatement();
      }
    }
    return std::move(out_);
  }

 private:
  Error ErrorAt(size_t pos, std::string_view what) {
    size_t line = 1 + std::count(s_.begin(), s_.begin() + std::min(pos, s_.size()), '\n');
    return Error::Status("ERR11004",
                         "dump line " + std::to_string(line) + ": " + std::string(what));
  }

  void SkipSpaceAndComments() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i_;
      } else if (c == '-' && i_ + 1 < s_.size() && s_[i_ + 1] == '-') {
        size_t nl = s_.find('\n', i_);
        i_ = nl == std::string_view::npos ? s_.size() : nl + 1;
      } else if (c == '#' && mysql_) {
        size_t nl = s_.find('\n', i_);
        i_ = nl == std::string_view::npos ? s_.size() : nl + 1;
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
        size_t end = s_.find("*/", i_ + 2);
        i_ = end == std::string_view::npos ? s_.size() : end + 2;
      } else {
        break;
      }
    }
  }

  std::string_view Word() {
    size_t start = i_;
    while (i_ < s_.size() && IsIdentChar(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }

  // Skips to just after the next top-level ';', over quotes, comments and dollar quotes.
  void SkipStatement() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ';') {
        ++i_;
        return;
      }
      if (c == '\'' || c == '"' || c == '`') {
        SkipQuoted(c, mysql_ && c == '\'');
      } else if (c == '$') {
        size_t end = s_.find('$', i_ + 1);
        std::string_view tag =
            end == std::string_view::npos ? std::string_view{} : s_.substr(i_, end - i_ + 1);
        bool is_tag = !tag.empty() && std::all_of(tag.begin() + 1, tag.end() - 1, IsIdentChar);
        if (is_tag) {
          size_t close = s_.find(tag, i_ + tag.size());
          i_ = close == std::string_view::npos ? s_.size() : close + tag.size();
        } else {
          ++i_;
        }
      } else if ((c == '-' && i_ + 1 < s_.size() && s_[i_ + 1] == '-') ||
                 (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '*')) {
        SkipSpaceAndComments();
      } else {
        ++i_;
      }
    }
  }

  void SkipQuoted(char q, bool backslash) {
    ++i_;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (backslash && c == '\\') {
        i_ += 2;
      } else if (c == q) {
        if (i_ + 1 < s_.size() && s_[i_ + 1] == q) {
          i_ += 2;
        } else {
          ++i_;
          return;
        }
      } else {
        ++i_;
      }
    }
  }

  // An identifier, possibly quoted and schema-qualified; returns its last part, lower case.
  std::optional<std::string> QualifiedName() {
    std::string last;
    while (true) {
      SkipSpaceAndComments();
      if (i_ >= s_.size()) return std::nullopt;
      char c = s_[i_];
      if (c == '"' || c == '`' || c == '[') {
        char close = c == '[' ? ']' : c;
        size_t end = s_.find(close, i_ + 1);
        if (end == std::string_view::npos) return std::nullopt;
        last = Lower(s_.substr(i_ + 1, end - i_ - 1));
        i_ = end + 1;
      } else {
        auto w = Word();
        if (w.empty()) return std::nullopt;
        last = Lower(w);
      }
      if (i_ < s_.size() && s_[i_] == '.') {
        ++i_;
        continue;
      }
      return last;
    }
  }

  std::optional<std::vector<std::string>> ColumnList() {
    SkipSpaceAndComments();
    std::vector<std::string> cols;
    if (i_ >= s_.size() || s_[i_] != '(') return cols;
    ++i_;
    while (true) {
      auto name = QualifiedName();
      if (!name) return std::nullopt;
      cols.push_back(*name);
      SkipSpaceAndComments();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ')') {
        ++i_;
        return cols;
      }
      return std::nullopt;
    }
  }

  static void AppendEscape(std::string& out, char c) {
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case '0':
        out += '\0';
        break;
      case 'Z':
        out += '\x1a';
        break;
      default:
        out += c;
    }
  }

  std::optional<std::string> StringLiteral(bool backslash) {
    ++i_;  // opening quote
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (backslash && c == '\\' && i_ + 1 < s_.size()) {
        AppendEscape(out, s_[i_ + 1]);
        i_ += 2;
      } else if (c == '\'') {
        if (i_ + 1 < s_.size() && s_[i_ + 1] == '\'') {
          out += '\'';
          i_ += 2;
        } else {
          ++i_;
          return out;
        }
      } else {
        out += c;
        ++i_;
      }
    }
    return std::nullopt;
  }

  void SkipCasts() {
    while (true) {
      SkipSpaceAndComments();
      if (i_ + 1 < s_.size() && s_[i_] == ':' && s_[i_ + 1] == ':') {
        i_ += 2;
        SkipSpaceAndComments();
        Word();
        SkipSpaceAndComments();
        // "character varying", "timestamp without time zone", "(32)"
        while (i_ < s_.size() && (IsIdentChar(s_[i_]) || s_[i_] == ' ')) ++i_;
        if (i_ < s_.size() && s_[i_] == '(') SkipParens();
        continue;
      }
      return;
    }
  }

  bool SkipParens() {
    int depth = 0;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '\'') {
        SkipQuoted('\'', mysql_);
        continue;
      }
      if (c == '(') ++depth;
      if (c == ')' && --depth == 0) {
        ++i_;
        return true;
      }
      ++i_;
    }
    return false;
  }

  // One value of a VALUES tuple. Outer nullopt: syntax error; inner nullopt: NULL.
  std::optional<std::optional<std::string>> Value() {
    SkipSpaceAndComments();
    if (i_ >= s_.size()) return std::nullopt;
    char c = s_[i_];
    std::optional<std::string> v;
    if (c == '\'') {
      auto str = StringLiteral(mysql_);
      if (!str) return std::nullopt;
      v = std::move(*str);
    } else if ((c == 'E' || c == 'e') && i_ + 1 < s_.size() && s_[i_ + 1] == '\'') {
      ++i_;
      auto str = StringLiteral(true);
      if (!str) return std::nullopt;
      v = std::move(*str);
    } else if ((c == 'N' || c == 'n') && i_ + 1 < s_.size() && s_[i_ + 1] == '\'') {
      ++i_;
      auto str = StringLiteral(mysql_);
      if (!str) return std::nullopt;
      v = std::move(*str);
    } else if (c == '-' || c == '+' || c == '.' || std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = i_++;
      while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                                s_[i_] == '+' || s_[i_] == '-')) {
        ++i_;
      }
      v = std::string(s_.substr(start, i_ - start));
    } else if (IsIdentChar(c)) {
      std::string w = Lower(Word());
      if (w.starts_with("_") && i_ < s_.size() && s_[i_] == '\'') {  // MySQL _utf8'...'
        auto str = StringLiteral(mysql_);
        if (!str) return std::nullopt;
        v = std::move(*str);
      } else if (w == "true" || w == "false") {
        v = w;
      } else {
        SkipSpaceAndComments();
        if (i_ < s_.size() && s_[i_] == '(' && !SkipParens()) return std::nullopt;
        // NULL, now(), CURRENT_TIMESTAMP, ...: no value to keep.
      }
    } else if (c == '(') {
      if (!SkipParens()) return std::nullopt;
    } else {
      return std::nullopt;
    }
    SkipCasts();
    return v;
  }

  Status Insert(size_t start) {
    SkipSpaceAndComments();
    std::string into = Lower(Word());
    if (into != "into") {
      SkipStatement();
      return {};
    }
    auto table = QualifiedName();
    if (!table) return Fail(ErrorAt(start, "INSERT: cannot read the table name"));
    auto wanted = tables_.find(*table);
    if (wanted == tables_.end()) {
      SkipStatement();
      return {};
    }
    auto cols = ColumnList();
    if (!cols) return Fail(ErrorAt(start, "INSERT INTO " + *table + ": bad column list"));
    if (cols->empty()) cols = wanted->second;
    SkipSpaceAndComments();
    if (Lower(Word()) != "values") {
      return Fail(ErrorAt(start, "INSERT INTO " + *table + ": only VALUES is supported"));
    }
    while (true) {
      SkipSpaceAndComments();
      if (i_ >= s_.size() || s_[i_] != '(') {
        return Fail(ErrorAt(start, "INSERT INTO " + *table + ": expected a row tuple"));
      }
      ++i_;
      Row row;
      for (size_t n = 0;; ++n) {
        auto v = Value();
        if (!v) return Fail(ErrorAt(i_, "INSERT INTO " + *table + ": bad value"));
        if (n >= cols->size()) {
          return Fail(ErrorAt(i_, "INSERT INTO " + *table + ": more values than columns"));
        }
        row[(*cols)[n]] = std::move(*v);
        SkipSpaceAndComments();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == ')') {
          ++i_;
          break;
        }
        return Fail(ErrorAt(i_, "INSERT INTO " + *table + ": expected ',' or ')'"));
      }
      out_[*table].push_back(std::move(row));
      SkipSpaceAndComments();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      break;
    }
    SkipStatement();  // ON CONFLICT ..., RETURNING ..., or just ';'
    return {};
  }

  Status Copy(size_t start) {
    auto table = QualifiedName();
    if (!table) {
      SkipStatement();
      return {};
    }
    auto cols = ColumnList();
    if (!cols) return Fail(ErrorAt(start, "COPY " + *table + ": bad column list"));
    size_t stmt_end = s_.find(';', i_);
    if (stmt_end == std::string_view::npos) return Fail(ErrorAt(start, "COPY: no ';'"));
    std::string clause = Lower(s_.substr(i_, stmt_end - i_));
    i_ = stmt_end + 1;
    if (clause.find("from stdin") == std::string::npos) return {};  // COPY TO, or a file
    size_t nl = s_.find('\n', i_);
    i_ = nl == std::string_view::npos ? s_.size() : nl + 1;
    auto wanted = tables_.find(*table);
    if (cols->empty() && wanted != tables_.end()) cols = wanted->second;
    while (i_ < s_.size()) {
      size_t eol = s_.find('\n', i_);
      std::string_view line = s_.substr(i_, (eol == std::string_view::npos ? s_.size() : eol) - i_);
      i_ = eol == std::string_view::npos ? s_.size() : eol + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line == "\\.") return {};
      if (wanted == tables_.end()) continue;
      Row row;
      size_t n = 0;
      size_t pos = 0;
      while (true) {
        size_t tab = line.find('\t', pos);
        std::string_view field =
            line.substr(pos, tab == std::string_view::npos ? line.npos : tab - pos);
        if (n >= cols->size()) return Fail(ErrorAt(i_ - 1, "COPY " + *table + ": too many fields"));
        if (field == "\\N") {
          row[(*cols)[n]] = std::nullopt;
        } else {
          std::string v;
          for (size_t k = 0; k < field.size(); ++k) {
            if (field[k] == '\\' && k + 1 < field.size()) {
              AppendEscape(v, field[++k]);
            } else {
              v += field[k];
            }
          }
          row[(*cols)[n]] = std::move(v);
        }
        ++n;
        if (tab == std::string_view::npos) break;
        pos = tab + 1;
      }
      out_[*table].push_back(std::move(row));
    }
    return Fail(ErrorAt(s_.size(), "COPY " + *table + ": no terminating \\."));
  }

  std::string_view s_;
  const std::map<std::string, std::vector<std::string>>& tables_;
  size_t i_ = 0;
  bool mysql_ = false;
  Tables out_;
};

}  // namespace

Result<Tables> ParseSqlDump(std::string_view text,
                            const std::map<std::string, std::vector<std::string>>& tables) {
  return Parser(text, tables).Run();
}

}  // namespace portcullis::store
