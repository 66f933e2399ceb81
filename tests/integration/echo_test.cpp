// The bundled echo plugin reflects what the host handed it, so these tests
// check the request accessors of the ABI from the outside: method, decoded
// and raw path, route parameters, query, headers, body, client address, and
// responses completed later from another thread.
#include <algorithm>
#include <cctype>
#include <future>
#include <vector>

#include "daemon.h"
#include "http_client.h"

namespace kerberus::test {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// A member of `object` by case-insensitive name; a list value yields its
// first element, since a header or query name may repeat.
std::optional<std::string> lookup(const rapidjson::Value& object, std::string_view name) {
    if (!object.IsObject()) return std::nullopt;
    for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
        if (!iequals({it->name.GetString(), it->name.GetStringLength()}, name)) continue;
        const rapidjson::Value* v = &it->value;
        if (v->IsArray() && !v->Empty()) v = &(*v)[0];
        if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
    }
    return std::nullopt;
}

const rapidjson::Value& member(const rapidjson::Document& doc, const char* name) {
    static const rapidjson::Value null;
    auto it = doc.FindMember(name);
    return it == doc.MemberEnd() ? null : it->value;
}

TEST(IntegrationEcho, ReflectsTheRequest) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    Request req;
    req.method = "POST";
    req.url = d.url("/api/echo/things/one?x=1&y=a%20b&y=second");
    req.headers = {"X-Kerberus-Test: yes", "Content-Type: text/plain"};
    req.body = "payload \xE2\x9C\x93";
    auto r = perform(req);
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_TRUE(r.header("Content-Type").value_or("").starts_with("application/json"));
    auto doc = parse_json(r.body);
    ASSERT_FALSE(doc.HasParseError()) << r.body;
    EXPECT_EQ(json_string(doc, "method"), "POST");
    EXPECT_EQ(json_string(doc, "path"), "/things/one");
    EXPECT_EQ(json_string(doc, "raw_path"), "/api/echo/things/one");
    EXPECT_EQ(json_string(doc, "query_string"), "x=1&y=a%20b&y=second");
    EXPECT_EQ(lookup(member(doc, "query"), "x"), "1") << r.body;
    EXPECT_EQ(lookup(member(doc, "query"), "y"), "a b") << r.body;
    EXPECT_EQ(lookup(member(doc, "headers"), "x-kerberus-test"), "yes") << r.body;
    EXPECT_EQ(json_string(doc, "body"), "payload \xE2\x9C\x93");
    EXPECT_EQ(json_string(doc, "remote_address"), "127.0.0.1");
}

TEST(IntegrationEcho, AnswersValidJsonForAnyBytes) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    Request req;
    req.method = "POST";
    req.url = d.url("/api/echo/bytes");
    // Quotes, a control character, a cut-short character and one that is
    // never UTF-8 (a surrogate); each ill-formed part becomes U+FFFD.
    req.body = std::string("\"q\"\n\x01 \xE2\x82 \xED\xA0\x80 \xE2\x9C\x93");
    auto r = perform(req);
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(r.body.data(), r.body.size());
    ASSERT_FALSE(doc.HasParseError()) << r.body;
    EXPECT_EQ(json_string(doc, "body"),
              "\"q\"\n\x01 \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xE2\x9C\x93");
    EXPECT_NE(r.body.find(R"("body":"\"q\"\n\u0001 )"), std::string::npos) << r.body;
}

TEST(IntegrationEcho, ChunkedBodyArrivesDechunked) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = raw_exchange(d.port(),
                          "POST /api/echo/chunks HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                          "Connection: close\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n");
    ASSERT_TRUE(r.has_value()) << "no response";
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json_string(parse_json(r->body), "body"), "hello world") << r->body;
}

TEST(IntegrationEcho, AnswersAnyMethod) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    for (std::string method : {"GET", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
        Request req;
        req.method = method;
        req.url = d.url("/api/echo/any");
        auto r = perform(req);
        ASSERT_EQ(r.status, 200) << method << " " << r.error << r.body;
        EXPECT_EQ(json_string(parse_json(r.body), "method"), method) << r.body;
    }
}

TEST(IntegrationEcho, DecodesRouteParameters) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto r = get(d.url("/api/echo/params/one/tw%20o"));
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    auto doc = parse_json(r.body);
    EXPECT_EQ(lookup(member(doc, "params"), "first"), "one") << r.body;
    EXPECT_EQ(lookup(member(doc, "params"), "second"), "tw o") << r.body;
    EXPECT_EQ(json_string(doc, "raw_path"), "/api/echo/params/one/tw%20o");
}

TEST(IntegrationEcho, AnswersTheRequestedStatus) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    EXPECT_EQ(get(d.url("/api/echo/status/418")).status, 418);
    EXPECT_EQ(get(d.url("/api/echo/status/201")).status, 201);
    EXPECT_EQ(get(d.url("/api/echo/status/503")).status, 503);
}

TEST(IntegrationEcho, DelayedAnswerArrivesFromAnotherThread) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config()));
    auto started = Clock::now();
    auto r = get(d.url("/api/echo/delay?ms=300"));
    auto elapsed = elapsed_ms(started);
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_GE(elapsed, 300);
    EXPECT_LT(elapsed, 5000);
    auto doc = parse_json(r.body);
    ASSERT_FALSE(doc.HasParseError()) << r.body;
    EXPECT_EQ(json_string(doc, "method"), "GET");
    ASSERT_TRUE(doc.HasMember("delayed_ms") && doc["delayed_ms"].IsNumber()) << r.body;
    EXPECT_EQ(doc["delayed_ms"].GetDouble(), 300.0);
}

// Kept requests must not hold a worker: with 2 workers, 8 concurrent 500 ms
// delays finish in about 500 ms, not 2 s.
TEST(IntegrationEcho, KeptRequestsDoNotBlockWorkers) {
    Daemon d;
    ASSERT_TRUE(d.start(bundled_config().server("workers", "2")));
    auto started = Clock::now();
    std::vector<std::future<Response>> pending;
    for (int i = 0; i < 8; ++i)
        pending.push_back(std::async(std::launch::async, [&] { return get(d.url("/api/echo/delay?ms=500")); }));
    for (auto& f : pending) {
        auto r = f.get();
        EXPECT_EQ(r.status, 200) << r.error << r.body;
    }
    EXPECT_LT(elapsed_ms(started), 1800);
}

}  // namespace
}  // namespace kerberus::test
