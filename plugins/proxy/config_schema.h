// The proxy's settings as a JSON Schema (draft-04): the host checks
// plugins.proxy.config against it before init, at --check and on reload,
// and names file:line:col and the key path of whatever does not fit. What a
// schema cannot say — a URL that parses, a regular expression that
// compiles, header names given twice, a duration's range — endpoint_config
// still checks.
#pragma once

namespace proxy {

inline constexpr const char* kConfigSchema = R"json({
  "type": "object",
  "properties": {
    "endpoints": {
      "description": "Proxy endpoints by path, as Backstage's proxy.endpoints: /api/proxy/<path>/... goes to the endpoint's target.",
      "type": ["object", "null"],
      "additionalProperties": {
          "description": "The target URL, or the endpoint's settings (keys start with '/').",
          "type": ["string", "object"],
          "required": ["target"],
          "additionalProperties": false,
          "properties": {
            "target": {"type": "string", "description": "http:// or https:// URL the rest of the path is appended to"},
            "changeOrigin": {"type": "boolean", "description": "send the target's host as Host (default true)"},
            "pathRewrite": {
              "type": "object",
              "description": "regular expression -> replacement, over the whole request path; the first that matches applies",
              "additionalProperties": {"type": "string"}
            },
            "headers": {
              "type": "object",
              "description": "headers sent upstream; often credentials",
              "additionalProperties": {"type": ["string", "integer"]},
              "visibility": "secret"
            },
            "allowedMethods": {
              "type": "array", "minItems": 1,
              "items": {"type": "string", "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"}
            },
            "allowedHeaders": {
              "type": "array", "minItems": 1,
              "items": {"type": "string", "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"}
            },
            "credentials": {"enum": ["require", "forward", "dangerously-allow-unauthenticated"]},
            "timeout": {"type": ["string", "integer"], "description": "250ms, 10s, 2m; a number counts seconds"},
            "maxResponseSize": {"type": ["string", "integer"], "description": "largest upstream body relayed, such as 512KiB or 10MiB; no limit when absent"},
            "ws": {"type": "boolean", "description": "tunnel WebSocket upgrades to the target (http:// targets); a tunnel closes after `timeout` without a byte either way"}
          }
      }
    }
  },
  "additionalProperties": false
})json";

}  // namespace proxy
