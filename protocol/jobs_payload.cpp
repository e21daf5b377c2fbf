#include "protocol/jobs_payload.hpp"

#include "protocol/json_reader.hpp"
#include "protocol/json_writer.hpp"
#include "protocol/protocol_error.hpp"

namespace pivot::protocol {
namespace {

bool read_null(JsonReader& r) {
  if (r.peek() != 'n') return false;
  return r.skip_value();
}

/// `{name:[values]}`; a single string value is accepted as a one-value list.
bool read_headers(JsonReader& r, JobHeaders& out) {
  if (!r.consume('{')) return false;
  if (r.consume('}')) return true;
  do {
    std::string name;
    if (!r.read_string(name) || !r.consume(':')) return false;
    auto& values = out[name];
    if (r.peek() == '"') {
      std::string v;
      if (!r.read_string(v)) return false;
      values.push_back(std::move(v));
    } else if (r.peek() == 'n') {
      if (!read_null(r)) return false;
    } else {
      if (!r.consume('[')) return false;
      if (!r.consume(']')) {
        do {
          std::string v;
          if (!r.read_string(v)) return false;
          values.push_back(std::move(v));
        } while (r.consume(','));
        if (!r.consume(']')) return false;
      }
    }
  } while (r.consume(','));
  return r.consume('}');
}

bool read_data(JsonReader& r, JobReply& out) {
  const char c = r.peek();
  if (c == 'n') return read_null(r);
  if (c == '[') return r.skip_value();  // PHP encodes empty data as []
  if (!r.consume('{')) return false;
  if (r.consume('}')) return true;
  do {
    std::string key;
    if (!r.read_string(key) || !r.consume(':')) return false;
    if (r.peek() == 'n') {
      if (!read_null(r)) return false;
    } else if (key == "message") {
      if (r.peek() == '"') {
        if (!r.read_string(out.message)) return false;
      } else if (!r.skip_value()) {
        return false;
      }
    } else if (key == "delay_seconds") {
      if (!r.read_int(out.delay_seconds)) return false;
    } else if (key == "requeue" || key == "redelivery") {
      // spiral/roadrunner-jobs' nack($message, $redelivery) sends the flag as "redelivery".
      if (!r.read_bool(out.requeue)) return false;
    } else if (key == "headers") {
      if (r.peek() == '[') {  // PHP's empty array
        if (!r.skip_value()) return false;
      } else {
        if (!read_headers(r, out.headers)) return false;
        out.has_headers = true;
      }
    } else if (!r.skip_value()) {
      return false;
    }
  } while (r.consume(','));
  return r.consume('}');
}

}  // namespace

void append_job_context(std::string& out, const JobContext& ctx) {
  out += "{\"id\":";
  append_json_string(out, ctx.id);
  out += ",\"job\":";
  append_json_string(out, ctx.job);
  out += ",\"driver\":";
  append_json_string(out, ctx.driver);
  out += ",\"headers\":";
  if (ctx.headers == nullptr || ctx.headers->empty()) {
    out += "null";
  } else {
    out += '{';
    bool first = true;
    for (const auto& [name, values] : *ctx.headers) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, name);
      out += ":[";
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, values[i]);
      }
      out += ']';
    }
    out += '}';
  }
  out += ",\"pipeline\":";
  append_json_string(out, ctx.pipeline);
  if (!ctx.queue.empty()) {
    out += ",\"queue\":";
    append_json_string(out, ctx.queue);
  }
  out += '}';
}

std::error_code decode_job_reply(std::string_view body, JobReply& out) {
  out = JobReply{};
  JsonReader r(body);
  bool have_type = false;
  if (!r.consume('{')) return ProtocolError::bad_json;
  if (!r.consume('}')) {
    do {
      std::string key;
      if (!r.read_string(key) || !r.consume(':')) return ProtocolError::bad_json;
      if (key == "type") {
        if (!r.read_int(out.type)) return ProtocolError::bad_json;
        have_type = true;
      } else if (key == "data") {
        if (!read_data(r, out)) return ProtocolError::bad_json;
      } else if (!r.skip_value()) {
        return ProtocolError::bad_json;
      }
    } while (r.consume(','));
    if (!r.consume('}')) return ProtocolError::bad_json;
  }
  if (!r.at_end() || !have_type) return ProtocolError::bad_json;
  return {};
}

}  // namespace pivot::protocol
