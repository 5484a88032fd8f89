#include "kafka_conf.h"

#include <fmt/format.h>

namespace kcatin {

citypipe::Status make_conf(const Settings& s, const std::vector<std::pair<std::string, std::string>>& defaults,
                           rd_kafka_conf_t*& conf) {
  conf = rd_kafka_conf_new();
  char errstr[512];
  auto set = [&](const std::string& name, const std::string& value) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
      return citypipe::Status::error(citypipe::errc::invalid_argument, fmt::format("property {}: {}", name, errstr));
    return citypipe::Status::ok();
  };
  citypipe::Status st = set("bootstrap.servers", s.brokers);
  for (const auto& [name, value] : defaults)
    if (st.is_ok()) st = set(name, value);
  for (const auto& [name, value] : s.properties)
    if (st.is_ok()) st = set(name, value);
  if (!st.is_ok()) {
    rd_kafka_conf_destroy(conf);
    conf = nullptr;
  }
  return st;
}

}  // namespace kcatin
