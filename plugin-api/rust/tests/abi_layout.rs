//! `sys` against `kerberus/plugin.h` itself: a C program compiled from the
//! header prints the size, alignment and the offset, size and kind of every
//! field of every struct, and the value of every constant; this test prints
//! the same from the Rust declarations, and the two must agree line for
//! line. A field added to the header but not here shows as a size that
//! differs; one renamed or missing on either side fails the C or the Rust
//! compile.
//!
//! Needs a C compiler: `$CC`, else `cc`. The header is found in
//! `$KERBERUS_INCLUDE_DIR`, else `../include` beside this crate.
use std::collections::BTreeSet;
use std::mem::{align_of, size_of, MaybeUninit};
use std::path::PathBuf;
use std::process::Command;

use kerberus_plugin::sys;

/// "int", "uint", "float" or "other": what C's _Generic tells apart, so a
/// signed field declared unsigned (or an integer as a double) fails too.
fn kind_of<T>(_: *const T) -> &'static str {
    match std::any::type_name::<T>() {
        "i8" | "i16" | "i32" | "i64" | "isize" => "int",
        "u8" | "u16" | "u32" | "u64" | "usize" => "uint",
        "f32" | "f64" => "float",
        _ => "other",
    }
}

fn size_of_pointee<T>(_: *const T) -> usize {
    size_of::<T>()
}

macro_rules! field_line {
    ($ty:ident, $field:ident) => {{
        let value = MaybeUninit::<sys::$ty>::uninit();
        let base = value.as_ptr();
        // SAFETY: addr_of! takes the address without reading.
        let field = unsafe { std::ptr::addr_of!((*base).$field) };
        format!(
            "field {}.{} offset={} size={} kind={}",
            stringify!($ty),
            stringify!($field).trim_start_matches("r#"),
            field as usize - base as usize,
            size_of_pointee(field),
            kind_of(field)
        )
    }};
}

macro_rules! layouts {
    ($($ty:ident { $($field:ident),* $(,)? })*) => {
        fn rust_struct_lines() -> Vec<String> {
            let mut lines = Vec::new();
            $(
                lines.push(format!("struct {} size={} align={}", stringify!($ty), size_of::<sys::$ty>(), align_of::<sys::$ty>()));
                $(lines.push(field_line!($ty, $field));)*
            )*
            lines
        }

        fn c_struct_statements() -> String {
            let mut c = String::new();
            $(
                c.push_str(&format!(
                    "    printf(\"struct {0} size=%zu align=%zu\\n\", sizeof({0}), (size_t)_Alignof({0}));\n",
                    stringify!($ty)
                ));
                $(c.push_str(&format!(
                    "    printf(\"field {0}.{1} offset=%zu size=%zu kind=%s\\n\", offsetof({0}, {1}), sizeof(((({0} *)0)->{1})), KIND(((({0} *)0)->{1})));\n",
                    stringify!($ty),
                    stringify!($field).trim_start_matches("r#")
                ));)*
            )*
            c
        }
    };
}

layouts! {
    kerberus_str { data, len }
    kerberus_header { name, value }
    kerberus_outbound_request {
        struct_size, method, url, headers, header_count, body, body_len, connect_timeout_ms, timeout_ms,
        max_response_bytes, flags,
    }
    kerberus_outbound_response { struct_size, result, status, headers, header_count, body, error }
    kerberus_metric_spec { struct_size, r#type, name, help, label_names, label_count, buckets, bucket_count }
    kerberus_host_api {
        struct_size, abi_major, abi_minor, host_version,
        set_error,
        log, log_enabled,
        config_get_string, config_get_int, config_get_double, config_get_bool, config_json,
        route_add,
        request_method, request_path, request_raw_path, request_param, request_query, request_query_param,
        request_query_visit, request_header, request_header_visit, request_body, request_remote_address,
        response_header_add, respond,
        outbound_send, outbound_cancel,
        respond_error,
        route_describe,
        request_id,
        metric_family, metric_series, metric_add, metric_set, metric_observe,
        response_start, response_write, response_end, response_abort, outbound_stream, outbound_resume,
        route_set_flags, request_body_stream, request_body_resume, outbound_body_write, outbound_body_end,
        request_caller,
    }
    kerberus_outbound_stream_fns { struct_size, on_head, on_body, on_body_writable }
    kerberus_body_fns { struct_size, on_data, on_end }
    kerberus_plugin_descriptor { struct_size, abi_major, abi_minor, id, version, description, init, stop, destroy, health, config_schema }
}

macro_rules! constants {
    ($($name:ident),* $(,)?) => {
        fn rust_constant_lines() -> Vec<String> {
            vec![$(format!("const {} {}", stringify!($name), sys::$name as i64)),*]
        }

        fn c_constant_statements() -> String {
            let mut c = String::new();
            $(c.push_str(&format!("    printf(\"const {0} %lld\\n\", (long long)({0}));\n", stringify!($name)));)*
            c
        }
    };
}

constants! {
    KERBERUS_ABI_MAJOR, KERBERUS_ABI_MINOR,
    KERBERUS_OK, KERBERUS_ASYNC, KERBERUS_ERR_INVALID, KERBERUS_ERR_NOT_FOUND, KERBERUS_ERR_WRONG_TYPE,
    KERBERUS_ERR_CONFLICT, KERBERUS_ERR_STATE, KERBERUS_ERR_EXPIRED, KERBERUS_ERR_TOO_LARGE, KERBERUS_ERR_INTERNAL,
    KERBERUS_ERR_UNREACHABLE, KERBERUS_ERR_TIMEOUT, KERBERUS_ERR_CANCELLED, KERBERUS_BUSY, KERBERUS_ERR_CLOSED,
    KERBERUS_STREAM_WRITABLE, KERBERUS_STREAM_CLOSED,
    KERBERUS_LOG_TRACE, KERBERUS_LOG_DEBUG, KERBERUS_LOG_INFO, KERBERUS_LOG_WARN, KERBERUS_LOG_ERROR,
    KERBERUS_LOG_CRITICAL,
    KERBERUS_OUTBOUND_INSECURE_TLS, KERBERUS_OUTBOUND_STREAMED_BODY, KERBERUS_OUTBOUND_UPGRADE, KERBERUS_ROUTE_STREAMED_BODY,
    KERBERUS_ROUTE_PUBLIC,
    KERBERUS_METRIC_COUNTER, KERBERUS_METRIC_GAUGE, KERBERUS_METRIC_HISTOGRAM,
}

fn include_dir() -> PathBuf {
    match std::env::var_os("KERBERUS_INCLUDE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../include"),
    }
}

