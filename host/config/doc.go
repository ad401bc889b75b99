// Package config loads Vire's HCL configuration: it evaluates variables,
// locals and functions, decodes the host's own blocks, keeps each plugin
// block's body until the plugin's schema is known, and reports every mistake
// as a diagnostic naming file:line:col. Sensitive values are tracked with
// marks and never appear in diagnostics, snippets, String/GoString or JSON.
//
// # Files
//
// A configuration is one file, or a directory whose *.hcl files (except
// hidden ones) are read in name order and merged as if they were one. A
// block or attribute allowed once may appear once across all the files.
// Without -config, vire-server uses the built-in configs/personal.hcl.
//
// Relative paths in plugin_dir, plugin.path, file() and abspath() are
// resolved against the configuration's directory (the working directory for
// the built-in default). Plugins are started in that directory too; even so,
// write paths a plugin needs as abspath("...").
//
// # Blocks
//
//	server {                               # optional
//	  listen                    = "127.0.0.1:8080" # host:port; port 0 picks a free one
//	  log_level                 = "info"           # trace, debug, info, warn, error
//	  log_format                = "text"           # text or json
//	  shutdown_timeout          = "15s"            # how long requests may drain on SIGTERM
//	  allow_remote_without_auth = false            # allow auth mode "none" on a non-loopback listen
//	}
//
//	storage "<plugin>" { ... }             # exactly one: where data lives (a BlobStore)
//	keys "<plugin>" { ... }                # optional: no keys block = encryption off
//	source "<plugin>" "<name>" { ... }     # any number, names unique: market data, portfolios
//	cache "<plugin>" { ... }               # optional: a BlobStore used as a shared cache
//
// The attributes inside storage, keys, source and cache are the plugin's own:
// each plugin declares them (name, type, required, default, sensitive) and
// `vire-plugin-<name> describe` prints them. Types are string, number, bool,
// list(string) and map(string). Plugin names are lower-case letters, digits,
// '-' and '_'; the binary is vire-plugin-<plugin> in plugin_dir unless a
// plugin block says otherwise.
//
//	auth {                                 # optional
//	  mode              = "none"           # none, or api_key: every request needs an API key
//	  rate_limit        = 600              # requests a minute per API key; 0 = unlimited
//	  rate_burst        = 60               # requests allowed at once above the rate (at least 1)
//	  scope_rate_limits = { write = 120 }  # per-scope budgets; default: none
//	}
//
// With mode "none" the server must listen on a loopback address unless
// allow_remote_without_auth is true.
//
// scope_rate_limits maps a scope (read, write or admin: the scope a request
// needs) to requests a minute per API key, a whole number; 0 means requests
// needing that scope are unlimited. Requests needing a listed scope count
// against that scope's own budget for the key and not against rate_limit;
// every other request counts against rate_limit. A scope's burst is
// min(rate_burst, its rate).
//
//	plugin "<name>" {                      # optional, one per plugin name
//	  path   = "/opt/vire/vire-plugin-s3"  # the binary; default plugin_dir/vire-plugin-<name>
//	  sha256 = "<64 hex digits>"           # pin: the binary must have this digest to start
//	  env    = ["AWS_REGION"]              # environment variables passed to the plugin
//	}
//
//	plugin_dir = "./bin/plugins"           # where vire-plugin-* binaries are found
//
// A plugin gets no environment variables from the server except those its
// env list names. A plugin block that no component uses draws a warning.
//
// # Variables and locals
//
//	variable "<name>" {
//	  type        = string                 # a type constraint; default: any
//	  default     = env("NAME")            # optional; env() is allowed only here
//	  sensitive   = true                   # hide the value everywhere; default false
//	  description = "..."
//	}
//
//	locals {
//	  bucket = "vire-${var.stage}"         # refer to it as local.bucket
//	}
//
// A variable's value is, from lowest to highest precedence: its default, the
// environment variable VIRE_VAR_<name> (exact case, or else upper case), and
// -var <name>=<value>. Values from the environment and -var are strings
// converted to the variable's type: numbers and bools as written, lists,
// maps and objects in HCL syntax such as ["a", "b"] or { k = "v" }. A
// variable with no default and no value is an error, and so is -var for an
// undeclared variable. type, sensitive and description must be literals;
// a default may call functions and use path.config but not other variables.
// Locals may refer to variables and to each other, in any order, without
// cycles; there may be several locals blocks.
//
// # Expressions
//
// References: var.<name>, local.<name>, path.config (the configuration's
// directory). Functions:
//
//   - numbers: abs, ceil, floor, max, min, parseint
//   - strings: chomp, format, formatlist, indent, join, lower, regex,
//     regexall, replace, split, substr, title, trim, trimprefix, trimspace,
//     trimsuffix, upper
//   - collections: coalesce, coalescelist, compact, concat, contains,
//     distinct, element, flatten, keys, length, lookup, merge, range,
//     reverse, slice, sort, values, zipmap
//   - conversion and encoding: tobool, tolist, tomap, tonumber, toset,
//     tostring, base64decode, base64encode, csvdecode, jsondecode, jsonencode
//   - control: can, try
//   - Vire: abspath(path) makes a path absolute against the configuration's
//     directory; file(path) reads a UTF-8 file (at most 4 MiB) relative to
//     it; env(name) reads an environment variable, "" when unset, only in a
//     variable's default; sensitive(value) marks a value sensitive.
//
// coalesce returns its first argument that is neither null nor "", so
// coalesce(var.region, "us-east-1") falls back when env() found nothing.
//
// # Sensitive values
//
// A value is sensitive when it comes from a variable with sensitive = true
// or from sensitive(), when it is computed from a sensitive value, or when
// it is set on a plugin attribute the plugin declares sensitive. Sensitive
// values are passed to the plugin but never printed: diagnostics about them
// omit the values of the expressions involved, a diagnostic about an
// attribute whose source spells out a literal secret omits the source
// snippet, and any secret text left in a message is replaced by
// "(sensitive)". Keep secrets out of files: give them through VIRE_VAR_*,
// -var or an env() default.
//
// # Diagnostics
//
// Load and LoadBytes parse and evaluate everything except the plugin bodies;
// DecodeComponents decodes those against each plugin's schema (through a
// SchemaSource the server provides) and applies the schema's defaults;
// ConfigureDiagnostics points a plugin's sdk.ConfigErrors at the offending
// attributes. WriteDiagnostics renders diagnostics as text with snippets and
// DiagnosticsJSON in the shape of `terraform validate -json`. Format
// rewrites a file in canonical layout for `vire-server fmt`.
package config
