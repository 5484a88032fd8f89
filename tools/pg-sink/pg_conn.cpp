#include "pg_conn.h"

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "citypipe/pg/copy_encoder.h"

namespace pgsink {

namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

std::string one_line(const char* message) {
  std::string s;
  for (const char* p = message; p != nullptr && *p != '\0'; ++p) {
    const bool space = *p == '\n' || *p == '\t' || *p == ' ';
    if (space && (s.empty() || s.back() == ' ')) continue;
    s += space ? ' ' : *p;
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// SQLSTATEs worth a reconnect and a resend: connection exceptions, shutdown
// and startup, lack of resources, serialization failures.
bool transient(std::string_view state) {
  const std::string_view cls = state.substr(0, 2);
  return cls == "08" || cls == "53" || cls == "57" || cls == "58" || state == "40001" ||
         state == "40P01";
}

// A failed login's message as libpq wrote it with PQERRORS_VERBOSE:
// "...: FATAL:  3D000: database "x" does not exist\nLOCATION: ...". Takes the
// SQLSTATE out, and the LOCATION line off.
Result login_failure(const char* verbose) {
  Result r{failure::connection, one_line(verbose), ""};
  static constexpr std::string_view severities[] = {"FATAL: ", "ERROR: ", "PANIC: "};
  for (std::string_view sev : severities) {
    const std::size_t at = r.message.find(sev);
    if (at == std::string::npos) continue;
    std::size_t code = at + sev.size();
    while (code < r.message.size() && r.message[code] == ' ') ++code;
    if (code + 6 <= r.message.size() && r.message[code + 5] == ':') {
      r.state = r.message.substr(code, 5);
      r.message.erase(code, r.message.size() > code + 6 && r.message[code + 6] == ' ' ? 7 : 6);
    }
    break;
  }
  if (const std::size_t loc = r.message.find(" LOCATION: "); loc != std::string::npos) r.message.resize(loc);
  if (!r.state.empty() && !transient(r.state)) r.kind = failure::fatal;
  return r;
}

}  // namespace

std::string conninfo_error(const std::string& conninfo) {
  const bool looks_like_conninfo = conninfo.find('=') != std::string::npos ||
                                   conninfo.rfind("postgres://", 0) == 0 ||
                                   conninfo.rfind("postgresql://", 0) == 0;
  if (!looks_like_conninfo) return {};  // a database name, or libpq's environment
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts != nullptr) {
    PQconninfoFree(opts);
    return {};
  }
  std::string why = err != nullptr ? one_line(err) : "out of memory";
  PQfreemem(err);
  return why;
}

Connection::Connection(std::string conninfo) : conninfo_(std::move(conninfo)) {}
Connection::~Connection() { close(); }

void Connection::close() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

bool Connection::connected() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

Result Connection::connect() {
  close();
  // Values in the user's connection string override these defaults.
  const char* keys[] = {"fallback_application_name", "connect_timeout", "dbname", nullptr};
  const char* values[] = {"pg-sink", "10", conninfo_.c_str(), nullptr};
  // Started without blocking, to ask for verbose errors before the login:
  // they carry the SQLSTATE that tells a refused login from a server that is
  // starting up.
  conn_ = PQconnectStartParams(keys, values, 1);
  if (conn_ == nullptr) return {failure::connection, "out of memory", ""};
  PQsetErrorVerbosity(conn_, PQERRORS_VERBOSE);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (PQstatus(conn_) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      close();
      return {failure::connection, "timeout expired while connecting", ""};
    }
    pollfd p{PQsocket(conn_), static_cast<short>(st == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    if (p.fd < 0) break;
    if (::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000))) < 0 && errno != EINTR) break;
    if (p.revents == 0) continue;
    st = PQconnectPoll(conn_);
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    Result r = login_failure(PQerrorMessage(conn_));
    close();
    return r;
  }
  PQsetErrorVerbosity(conn_, PQERRORS_DEFAULT);
  // "already exists, skipping" and the like are for people at a prompt.
  ResultPtr quiet(PQexec(conn_, "SET client_min_messages = warning"));
  return {};
}

