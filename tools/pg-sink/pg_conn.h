// The libpq glue of pg-sink: one connection, statements and COPY, and every
// failure sorted into what pg-sink does about it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

namespace pgsink {

enum class failure {
  none,        // done
  connection,  // lost connection or a transient server state: reconnect, resend
  data,        // the server refused a row (class 22 or 23): find it, reject it
  fatal        // anything else (permissions, schema, a refused login): stop
};

struct Result {
  failure kind = failure::none;
  std::string message;  // the server's or libpq's message, one line
  std::string state;    // the SQLSTATE, when the server sent one
  std::int64_t inserted = -1;  // after copy_end: rows an INSERT after the COPY inserted
  std::uint64_t failed_row = 0;  // a COPY that failed: the row it stopped at, 1-based (0: not said)
  bool ok() const { return kind == failure::none; }
};

// Empty when conninfo is empty, a plain database name, or a connection string
// or URI libpq can parse; else why it cannot be parsed.
std::string conninfo_error(const std::string& conninfo);

class Connection {
 public:
  // conninfo: a libpq connection string or URI; empty leaves everything to
  // libpq's environment (PGHOST, PGSERVICE, ~/.pgpass ...), as psql does.
  explicit Connection(std::string conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // (Re)connects, in at most 10 s. A failure is a connection failure (worth
  // a retry) unless the server refused the login for good: authentication
  // (SQLSTATE class 28), an unknown database (3D000) or any other error that
  // is not "starting up" or "shutting down", which are fatal.
  Result connect();
  void close();
  bool connected() const;

  // Runs statements that return no rows we need.
  Result exec(const std::string& sql);
  // Runs a query with text parameters; rows come back as text.
  Result query(const std::string& sql, const std::vector<std::string>& params,
               std::vector<std::vector<std::string>>& rows);

  // COPY ... FROM STDIN: start, send data, end. sql may hold statements
  // before and after the COPY; copy_end answers for the COPY and those after.
  Result copy_begin(const std::string& sql);
  bool copy_put(std::string_view data);
  Result copy_end();

  // Leaves a failed transaction, if any, so the session can go on.
  void rollback_if_needed();

 private:
  Result classify(PGresult* res) const;
  Result lost(std::string_view what) const;
  std::string conninfo_;
  PGconn* conn_ = nullptr;
};

}  // namespace pgsink