/// What the C compiler makes of the header.
fn c_lines() -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("kerberus-abi-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("layout.c");
    let program = dir.join("layout");
    std::fs::write(
        &source,
        format!(
            "#include <stddef.h>\n#include <stdio.h>\n#include <kerberus/plugin.h>\n\n\
             #define KIND(x) _Generic((x), \\\n\
             \x20   signed char: \"int\", short: \"int\", int: \"int\", long: \"int\", long long: \"int\", \\\n\
             \x20   unsigned char: \"uint\", unsigned short: \"uint\", unsigned int: \"uint\", unsigned long: \"uint\", \\\n\
             \x20   unsigned long long: \"uint\", float: \"float\", double: \"float\", default: \"other\")\n\n\
             int main(void)\n{{\n{}{}    printf(\"const KERBERUS_PLUGIN_ENTRY_SYMBOL %s\\n\", KERBERUS_PLUGIN_ENTRY_SYMBOL);\n    return 0;\n}}\n",
            c_struct_statements(),
            c_constant_statements()
        ),
    )
    .unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let compiled = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Werror", "-I"])
        .arg(include_dir())
        .arg("-o")
        .arg(&program)
        .arg(&source)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler '{}' (set CC): {}", cc, e));
    assert!(
        compiled.status.success(),
        "{} could not compile the layout program {}:\n{}",
        cc,
        source.display(),
        String::from_utf8_lossy(&compiled.stderr)
    );
    let ran = Command::new(&program).output().unwrap();
    assert!(ran.status.success());
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8(ran.stdout).unwrap().lines().map(str::to_string).collect()
}

#[test]
fn sys_matches_plugin_h() {
    let mut rust = rust_struct_lines();
    rust.extend(rust_constant_lines());
    rust.push(format!("const KERBERUS_PLUGIN_ENTRY_SYMBOL {}", sys::KERBERUS_PLUGIN_ENTRY_SYMBOL));
    let c = c_lines();
    assert_eq!(c.len(), rust.len(), "the C program printed another number of lines:\n{}", c.join("\n"));
    let rust_set: BTreeSet<&String> = rust.iter().collect();
    let c_set: BTreeSet<&String> = c.iter().collect();
    let only_rust: Vec<_> = rust_set.difference(&c_set).collect();
    let only_c: Vec<_> = c_set.difference(&rust_set).collect();
    assert!(
        only_rust.is_empty() && only_c.is_empty(),
        "sys.rs has drifted from plugin.h\n  Rust says: {:#?}\n  C says:    {:#?}",
        only_rust,
        only_c
    );
}

#[test]
fn host_has_compares_the_field_end_with_the_tables_size() {
    let mut table = MaybeUninit::<sys::kerberus_host_api>::zeroed();
    // SAFETY: all-zero is a valid table: sizes 0 and NULL pointers (None).
    let table = unsafe {
        (*table.as_mut_ptr()).struct_size = 0;
        table.assume_init()
    };
    let mut minor_0 = table;
    // ABI 1.0 ended with respond.
    minor_0.struct_size = {
        let base = &table as *const sys::kerberus_host_api as usize;
        &table.respond as *const _ as usize - base + size_of::<*const u8>()
    };
    assert!(kerberus_plugin::host_has!(&minor_0, respond));
    assert!(!kerberus_plugin::host_has!(&minor_0, outbound_send));
    let mut whole = table;
    whole.struct_size = size_of::<sys::kerberus_host_api>();
    assert!(kerberus_plugin::host_has!(&whole, metric_observe));
    assert!(!kerberus_plugin::host_has!(std::ptr::null(), set_error));
}
