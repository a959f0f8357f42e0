#pragma once
// A Database for unit tests that run over in-memory fake stores (e.g. MemoryKeyStore): Transact
// hands the function a transaction handle that holds no connection. Fake stores ignore the
// handle; any SQL sent through it fails, so a test notices when code bypasses its store.
// Notify inside a successful transaction reaches the subscribers after it "commits".
// Not thread-safe: one test thread.

#include <string>
#include <utility>
#include <vector>

#include "store/db.h"

namespace portcullis::store {

class FakeDatabase final : public Database {
 public:
  Dialect dialect() const override { return Dialect::kSqlite; }
  void Subscribe(Subscriber fn) override { subscribers_.push_back(std::move(fn)); }
  // Every (kind, id) notified so far, in order.
  const std::vector<std::pair<std::string, std::string>>& notified() const { return notified_; }

 protected:
  Status Run(const TxFn& fn, bool /*transaction*/) override {
    NoSqlTx tx;
    auto st = fn(tx);
    if (!st) return st;
    for (auto& [kind, id] : tx.pending) {
      for (const auto& s : subscribers_) s(kind, id);
      notified_.emplace_back(std::move(kind), std::move(id));
    }
    return {};
  }

 private:
  class NoSqlTx final : public Tx {
   public:
    Dialect dialect() const override { return Dialect::kSqlite; }
    Status ExecScript(std::string_view) override { return Fail(NoSql()); }
    Status Notify(std::string_view kind, std::string_view id) override {
      pending.emplace_back(std::string(kind), std::string(id));
      return {};
    }
    std::vector<std::pair<std::string, std::string>> pending;

   protected:
    Result<Rows> DoQuery(std::string_view, std::span<const Param>) override {
      return Fail(NoSql());
    }
    Result<int64_t> DoExec(std::string_view, std::span<const Param>) override {
      return Fail(NoSql());
    }

   private:
    static Error NoSql() {
      return Error::Internal("FakeDatabase: SQL reached a fake store's transaction");
    }
  };

  std::vector<Subscriber> subscribers_;
  std::vector<std::pair<std::string, std::string>> notified_;
};

}  // namespace portcullis::store
