#include "plugins/plugin_file.h"

#include <cstddef>
#include <exception>
#include <optional>

#include "common/plugin_id.h"
#include "config/schema.h"
#include "plugins/trust.h"

namespace kerberus {
namespace {

namespace dll = boost::dll;

// The first descriptor layout (minor 0) ends after `health`; no host may read
// a field the plugin did not write, so anything shorter is refused.
constexpr std::size_t kMinDescriptorSize =
    offsetof(kerberus_plugin_descriptor, health) + sizeof(kerberus_plugin_descriptor::health);
constexpr std::size_t kSchemaFieldEnd =
    offsetof(kerberus_plugin_descriptor, config_schema) + sizeof(kerberus_plugin_descriptor::config_schema);
constexpr std::size_t kAbiFieldsEnd =
    offsetof(kerberus_plugin_descriptor, abi_minor) + sizeof(kerberus_plugin_descriptor::abi_minor);

// Later majors name their entry kerberus_plugin_v2, v3, ...; finding one
// lets the refusal say "built for ABI 2" instead of "not a plugin".
constexpr unsigned kHighestMajorProbed = 9;

std::string abi_text(uint32_t major, uint32_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

PluginRefusal refuse(const std::filesystem::path& path, std::string reason) {
    return PluginRefusal{path, std::move(reason), {}};
}

std::string host_provides() { return "this kerberusd " KERBERUS_VERSION " provides ABI " + host_abi(); }

PluginRefusal refuse_other_major(const std::filesystem::path& path, const dll::shared_library& lib) {
    for (unsigned major = kHighestMajorProbed; major >= 2; --major) {
        if (lib.has("kerberus_plugin_v" + std::to_string(major))) {
            return refuse(path, "built for plugin ABI " + std::to_string(major) + ".x (exports kerberus_plugin_v" +
                                    std::to_string(major) + "), " + host_provides() +
                                    "; run a kerberusd that provides ABI " + std::to_string(major) +
                                    " or rebuild the plugin against this host's kerberus/plugin.h");
        }
    }
    return refuse(path, "no " KERBERUS_PLUGIN_ENTRY_SYMBOL
                        " symbol: not a kerberus plugin, or its entry function is not exported "
                        "(declare it with KERBERUS_PLUGIN_ENTRY)");
}

bool is_c_string_ok(const char* s) { return s != nullptr && *s != '\0'; }

// Why the copy may not be loaded as plugin `id` under its pin, if it has one.
std::optional<std::string> pin_problem(const PrivateCopy& copy, const std::string& id, const LoadPolicy& policy) {
    auto pin = policy.pins.find(id);
    if (pin == policy.pins.end() || copy.sha256() == pin->second) return std::nullopt;
    std::string found = copy.sha256().empty() ? "could not be computed" : "is " + copy.sha256();
    return "its SHA-256 " + found + ", but plugins." + id + ".sha256 pins " + pin->second +
           "; install the pinned file, or pin this one if it is the version to run";
}

PluginFileResult open_checked(const std::filesystem::path& path, const LoadPolicy& policy) {
    std::shared_ptr<PrivateCopy> copy;
    try {
        copy = std::make_shared<PrivateCopy>(path);
    } catch (const std::exception& e) {
        return refuse(path, std::string("cannot read: ") + e.what());
    }
    // The owner and mode are those of the open file the copy was read from,
    // the digest is the sealed copy's own, and that copy is what dlopen
    // (which runs the file's code) maps: nothing can change in between.
    if (policy.strict_modes) {
        if (auto why = ownership_problem(copy->source(), path.string())) return refuse(path, *why);
    }
    if (auto why = pin_problem(*copy, announced_id(path), policy)) return refuse(path, *why);
    auto lib = std::make_shared<dll::shared_library>();
    try {
        lib->load(dll::fs::path(copy->load_path()), dll::load_mode::rtld_now | dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        // Boost's message carries dlerror() (missing symbols, wrong ELF
        // class, ...) naming the copy; name the operator's file instead.
        std::string why = e.what();
        for (auto at = why.find(copy->load_path()); at != std::string::npos; at = why.find(copy->load_path())) {
            why.replace(at, copy->load_path().size(), path.filename().string());
        }
        return refuse(path, "cannot load: " + why);
    }
    if (!lib->has(KERBERUS_PLUGIN_ENTRY_SYMBOL)) return refuse_other_major(path, *lib);

    auto entry = lib->get<const kerberus_plugin_descriptor*()>(KERBERUS_PLUGIN_ENTRY_SYMBOL);
    const kerberus_plugin_descriptor* d = entry();
    if (d == nullptr) return refuse(path, KERBERUS_PLUGIN_ENTRY_SYMBOL " returned no descriptor");
    if (d->struct_size < kAbiFieldsEnd) {
        return refuse(path, "descriptor too small (" + std::to_string(d->struct_size) +
                                " bytes) to hold an ABI version; rebuild the plugin against kerberus/plugin.h");
    }
    const std::string plugin_abi = abi_text(d->abi_major, d->abi_minor);
    if (d->abi_major != KERBERUS_ABI_MAJOR) {
        return refuse(path, "built for plugin ABI " + plugin_abi + ", " + host_provides() +
                                (d->abi_major > KERBERUS_ABI_MAJOR ? "; upgrade kerberusd or rebuild the plugin against ABI "
                                                                   : "; rebuild the plugin against ABI ") +
                                host_abi());
    }
    if (d->abi_minor > KERBERUS_ABI_MINOR) {
        return refuse(path, "built for plugin ABI " + plugin_abi + ", " + host_provides() + " (minor " +
                                std::to_string(d->abi_minor) + " > " + std::to_string(KERBERUS_ABI_MINOR) +
                                "); upgrade kerberusd or rebuild the plugin against ABI " + host_abi());
    }
    if (d->struct_size < kMinDescriptorSize) {
        return refuse(path, "descriptor is " + std::to_string(d->struct_size) + " bytes, ABI " + plugin_abi +
                                " needs at least " + std::to_string(kMinDescriptorSize) +
                                "; rebuild the plugin against kerberus/plugin.h");
    }
    if (!is_c_string_ok(d->id) || !is_valid_plugin_id(d->id)) {
        return refuse(path, std::string("invalid plugin id \"") + (d->id ? d->id : "(null)") +
                                "\" (must match [a-z0-9][a-z0-9-]*, at most 64 characters)");
    }
    // A misnamed file still answers to the pin of the id it holds.
    if (d->id != announced_id(path)) {
        if (auto why = pin_problem(*copy, d->id, policy)) {
            PluginRefusal refusal = refuse(path, *why);
            refusal.id = d->id;
            return refusal;
        }
    }
    if (!is_c_string_ok(d->version)) return refuse(path, std::string("plugin ") + d->id + " has no version");
    auto version = Version::parse(d->version);
    if (!version) {
        return refuse(path, std::string("plugin ") + d->id + " has an invalid version \"" + d->version +
                                "\" (expected MAJOR.MINOR.PATCH)");
    }
    if (d->init == nullptr) return refuse(path, std::string("plugin ") + d->id + " has no init callback");
    std::string schema;
    if (d->struct_size >= kSchemaFieldEnd && d->config_schema != nullptr) {
        schema = d->config_schema;
        if (std::string why = config::schema_problem(schema); !why.empty()) {
            return refuse(path, std::string("plugin ") + d->id + ": " + why + "; rebuild the plugin with a valid one");
        }
    }

    PluginFile file;
    file.path = path;
    file.copy = std::move(copy);
    file.library = std::move(lib);
    file.descriptor = d;
    file.id = d->id;
    file.version = std::move(*version);
    file.description = d->description ? d->description : "";
    file.config_schema = std::move(schema);
    file.code_range = std::make_shared<fault_report::CodeRange>(reinterpret_cast<const void*>(d->init), file.id,
                                                                file.version.str(), path.string());
    return file;
}

}  // namespace

std::string host_abi() { return abi_text(KERBERUS_ABI_MAJOR, KERBERUS_ABI_MINOR); }

std::string PluginFile::abi() const { return abi_text(descriptor->abi_major, descriptor->abi_minor); }

std::string announced_id(const std::filesystem::path& path) {
    std::string name = path.filename().string();
    return name.substr(0, name.find(".so"));
}

PluginFileResult open_plugin_file(const std::filesystem::path& path, const LoadPolicy& policy) {
    PluginFileResult result = open_checked(path, policy);
    if (auto* refusal = std::get_if<PluginRefusal>(&result); refusal && refusal->id.empty()) {
        refusal->id = announced_id(path);
    }
    return result;
}

}  // namespace kerberus
