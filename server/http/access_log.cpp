#include "server/http/access_log.hpp"

#include "protocol/json_writer.hpp"

namespace pivot::http {

void AccessLog::write(const AccessRecord& r) const {
  std::string remote;
  std::string method;
  std::string path;
  std::string id;
  protocol::append_json_string(remote, r.remote);
  protocol::append_json_string(method, r.method);
  protocol::append_json_string(path, r.path);
  protocol::append_json_string(id, r.request_id);
  if (json_) {
    log_->info(R"("event":"access","remote":{},"method":{},"path":{},"status":{},"bytes_sent":{},"duration_ms":{:.3f},"request_id":{},"pid":{})",
               remote, method, path, r.status, r.bytes_sent, r.duration_ms, id, r.pid);
  } else {
    log_->info("event=access remote={} method={} path={} status={} bytes_sent={} duration_ms={:.3f} request_id={} pid={}", remote,
               method, path, r.status, r.bytes_sent, r.duration_ms, id, r.pid);
  }
}

}  // namespace pivot::http
