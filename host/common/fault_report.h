// One line on stderr (the journal, under systemd) when the process dies of
// a fault, saying whose code faulted and what it was doing.
//
// Plugins run in the daemon's process, so a plugin that dereferences NULL
// kills the daemon; until plugins can be isolated, the least the daemon owes
// the operator is the name of the plugin, its version and file, and the
// route being served, before the signal takes its default course (a core
// dump, and a restart by systemd).
//
// Everything the signal handler reads is written beforehand: plugin code
// ranges when a library is loaded, and what a thread is running in plugin
// code by a marker set around the call. The handler itself only reads
// memory and calls write().
#pragma once

#include <string_view>

namespace kerberus::fault_report {

// Installs the handler for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT.
// Main thread, once, before plugins load.
void install();

// Gives the calling thread a stack of its own for the handler, so a stack
// overflow is reported too. Call at the start of threads that run plugin
// code; the stack lives as long as the thread.
void prepare_thread();

// The code of one loaded plugin library, found from an address inside it,
// known to the handler for as long as this object lives.
class CodeRange {
public:
    CodeRange(const void* inside, std::string_view plugin, std::string_view version, std::string_view file);
    ~CodeRange();
    CodeRange(const CodeRange&) = delete;
    CodeRange& operator=(const CodeRange&) = delete;

private:
    int slot_ = -1;
};

// While it lives, the calling thread is running `plugin`'s code for
// `activity` (a route being served: method, path and route pattern; or
// "init", "stop"). The views must outlive it. Costs a few stores.
class Running {
public:
    Running(std::string_view plugin, std::string_view activity, std::string_view detail = {},
            std::string_view route = {});
    ~Running();
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;

    std::string_view plugin;
    std::string_view activity;  // "GET" for a request, else what the plugin was doing
    std::string_view detail;    // the request's path
    std::string_view route;     // the pattern it matched
private:
    const Running* outer_;
};

}  // namespace kerberus::fault_report
