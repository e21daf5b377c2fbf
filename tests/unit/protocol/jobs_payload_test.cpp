#include <catch2/catch.hpp>

#include "protocol/jobs_payload.hpp"
#include "protocol/protocol_error.hpp"

using namespace pivot::protocol;

TEST_CASE("jobs payload: the task context is RoadRunner's memory example byte for byte", "[jobs][protocol]") {
  std::string out;
  append_job_context(out, {"7", "ping", "memory", nullptr, "default", ""});
  CHECK(out == R"({"id":"7","job":"ping","driver":"memory","headers":null,"pipeline":"default"})");
}

TEST_CASE("jobs payload: headers, queue and escaping", "[jobs][protocol]") {
  const JobHeaders h{{"a", {"1", "2"}}, {"q\"", {}}};
  std::string out;
  append_job_context(out, {"id-1", "App\\Job", "amqp", &h, "p", "q1"});
  CHECK(out == R"({"id":"id-1","job":"App\\Job","driver":"amqp","headers":{"a":["1","2"],"q\"":[]},"pipeline":"p","queue":"q1"})");
  const JobHeaders empty;
  out.clear();
  append_job_context(out, {"1", "j", "memory", &empty, "p", ""});
  CHECK(out == R"({"id":"1","job":"j","driver":"memory","headers":null,"pipeline":"p"})");
}

TEST_CASE("jobs payload: replies of every type, data as [] {} null or an object", "[jobs][protocol]") {
  JobReply r;
  REQUIRE_FALSE(decode_job_reply(R"({"type":2,"data":[]})", r));
  CHECK(r.type == 2);
  REQUIRE_FALSE(decode_job_reply(R"({"type":0,"data":{}})", r));
  CHECK(r.type == 0);
  REQUIRE_FALSE(decode_job_reply(R"({"type":2})", r));
  REQUIRE_FALSE(decode_job_reply(R"({"data":null,"type":2})", r));
  CHECK(r.type == 2);

  REQUIRE_FALSE(decode_job_reply(R"({"type":3,"data":{"message":"bad","requeue":true,"delay_seconds":5}})", r));
  CHECK(r.type == 3);
  CHECK(r.message == "bad");
  CHECK(r.requeue);
  CHECK(r.delay_seconds == 5);
  CHECK_FALSE(r.has_headers);

  REQUIRE_FALSE(decode_job_reply(R"( { "type" : 4 , "data" : { "message":"again", "delay_seconds":0,
      "headers":{"x":["1","2"],"y":"single","z":null}, "extra":{"nested":[1,2,{"a":null}]} } } )", r));
  CHECK(r.type == 4);
  CHECK(r.has_headers);
  CHECK(r.headers.at("x") == std::vector<std::string>{"1", "2"});
  CHECK(r.headers.at("y") == std::vector<std::string>{"single"});
  CHECK(r.headers.at("z").empty());

  REQUIRE_FALSE(decode_job_reply(R"({"type":1,"data":{"message":"e","requeue":false,"headers":[]}})", r));
  CHECK(r.type == 1);
  CHECK_FALSE(r.requeue);
  CHECK_FALSE(r.has_headers);

  // The official SDK's nack($message, $redelivery) names the flag "redelivery".
  JobReply sdk;
  REQUIRE_FALSE(decode_job_reply(R"({"type":3,"data":{"message":"m","redelivery":true,"delay_seconds":0}})", sdk));
  CHECK(sdk.requeue);

  REQUIRE_FALSE(decode_job_reply(R"({"type":42,"data":[]})", r));
  CHECK(r.type == 42);
}

TEST_CASE("jobs payload: invalid replies are bad_json", "[jobs][protocol]") {
  JobReply r;
  for (const char* bad : {"", "   ", "null", "[]", "{}", R"({"type":"2"})", R"({"type":2,"data":{"requeue":"yes"}})",
                          R"({"type":2} trailing)", R"({"type":2,"data":{"headers":{"a":[1]}}})", "{\"type\":2", "not json"}) {
    INFO(bad);
    CHECK(decode_job_reply(bad, r) == ProtocolError::bad_json);
  }
}
