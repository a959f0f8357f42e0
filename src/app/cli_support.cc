#include "app/cli_support.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "oauth/client/validation.h"

namespace portcullis::app::cli {

namespace json = boost::json;

int Refused(const Error& e) {
  std::string head = e.code.empty() ? e.oauth_error : e.code + " " + e.message;
  std::fprintf(stderr, "portcullis: %s: %s\n", head.c_str(), e.description.c_str());
  return e.http_status >= 500 ? 2 : 1;
}

int Die(const std::string& line) {
  std::fprintf(stderr, "portcullis: %s\n", line.c_str());
  return 2;
}

std::string Actor() {
  const char* user = std::getenv("USER");
  if (user != nullptr && *user != '\0') return std::string("cli:") + user;
  return "cli:uid" + std::to_string(::getuid());
}

std::string IsoUtc(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string ReadAll(std::istream& in) {
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Secret ReadSecretLine(std::istream& in) {
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return Secret(std::move(line));
}

std::optional<Secret> ReadPassword(const std::string& env_var, const std::string& prompt) {
  if (!env_var.empty()) {
    const char* v = std::getenv(env_var.c_str());
    if (v == nullptr || *v == '\0') {
      std::fprintf(stderr, "portcullis: %s is not set\n", env_var.c_str());
      return std::nullopt;
    }
    return Secret(v);
  }
  std::string line;
  if (isatty(STDIN_FILENO)) {
    std::fprintf(stderr, "%s", prompt.c_str());
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
  } else if (!std::getline(std::cin, line)) {
    std::fprintf(stderr, "portcullis: no password on stdin\n");
    return std::nullopt;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return Secret(std::move(line));
}

Result<std::string> ReadData(const std::string& data) {
  if (data == "-") return ReadAll(std::cin);
  if (data.starts_with("@")) {
    std::ifstream f(data.substr(1), std::ios::binary);
    if (!f) return Fail(oauth::FieldError("--data", "cannot read " + data.substr(1)));
    return ReadAll(f);
  }
  return data;
}

Result<json::object> UpsertBody(const State& s, const std::string& group, const std::string& cmd,
                                std::string_view id_key) {
  auto body = Body(s, group + " " + cmd);
  if (body && cmd == "update") (*body)[id_key] = s.id;
  return body;
}

Result<json::object> Body(const State& s, const std::string& command) {
  json::object body;
  if (!s.data.empty()) {
    auto text = ReadData(s.data);
    if (!text) return Fail(std::move(text.error()));
    auto parsed = oauth::ParseJsonObject(*text, "--data");
    if (!parsed) return Fail(std::move(parsed.error()));
    body = std::move(*parsed);
  }
  auto it = s.fields.find(command);
  if (it == s.fields.end()) return body;
  for (const auto& f : it->second) {
    if (f.option == nullptr || f.option->count() == 0) continue;
    switch (f.kind) {
      case FieldFlag::kString:
        body[f.key] = f.text;
        break;
      case FieldFlag::kInt:
        body[f.key] = f.number;
        break;
      case FieldFlag::kList: {
        json::array a;
        for (const auto& v : f.list) a.emplace_back(v);
        body[f.key] = std::move(a);
        break;
      }
      case FieldFlag::kBool:
        body[f.key] = f.text == "true";
        break;
      case FieldFlag::kJson: {
        boost::system::error_code ec;
        json::value v = json::parse(f.text, ec);
        if (ec) return Fail(oauth::FieldError(f.key, "is not valid JSON"));
        body[f.key] = std::move(v);
        break;
      }
    }
  }
  return body;
}

namespace {

std::string Text(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_null()) return "";
  return json::serialize(v);
}

void PrintObject(const json::object& o) {
  for (const auto& [k, v] : o) std::printf("%s: %s\n", std::string(k).c_str(), Text(v).c_str());
}

void PrintTable(const json::array& rows, const std::vector<std::string>& columns) {
  std::string line;
  for (const auto& c : columns) line += (line.empty() ? "" : "\t") + c;
  std::printf("%s\n", line.c_str());
  for (const auto& r : rows) {
    line.clear();
    for (size_t i = 0; i < columns.size(); ++i) {
      const auto* v = r.is_object() ? r.as_object().if_contains(columns[i]) : nullptr;
      line += (i ? "\t" : "") + (v ? Text(*v) : std::string());
    }
    std::printf("%s\n", line.c_str());
  }
}

}  // namespace

int Output(const State& s, const json::value& v, const std::vector<std::string>& columns) {
  if (s.json) {
    std::printf("%s\n", json::serialize(v).c_str());
  } else if (v.is_object()) {
    PrintObject(v.as_object());
  } else if (v.is_array()) {
    PrintTable(v.as_array(), columns);
  }
  return 0;
}

int OutputPage(const State& s, std::string_view member, json::array items, int64_t total,
               const std::vector<std::string>& columns) {
  if (!s.json) return Output(s, items, columns);
  json::object o;
  o[member] = std::move(items);
  o["total"] = total;
  return Output(s, o);
}

int Done(const State& s, const std::string& what) {
  if (s.json) {
    json::object o;
    o["ok"] = true;
    o["done"] = what;
    std::printf("%s\n", json::serialize(o).c_str());
  } else {
    std::printf("%s\n", what.c_str());
  }
  return 0;
}

CLI::App* Builder::Leaf(CLI::App* group, const std::string& name, const std::string& help,
                        bool json) {
  auto* cmd = group->add_subcommand(name, help);
  add_common(cmd);
  if (json) cmd->add_flag("--json", s.json, "Print JSON");
  s.commands[group->get_name() + " " + name] = cmd;
  return cmd;
}

void Builder::Id(CLI::App* cmd, const std::string& what) {
  cmd->add_option("id", s.id, what)->required();
}

void Builder::Field(CLI::App* cmd, const std::string& command, const std::string& flag,
                    const std::string& key, FieldFlag::Kind kind, const std::string& help) {
  auto& f = s.fields[command].emplace_back();
  f.key = key;
  f.kind = kind;
  switch (kind) {
    case FieldFlag::kString:
      f.option = cmd->add_option(flag, f.text, help);
      break;
    case FieldFlag::kList:
      f.option = cmd->add_option(flag, f.list, help + " (repeatable)");
      break;
    case FieldFlag::kInt:
      f.option = cmd->add_option(flag, f.number, help);
      break;
    case FieldFlag::kBool:
      f.option = cmd->add_option(flag, f.text, help + " (true|false)")
                     ->check(CLI::IsMember({"true", "false"}));
      break;
    case FieldFlag::kJson:
      f.option = cmd->add_option(flag, f.text, help + " (JSON)");
      break;
  }
}

void Builder::Data(CLI::App* cmd) {
  cmd->add_option("--data", s.data, "The model as JSON: text, @file, or - for stdin");
}

CLI::App* Builder::AddGroup(const std::string& name, const std::string& help) {
  auto* g = cli.add_subcommand(name, help);
  g->require_subcommand(1);
  return g;
}

CLI::App* Builder::Upsert(CLI::App* group, const std::string& name, const std::string& help,
                          const std::string& id_key, const std::string& id_help,
                          const std::string& create_id_help) {
  auto* c = Leaf(group, name, help);
  if (name == "update") {
    Id(c, id_help);
  } else {
    Field(c, group->get_name() + " " + name, "--id", id_key, FieldFlag::kString, create_id_help);
  }
  return c;
}

void Builder::Paging(CLI::App* cmd, const std::string& base) {
  cmd->add_option("--page", s.page, "Page, counted from " + base);
  cmd->add_option("--page-size", s.page_size, "Rows per page (default 10)")
      ->check(CLI::Range(1, 1000));
}

}  // namespace portcullis::app::cli
