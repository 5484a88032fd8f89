// librdkafka's error and log callbacks for a citypipe tool, in one place.
// Without -v a user still hears what matters: each broker that cannot be
// reached, with librdkafka's reason ("Connection refused"), once per broker
// and reason every 30 s; "all brokers are down"; and fatal errors. -v adds
// every error and librdkafka's log up to level 6 (info).
#pragma once

#include <atomic>

#include <librdkafka/rdkafka.h>

#include "citypipe/core/tool.h"

namespace citypipe {

// Installs the callbacks on conf (not its opaque, which stays the caller's).
// One Kafka client per process: the reporter's state is the process's. On a
// fatal error the message is printed, *fatal (if given) set and the tool
// asked to stop (request_stop()).
void report_kafka_events(rd_kafka_conf_t* conf, Tool& tool, bool verbose,
                         std::atomic<bool>* fatal = nullptr);

// "BROKER: REASON" lines seen so far without -v (for tests and the final message).
unsigned kafka_broker_errors();

}  // namespace citypipe
