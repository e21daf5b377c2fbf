#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pivot::jobs {

/// Job headers: name -> values, as on the wire (`{name:[values]}`).
using Headers = std::map<std::string, std::vector<std::string>>;

/// One job as a client pushed it and as a driver delivers it. Plain data.
struct Job {
  std::string id;                 ///< client-generated id (UUIDv4 from PHP); never empty
  std::string name;               ///< job name, usually a PHP class (`job` on the wire)
  std::string payload;            ///< opaque bytes, delivered exactly as pushed
  Headers headers;                ///< user headers
  std::string pipeline;           ///< pipeline name
  std::int64_t priority = 0;      ///< effective priority (the pipeline's when pushed as 0)
  std::chrono::seconds delay{0};  ///< not delivered before now + delay
  bool auto_ack = false;          ///< the driver acks on receipt
  std::uint32_t attempts = 0;     ///< deliveries before this one (0 on the first delivery)
};

/// A pipeline's counters for `jobs.Stat` / `informer.Jobs`. Plain data.
struct PipelineStat {
  std::string pipeline;       ///< pipeline name
  std::string driver;         ///< "memory", "amqp"
  std::string queue;          ///< broker queue name ("" for memory)
  std::int64_t active = 0;    ///< ready to be delivered
  std::int64_t delayed = 0;   ///< waiting for their delay
  std::int64_t reserved = 0;  ///< delivered, not settled yet
  bool ready = false;         ///< consuming (not paused, connected)
  std::uint64_t priority = 0; ///< pipeline priority
};

}  // namespace pivot::jobs
