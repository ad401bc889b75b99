package config

import (
	"context"
	"fmt"

	"github.com/vire-dev/vire/sdk"
)

// schemas is a SchemaSource over the schemas the bundled plugins declare,
// so tests decode blocks exactly as the server would.
type schemas map[string]sdk.ConfigSchema

func (s schemas) Schema(_ context.Context, kind sdk.ComponentKind, plugin string) (sdk.ConfigSchema, error) {
	sc, ok := s[plugin]
	if !ok {
		return sdk.ConfigSchema{}, fmt.Errorf("no plugin binary vire-plugin-%s in /opt/vire/plugins", plugin)
	}
	return sc, nil
}

func str(name, desc string) sdk.Attribute {
	return sdk.Attribute{Name: name, Type: sdk.TypeString, Description: desc}
}

func required(a sdk.Attribute) sdk.Attribute  { a.Required = true; return a }
func sensitive(a sdk.Attribute) sdk.Attribute { a.Sensitive = true; return a }
func def(a sdk.Attribute, v any) sdk.Attribute {
	a.Default = v
	return a
}

var fixtureSchemas = schemas{
	"file": {Attributes: []sdk.Attribute{
		required(str("root", "directory holding the data")),
		def(sdk.Attribute{Name: "versions", Type: sdk.TypeNumber, Description: "old versions kept"}, 5),
		def(sdk.Attribute{Name: "fsync", Type: sdk.TypeBool, Description: "fsync every write"}, true),
	}},
	"env": {Attributes: []sdk.Attribute{
		sensitive(required(str("master_key", "base64 master key"))),
		sensitive(sdk.Attribute{Name: "retired_keys", Type: sdk.TypeStringList, Description: "keys that still open old data"}),
	}},
	"s3": {Attributes: []sdk.Attribute{
		required(str("bucket", "bucket")),
		str("prefix", "key prefix"),
		str("region", "region"),
		str("endpoint", "endpoint"),
		def(sdk.Attribute{Name: "use_path_style", Type: sdk.TypeBool, Description: "path-style URLs"}, false),
		sensitive(str("access_key_id", "access key")),
		sensitive(str("secret_access_key", "secret key")),
	}},
	"gcs": {Attributes: []sdk.Attribute{
		required(str("bucket", "bucket")),
		str("prefix", "key prefix"),
		str("endpoint", "endpoint"),
		str("credentials_file", "service account JSON"),
	}},
	"redis": {Attributes: []sdk.Attribute{
		sensitive(required(str("url", "redis URL"))),
		str("prefix", "key prefix"),
		str("ttl", "expiry of every key"),
	}},
	"vault": {Attributes: []sdk.Attribute{
		required(str("address", "Vault address")),
		sensitive(required(str("token", "Vault token"))),
		def(str("mount", "transit mount"), "transit"),
		def(str("key_name", "key name"), "vire"),
	}},
	"eodhd": {Attributes: []sdk.Attribute{
		sensitive(required(str("api_key", "EODHD API key"))),
		def(str("base_url", "API base URL"), "https://eodhd.com/api"),
		{Name: "headers", Type: sdk.TypeStringMap, Description: "extra headers"},
	}},
	"sample": {Attributes: []sdk.Attribute{
		def(sdk.Attribute{Name: "seed", Type: sdk.TypeNumber, Description: "random seed"}, 1),
		str("as_of", "last date with data"),
	}},
}