Result Connection::lost(std::string_view what) const {
  std::string msg = conn_ != nullptr ? one_line(PQerrorMessage(conn_)) : "not connected";
  if (msg.empty()) msg = std::string(what) + " failed";
  return {failure::connection, msg, ""};
}

Result Connection::classify(PGresult* res) const {
  if (res == nullptr) return lost("statement");
  const ExecStatusType st = PQresultStatus(res);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN) return {};
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const std::string_view code = state != nullptr ? state : "";
  Result r;
  r.state = std::string(code);
  if (const char* context = PQresultErrorField(res, PG_DIAG_CONTEXT); context != nullptr)
    r.failed_row = citypipe::pg::copy_failed_row(context);
  r.message = one_line(PQresultErrorMessage(res));
  if (r.message.empty()) r.message = one_line(PQerrorMessage(conn_));
  if (PQstatus(conn_) == CONNECTION_BAD || code.empty() || transient(code))
    r.kind = failure::connection;
  else if (code.substr(0, 2) == "22" || code.substr(0, 2) == "23")
    r.kind = failure::data;
  else
    r.kind = failure::fatal;
  return r;
}

Result Connection::exec(const std::string& sql) {
  if (!connected()) return lost("statement");
  ResultPtr res(PQexec(conn_, sql.c_str()));
  return classify(res.get());
}

Result Connection::query(const std::string& sql, const std::vector<std::string>& params,
                         std::vector<std::vector<std::string>>& rows) {
  rows.clear();
  if (!connected()) return lost("query");
  std::vector<const char*> p;
  for (const auto& s : params) p.push_back(s.c_str());
  ResultPtr res(PQexecParams(conn_, sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(),
                             nullptr, nullptr, 0));
  Result r = classify(res.get());
  if (!r.ok()) return r;
  const int n = PQntuples(res.get()), m = PQnfields(res.get());
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < m; ++j) row.emplace_back(PQgetvalue(res.get(), i, j));
    rows.push_back(std::move(row));
  }
  return r;
}

Result Connection::copy_begin(const std::string& sql) {
  if (!connected()) return lost("COPY");
  ResultPtr res(PQexec(conn_, sql.c_str()));
  return classify(res.get());
}

bool Connection::copy_put(std::string_view data) {
  if (!connected()) return false;
  while (!data.empty()) {
    const std::size_t n = std::min<std::size_t>(data.size(), std::numeric_limits<int>::max() / 2);
    if (PQputCopyData(conn_, data.data(), static_cast<int>(n)) != 1) return false;
    data.remove_prefix(n);
  }
  return true;
}

Result Connection::copy_end() {
  if (!connected()) return lost("COPY");
  if (PQputCopyEnd(conn_, nullptr) != 1) return lost("COPY");
  Result r;
  // The COPY's own result, then those of any statements after it in the same
  // query string; the first failure is the answer.
  bool any = false;
  while (PGresult* raw = PQgetResult(conn_)) {
    ResultPtr res(raw);
    if (r.ok()) {
      const std::int64_t inserted = r.inserted;
      r = classify(res.get());
      r.inserted = inserted;
      if (r.ok() && std::strncmp(PQcmdStatus(res.get()), "INSERT", 6) == 0)
        r.inserted = std::strtoll(PQcmdTuples(res.get()), nullptr, 10);
    }
    any = true;
    if (PQstatus(conn_) == CONNECTION_BAD) break;
  }
  if (!any) return lost("COPY");
  return r;
}

void Connection::rollback_if_needed() {
  if (!connected()) return;
  const PGTransactionStatusType t = PQtransactionStatus(conn_);
  if (t == PQTRANS_INERROR || t == PQTRANS_INTRANS) {
    ResultPtr res(PQexec(conn_, "ROLLBACK"));
  }
}

}  // namespace pgsink
