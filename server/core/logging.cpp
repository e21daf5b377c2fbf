#include "server/core/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "protocol/json_writer.hpp"

namespace pivot::core {
namespace {

/// `%*`: the message as a JSON string, so a JSON log line stays valid whatever was logged.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string out;
    protocol::append_json_string(out, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

spdlog::level::level_enum to_level(const std::string& level) {
  if (level == "debug") return spdlog::level::debug;
  if (level == "warn") return spdlog::level::warn;
  if (level == "error" || level == "panic" || level == "fatal") return spdlog::level::err;
  return spdlog::level::info;
}

}  // namespace

Logging::Logging(const std::string& level, const std::string& encoding)
    : sink_(std::make_shared<spdlog::sinks::stderr_sink_mt>()),
      structured_sink_(std::make_shared<spdlog::sinks::stderr_sink_mt>()),
      level_(to_level(level)),
      json_(encoding == "json") {
  // Both sinks write to stderr under spdlog's one console mutex, so lines never interleave.
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  auto structured = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (json_) {
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","msg":%*})");
    structured->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n",%v})");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ level=%l logger=%n %v");
    structured->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ level=%l logger=%n %v");
  }
  sink_->set_formatter(std::move(formatter));
  structured_sink_->set_formatter(std::move(structured));
}

Logging::~Logging() {
  sink_->flush();
  structured_sink_->flush();
}

std::shared_ptr<spdlog::logger> Logging::get(const std::string& name) const {
  auto logger = std::make_shared<spdlog::logger>(name, sink_);
  logger->set_level(level_);
  logger->flush_on(spdlog::level::info);
  return logger;
}

std::shared_ptr<spdlog::logger> Logging::get_structured(const std::string& name) const {
  auto logger = std::make_shared<spdlog::logger>(name, structured_sink_);
  logger->set_level(level_);
  logger->flush_on(spdlog::level::info);
  return logger;
}

}  // namespace pivot::core
