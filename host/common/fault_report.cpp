#include "common/fault_report.h"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <execinfo.h>
#include <link.h>
#include <ucontext.h>
#include <unistd.h>

namespace kerberus::fault_report {
namespace {

// Far more plugin libraries than a daemon loads at once, reloads included.
constexpr int kSlots = 1024;
constexpr int kFrames = 48;

struct Slot {
    std::atomic<bool> used{false};
    uintptr_t start = 0;
    uintptr_t end = 0;
    char plugin[72] = "";
    char version[64] = "";
    char file[256] = "";
};

Slot slots[kSlots];
std::mutex slots_mutex;  // registration only; the handler never locks
thread_local const Running* current_running = nullptr;

void copy_text(char* out, std::size_t size, std::string_view text) {
    std::size_t n = text.size() < size - 1 ? text.size() : size - 1;
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
}

const Slot* slot_for(uintptr_t address) {
    for (const Slot& slot : slots) {
        if (slot.used.load(std::memory_order_acquire) && address >= slot.start && address < slot.end) return &slot;
    }
    return nullptr;
}

// A line assembled without allocating; what does not fit is cut.
class Line {
public:
    Line& operator<<(std::string_view s) {
        for (char c : s) {
            if (length_ == sizeof text_ - 1) break;
            // The request path came from a client: no control bytes in the log.
            text_[length_++] = static_cast<unsigned char>(c) < 0x20 ? '?' : c;
        }
        return *this;
    }
    Line& hex(uintptr_t n) {
        char digits[2 + 16];
        int i = sizeof digits;
        do {
            digits[--i] = "0123456789abcdef"[n & 0xf];
            n >>= 4;
        } while (n != 0);
        digits[--i] = 'x';
        digits[--i] = '0';
        return *this << std::string_view(digits + i, sizeof digits - i);
    }
    void write_to(int fd) {
        text_[length_++] = '\n';
        (void)!::write(fd, text_, length_);
    }

private:
    char text_[1024];
    std::size_t length_ = 0;
};

std::string_view signal_name(int sig) {
    switch (sig) {
        case SIGSEGV: return "SIGSEGV";
        case SIGBUS: return "SIGBUS";
        case SIGFPE: return "SIGFPE";
        case SIGILL: return "SIGILL";
        case SIGABRT: return "SIGABRT";
    }
    return "a fatal signal";
}

// The handler's own stack, for one thread.
struct AltStack {
    static constexpr std::size_t kSize = 64 * 1024;
    AltStack() : memory(static_cast<char*>(std::malloc(kSize))) {
        if (memory == nullptr) return;
        stack_t stack{};
        stack.ss_sp = memory;
        stack.ss_size = kSize;
        sigaltstack(&stack, nullptr);
    }
    ~AltStack() {
        stack_t off{};
        off.ss_flags = SS_DISABLE;
        sigaltstack(&off, nullptr);
        std::free(memory);
    }
    AltStack(const AltStack&) = delete;
    AltStack& operator=(const AltStack&) = delete;
    char* memory;
};

void on_fault(int sig, siginfo_t* info, void* context) {
    // One report: a second thread faulting meanwhile waits for the end.
    static std::atomic<bool> reporting{false};
    if (reporting.exchange(true)) {
        for (;;) pause();
    }
    uintptr_t pc = 0;
    if (context != nullptr) pc = static_cast<uintptr_t>(static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RIP]);
    void* frames[kFrames];
    int depth = backtrace(frames, kFrames);

    // The faulting instruction, or failing that the innermost caller, in a
    // plugin's code: a plugin passing NULL to strlen faults inside libc.
    const Slot* code = slot_for(pc);
    bool called_from = false;
    for (int i = 0; code == nullptr && i < depth; ++i) {
        code = slot_for(reinterpret_cast<uintptr_t>(frames[i]));
        called_from = code != nullptr;
    }

    Line line;
    line << "kerberusd: fatal signal " << signal_name(sig);
    if ((sig == SIGSEGV || sig == SIGBUS) && info != nullptr) {
        line << " (invalid access to address ";
        line.hex(reinterpret_cast<uintptr_t>(info->si_addr)) << ")";
    }
    if (code != nullptr) {
        line << (called_from ? " in code called by plugin " : " in plugin ") << code->plugin << " " << code->version
             << " (" << code->file;
        if (!called_from) line << " at +";
        if (!called_from) line.hex(pc - code->start);
        line << ")";
    } else {
        line << " in the daemon's own code (at ";
        line.hex(pc) << ")";
    }
    if (const Running* running = current_running) {
        if (running->route.empty()) {
            line << " during " << running->activity << " of plugin " << running->plugin;
        } else {
            line << " while plugin " << running->plugin << " served " << running->activity << " " << running->detail
                 << " (route " << running->activity << " " << running->route << ")";
        }
    }
    line << "; the process stops with the signal, a service manager restarts it";
    line.write_to(STDERR_FILENO);
    backtrace_symbols_fd(frames, depth, STDERR_FILENO);

    // SA_RESETHAND restored the default action: a fault raised by the
    // instruction itself happens again on return, anything else is raised.
    if (info == nullptr || info->si_code <= 0) raise(sig);
}

}  // namespace

void install() {
    // backtrace() loads its unwinder on first use, which must not happen
    // inside the handler.
    void* warm[1];
    (void)backtrace(warm, 1);
    prepare_thread();
    struct sigaction action {};
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(sig, &action, nullptr);
}

void prepare_thread() {
    thread_local AltStack stack;
    (void)stack;
}

CodeRange::CodeRange(const void* inside, std::string_view plugin, std::string_view version, std::string_view file) {
    struct Search {
        uintptr_t address;
        uintptr_t start = 0, end = 0;
    } search{reinterpret_cast<uintptr_t>(inside)};
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) {
            auto* s = static_cast<Search*>(data);
            uintptr_t lowest = UINTPTR_MAX, highest = 0;
            bool contains = false;
            for (int i = 0; i < info->dlpi_phnum; ++i) {
                const auto& ph = info->dlpi_phdr[i];
                if (ph.p_type != PT_LOAD) continue;
                uintptr_t from = info->dlpi_addr + ph.p_vaddr;
                uintptr_t to = from + ph.p_memsz;
                if (from < lowest) lowest = from;
                if (to > highest) highest = to;
                if (s->address >= from && s->address < to) contains = true;
            }
            if (!contains) return 0;
            s->start = lowest;
            s->end = highest;
            return 1;
        },
        &search);
    if (search.end == 0) return;
    std::lock_guard lock(slots_mutex);
    for (int i = 0; i < kSlots; ++i) {
        if (slots[i].used.load(std::memory_order_relaxed)) continue;
        Slot& slot = slots[i];
        slot.start = search.start;
        slot.end = search.end;
        copy_text(slot.plugin, sizeof slot.plugin, plugin);
        copy_text(slot.version, sizeof slot.version, version);
        copy_text(slot.file, sizeof slot.file, file);
        slot.used.store(true, std::memory_order_release);
        slot_ = i;
        return;
    }
}

CodeRange::~CodeRange() {
    if (slot_ < 0) return;
    std::lock_guard lock(slots_mutex);
    slots[slot_].used.store(false, std::memory_order_release);
}

Running::Running(std::string_view plugin, std::string_view activity, std::string_view detail, std::string_view route)
    : plugin(plugin), activity(activity), detail(detail), route(route), outer_(current_running) {
    current_running = this;
}

Running::~Running() { current_running = outer_; }

}  // namespace kerberus::fault_report
