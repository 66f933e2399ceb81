// fuzz_request_parser: one connection's bytes, split into reads as the
// input's option line says (format: connection_driver.h), go through the
// request parser the way the connection loop drives it.
//
//   <option line>\n<payload>      e.g. "3\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"
//                                  (reads of 3 bytes, then the rest)
//
// Findings (each aborts with a message naming it):
// - ASan/UBSan: a view that outlived the buffer it pointed into (every read
//   is a fresh allocation and the previous one is freed), overflows;
// - a view of a complete request outside the bytes that request took (a
//   chunked body excepted: the parser owns it), a size beyond the input;
// - method/target after `failed` left from an earlier request;
// - results that depend on the split: the requests (method, target, body,
//   fields, keep_alive, http10, where each ends) and the final error status
//   must equal those of the same bytes received in one read.
#include <cstddef>
#include <cstdint>
#include <string>

#include "connection_driver.h"

namespace {

using kerberus::fuzz::ConnectionResult;
using kerberus::fuzz::quoted;

std::string describe(const ConnectionResult& c) {
    std::string out;
    for (std::size_t i = 0; i < c.requests.size(); ++i) {
        const auto& r = c.requests[i];
        out += "  request " + std::to_string(i) + ": " + r.method + " " + quoted(r.target, 80) + " ends at " +
               std::to_string(r.end) + ", body " + quoted(r.body, 40) + ", " + std::to_string(r.fields.size()) +
               " fields" + (r.keep_alive ? ", keep-alive" : ", close") + (r.http10 ? ", HTTP/1.0" : "") + "\n";
    }
    switch (c.end) {
        case ConnectionResult::End::all_read: out += "  then waits for more\n"; break;
        case ConnectionResult::End::closed: out += "  then closes\n"; break;
        case ConnectionResult::End::failed:
            out += "  then fails: " + std::to_string(c.status) + " " + c.message + "\n";
            break;
    }
    return out;
}

bool same_request(const kerberus::fuzz::RequestResult& a, const kerberus::fuzz::RequestResult& b) {
    return a.method == b.method && a.target == b.target && a.body == b.body && a.fields == b.fields &&
           a.keep_alive == b.keep_alive && a.http10 == b.http10 && a.end == b.end;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    kerberus::fuzz::FuzzInput in = kerberus::fuzz::read_input(data, size);
    ConnectionResult split = kerberus::fuzz::drive(in.payload, in.reads, in.limits);
    if (in.reads.size() <= 1) return 0;
    ConnectionResult whole = kerberus::fuzz::drive(in.payload, {in.payload.size()}, in.limits);

    bool same = split.requests.size() == whole.requests.size() && split.end == whole.end &&
                split.status == whole.status;
    for (std::size_t i = 0; same && i < split.requests.size(); ++i) {
        same = same_request(split.requests[i], whole.requests[i]);
    }
    if (!same) {
        std::string reads;
        for (std::size_t n : in.reads) reads += " " + std::to_string(n);
        kerberus::fuzz::finding("the result depends on how the bytes were split into reads",
                                "in one read:\n" + describe(whole) + "in reads of" + reads + ":\n" +
                                    describe(split));
    }
    return 0;
}
