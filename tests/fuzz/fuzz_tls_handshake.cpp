// fuzz_tls_handshake: the server side of TLS as kerberusd runs it
// (host/tls/session.cpp over a context from host/tls/context.cpp), fed a
// client's bytes before any handshake: what anyone who can reach the port
// sends first.
//
// Input: two option bytes, then the client's bytes.
//   byte 0, bit 0: the context asks for a client certificate
//                  (client_certificate: optional, client_ca set), so the
//                  certificate-request paths run too;
//   byte 1: the size of each read the bytes arrive in (0: one read), as
//           TCP may split a record anywhere.
// The context is made once, from a fixed certificate and key written to a
// temporary directory, by tls::Context::load as at startup.
// Findings, besides any sanitizer report and any exception:
//   - plaintext delivered before the handshake finished (a client's first
//     flight cannot finish it: the server's Finished is still to come);
//   - a failure without a reason, or a reason unfit for a log line (over
//     300 bytes or not printable ASCII);
//   - a session that failed reading or writing more afterwards;
//   - more bytes owed to the client than a server's first flight can be
//     (a bound on amplification: 64 KiB).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "../support/test_certificate.h"
#include "finding.h"
#include "tls/context.h"
#include "tls/session.h"

namespace {

using kerberus::fuzz::finding;
namespace fuzz = kerberus::fuzz;
using kerberus::tls::Context;
using kerberus::tls::Session;

using kerberus::test::kTestCertificate;
using kerberus::test::kTestKey;

std::string write_temp(const char* dir, const char* name, const char* text) {
    std::string path = std::string(dir) + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr || std::fputs(text, f) < 0 || std::fclose(f) != 0) {
        std::fprintf(stderr, "cannot write %s\n", path.c_str());
        std::abort();
    }
    return path;
}

struct Contexts {
    std::shared_ptr<const Context> plain, asking;
};

Contexts make_contexts() {
    char dir[] = "/tmp/kerberus-fuzz-tls-XXXXXX";
    if (::mkdtemp(dir) == nullptr) std::abort();
    kerberus::config::TlsSettings settings;
    settings.certificate = write_temp(dir, "cert.pem", kTestCertificate);
    settings.key = write_temp(dir, "key.pem", kTestKey);
    Contexts made;
    made.plain = Context::load(settings);
    settings.client_ca = settings.certificate;
    settings.client_certificate = kerberus::config::TlsSettings::ClientCertificate::optional;
    made.asking = Context::load(settings);
    // Loaded: the files are not read again.
    ::unlink(settings.certificate.c_str());
    ::unlink(settings.key.c_str());
    ::rmdir(dir);
    return made;
}

void check_reason(const Session& session, std::string_view input) {
    const std::string& why = session.failure();
    bool fit = !why.empty() && why.size() <= 300;
    for (char c : why) fit = fit && c >= 0x20 && c < 0x7f;
    if (!fit) {
        finding("a failure reason unfit for a log line",
                "reason " + fuzz::quoted(why) + "\ninput " + fuzz::quoted(input));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Contexts contexts = make_contexts();
    if (size < 2) return 0;
    const bool ask = (data[0] & 1) != 0;
    const std::size_t read_size = data[1];
    std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
    try {
        Session session(ask ? *contexts.asking : *contexts.plain);
        std::string plain, out;
        std::string_view rest = input;
        Session::Outcome outcome = Session::Outcome::ok;
        while (!rest.empty() && outcome == Session::Outcome::ok) {
            std::size_t n = read_size == 0 ? rest.size() : std::min(rest.size(), read_size);
            outcome = session.receive(rest.substr(0, n), plain, out);
            rest.remove_prefix(n);
        }
        if (!plain.empty() && !session.established()) {
            finding("plaintext before the handshake finished",
                    "plaintext " + fuzz::quoted(plain) + "\ninput " + fuzz::quoted(input));
        }
        if (out.size() > 64 * 1024) {
            finding("a first flight over 64 KiB",
                    std::to_string(out.size()) + " bytes for input " + fuzz::quoted(input));
        }
        if (outcome == Session::Outcome::failed) {
            check_reason(session, input);
            std::string more_plain, more_out;
            if (session.receive("\x16\x03\x01\x00\x01\x01", more_plain, more_out) != Session::Outcome::failed ||
                !more_plain.empty() || !more_out.empty() || session.send("x", more_out) || !more_out.empty()) {
                finding("a failed session went on", "input " + fuzz::quoted(input));
            }
        }
        // The close the transport sends with its last bytes, in any state.
        session.close(out);
    } catch (const std::exception& e) {
        finding("an exception", std::string(e.what()) + "\ninput " + fuzz::quoted(input));
    }
    return 0;
}
