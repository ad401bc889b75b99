package api

import (
	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/host/tenant"
)

// JSON Schema (2020-12, as OpenAPI 3.1 uses it) of every request and
// response body. TestOpenAPISchemasMatchTypes checks the property names
// against the Go types' JSON fields.

type schema = map[string]any

func ref(name string) schema { return schema{"$ref": "#/components/schemas/" + name} }

func object(required []string, props schema) schema {
	s := schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func typed(t, desc string) schema {
	s := schema{"type": t}
	if desc != "" {
		s["description"] = desc
	}
	return s
}

// orNull lets a schema also be null.
func orNull(s schema) schema {
	if t, ok := s["type"].(string); ok {
		c := schema{}
		for k, v := range s {
			c[k] = v
		}
		c["type"] = []string{t, "null"}
		return c
	}
	return schema{"oneOf": []any{s, schema{"type": "null"}}}
}

func enumOf[S ~string](desc string, values []S) schema {
	l := make([]string, len(values))
	for i, v := range values {
		l[i] = string(v)
	}
	return schema{"type": "string", "enum": l, "description": desc}
}

func arrayOf(items schema, desc string) schema {
	return schema{"type": "array", "items": items, "description": desc}
}

func percent(desc string, exclusiveZero bool) schema {
	s := schema{"type": "number", "maximum": 100, "description": desc}
	if exclusiveZero {
		s["exclusiveMinimum"] = 0
	} else {
		s["minimum"] = 0
	}
	return s
}

func dateTime(desc string) schema {
	return schema{"type": "string", "format": "date-time", "description": desc}
}

const (
	tickerDesc = "CODE.EXCHANGE, upper case, e.g. BHP.AU"
	priceDesc  = "A positive price in the instrument's currency"
)

// withNullable makes every property of an object schema nullable and
// optional: the shape of a merge patch.
func asPatch(s schema, desc string) schema {
	props := schema{}
	for k, v := range s["properties"].(schema) {
		props[k] = orNull(v.(schema))
	}
	p := object(nil, props)
	p["description"] = desc
	return p
}

func schemas() schema {
	strategyProps := schema{
		"universe":          arrayOf(typed("string", "Exchange code, e.g. AU"), "Exchanges the portfolio invests on"),
		"allowed_sectors":   arrayOf(typed("string", ""), "Sectors the portfolio may hold"),
		"excluded_sectors":  arrayOf(typed("string", ""), "Sectors the portfolio must not hold; none may also be allowed"),
		"max_position_pct":  orNull(percent("Largest share of one holding, in percent; at most max_sector_pct", true)),
		"max_sector_pct":    orNull(percent("Largest share of one sector, in percent", true)),
		"target_allocation": schema{"type": "object", "additionalProperties": percent("", false), "description": "Asset class or sector → target percent; the values sum to at most 100"},
		"risk_appetite":     schema{"type": "string", "enum": append(riskValues(), ""), "description": "Risk appetite; empty when unset"},
		"notes":             typed("string", "Free text, up to 20000 characters"),
	}
	strategy := object([]string{"universe", "allowed_sectors", "excluded_sectors", "max_position_pct", "max_sector_pct", "target_allocation", "risk_appetite", "notes"}, strategyProps)
	strategyPatch := asPatch(strategy, "A JSON merge patch of a strategy. In target_allocation a null value removes that key.")
	strategyPatch["properties"].(schema)["target_allocation"] = orNull(schema{"type": "object", "additionalProperties": orNull(percent("", false))})

	planItemProps := schema{
		"id":           typed("string", "Assigned by the server"),
		"action":       enumOf("What to do", documents.Actions),
		"ticker":       typed("string", tickerDesc),
		"target_price": orNull(schema{"type": "number", "exclusiveMinimum": 0, "description": priceDesc}),
		"target_date":  schema{"type": "string", "description": "YYYY-MM-DD, or empty", "pattern": `^(\d{4}-\d{2}-\d{2})?$`},
		"trigger":      typed("string", "What sets the item off, in words; up to 1000 characters"),
		"status":       enumOf("Where the item stands", documents.Statuses),
		"notes":        typed("string", "Up to 4000 characters"),
		"created_at":   dateTime("Set by the server"),
		"updated_at":   dateTime("Set by the server"),
	}
	planItem := object([]string{"id", "action", "ticker", "target_price", "target_date", "trigger", "status", "notes", "created_at", "updated_at"}, planItemProps)
	inputProps := schema{}
	for k, v := range planItemProps {
		if k != "id" && k != "created_at" && k != "updated_at" {
			inputProps[k] = v
		}
	}
	planItemInput := asPatch(object(nil, inputProps), "A new plan item (action and ticker required, and a target_price, target_date or trigger), or a merge patch of one. id, created_at and updated_at are refused.")

	watchProps := schema{
		"ticker":       typed("string", tickerDesc),
		"notes":        typed("string", "Up to 4000 characters"),
		"target_price": orNull(schema{"type": "number", "exclusiveMinimum": 0, "description": priceDesc}),
		"verdict":      schema{"type": "string", "enum": append(verdictValues(), ""), "description": "Current view; empty when unset"},
		"added_at":     dateTime("Set by the server"),
		"updated_at":   dateTime("Set by the server"),
	}
	watchItem := object([]string{"ticker", "notes", "target_price", "verdict", "added_at", "updated_at"}, watchProps)
	watchInput := asPatch(object(nil, schema{"notes": watchProps["notes"], "target_price": watchProps["target_price"], "verdict": watchProps["verdict"]}),
		"A merge patch of a watched ticker; the ticker comes from the path. ticker, added_at and updated_at are refused.")

	versionInfo := object([]string{"version", "time", "change"}, schema{
		"version":       schema{"type": "integer", "minimum": 1},
		"time":          dateTime("When the version was made"),
		"key_id":        typed("string", "Id of the API key that made it"),
		"change":        typed("string", "What it changed, e.g. \"update notes\", \"add item 3f2a…\", \"restore version 3\", \"delete\""),
		"deleted":       typed("boolean", "This version deleted the document"),
		"restored_from": schema{"type": "integer", "description": "The version a restore brought back"},
	})

	return schema{
		"Error": object([]string{"error"}, schema{"error": object([]string{"code", "message"}, schema{
			"code":    typed("string", "Stable, machine-readable: validation_failed, invalid_json, not_found, precondition_failed, invalid_transition, duplicate, …"),
			"message": typed("string", "What went wrong, for people"),
			"details": schema{"description": "For validation_failed, a list of FieldError; otherwise code-specific"},
		})}),
		"FieldError": object([]string{"field", "message"}, schema{
			"field":   typed("string", "JSON path of the field, e.g. target_allocation or universe[2]"),
			"message": typed("string", ""),
		}),
		"Health": object([]string{"status"}, schema{"status": typed("string", "ok"), "version": typed("string", "")}),
		"Ready": object([]string{"status"}, schema{
			"status":  typed("string", "ready"),
			"plugins": arrayOf(ref("PluginStatus"), ""),
		}),
		"Plugins": object([]string{"plugins"}, schema{"plugins": arrayOf(ref("PluginStatus"), "")}),
		"PluginStatus": object([]string{"name", "path", "version", "protocol_version", "kinds", "status", "restarts", "pinned"}, schema{
			"name": typed("string", ""), "role": typed("string", "e.g. storage \"file\""), "path": typed("string", ""),
			"version": typed("string", ""), "protocol_version": typed("integer", ""), "kinds": arrayOf(typed("string", ""), ""),
			"status": typed("string", ""), "restarts": typed("integer", ""), "pid": typed("integer", ""),
			"last_error": typed("string", ""), "pinned": typed("boolean", "The binary's sha256 is pinned"),
		}),
		"OpenAPIDocument": schema{"type": "object", "description": "An OpenAPI 3.1 document"},

		"Strategy":         strategy,
		"StrategyPatch":    strategyPatch,
		"StrategyDocument": docSchema("strategy", "Strategy"),
		"StrategyVersion":  versionSchema("strategy", "Strategy"),

		"PlanItem":      planItem,
		"PlanItemInput": planItemInput,
		"Plan": object([]string{"items"}, schema{
			"items": arrayOf(ref("PlanItem"), "In the order they were added"),
		}),
		"PlanDocument": docSchema("plan", "Plan"),
		"PlanVersion":  versionSchema("plan", "Plan"),

		"WatchItem":      watchItem,
		"WatchItemInput": watchInput,
		"Watchlist": object([]string{"items"}, schema{
			"items": arrayOf(ref("WatchItem"), "Sorted by ticker"),
		}),
		"WatchlistDocument": docSchema("watchlist", "Watchlist"),
		"WatchlistVersion":  versionSchema("watchlist", "Watchlist"),

		"VersionInfo": versionInfo,
		"History": object([]string{"portfolio", "current_version", "deleted", "limit", "versions"}, schema{
			"portfolio":       typed("string", ""),
			"current_version": schema{"type": "integer", "minimum": 1},
			"deleted":         typed("boolean", "The current version is a deletion"),
			"limit":           schema{"type": "integer", "description": "How many versions are kept; older ones are dropped"},
			"versions":        arrayOf(ref("VersionInfo"), "Newest first"),
		}),
		"Principal": object([]string{"tenant", "scopes"}, schema{
			"tenant": typed("string", "The tenant every request of this key acts for"),
			"key_id": typed("string", "Id of the API key; empty in personal mode"),
			"scopes": arrayOf(scopeSchema(), ""),
		}),
		"Tenant": object([]string{"id", "created", "status", "updated", "incarnation"}, schema{
			"id": typed("string", ""), "name": typed("string", ""),
			"created": dateTime(""), "updated": dateTime(""),
			"status":      typed("string", "active, suspended or deleting"),
			"incarnation": typed("string", "Tells a tenant apart from an earlier, deleted tenant of the same id"),
		}),
		"TenantList":   object([]string{"tenants"}, schema{"tenants": arrayOf(ref("Tenant"), "")}),
		"TenantCreate": object([]string{"id"}, schema{"id": typed("string", "Lowercase letters, digits, '-' and '_'"), "name": typed("string", "")}),
		"DeleteReport": object([]string{"tenant", "keys", "blobs"}, schema{
			"tenant": typed("string", ""), "keys": typed("integer", "API keys removed"), "blobs": typed("integer", "Stored blobs removed"),
		}),
		"Key": object([]string{"id", "tenant", "scopes", "created", "state"}, schema{
			"id": typed("string", ""), "tenant": typed("string", ""), "name": typed("string", ""),
			"scopes": arrayOf(scopeSchema(), ""), "created": dateTime(""),
			"expires": dateTime(""), "revoked": dateTime(""), "last_used": dateTime("Updated at most every few minutes"),
			"rotated_from": typed("string", ""), "rotated_to": typed("string", ""),
			"state": schema{"type": "string", "enum": []string{"active", "expired", "revoked"}},
		}),
		"KeyList": object([]string{"keys"}, schema{"keys": arrayOf(ref("Key"), "")}),
		"KeyCreate": object(nil, schema{
			"name":       typed("string", "A label for people"),
			"scopes":     arrayOf(scopeSchema(), "read and write when left out"),
			"expires":    dateTime("When the key stops working"),
			"expires_in": typed("string", "A Go duration such as 720h, instead of expires"),
		}),
		"KeyRotate": object(nil, schema{"grace": typed("string", "A Go duration such as 24h after which the old key expires; it stays valid until revoked when left out")}),
		"NewKey": object([]string{"key", "info", "warning"}, schema{
			"key":     typed("string", "The API key itself, shown only in this response"),
			"info":    ref("Key"),
			"warning": typed("string", ""),
		}),

		"RestoreRequest": object([]string{"version"}, schema{"version": schema{"type": "integer", "minimum": 1, "description": "The version to bring back"}}),
	}
}

// metaProps are the version metadata every document response carries.
func metaProps() schema {
	return schema{
		"portfolio":  typed("string", ""),
		"version":    schema{"type": "integer", "minimum": 1, "description": "Current version number"},
		"updated_at": dateTime("When the current version was made"),
		"updated_by": typed("string", "Id of the API key that made it"),
	}
}

func docSchema(field, body string) schema {
	props := metaProps()
	props[field] = ref(body)
	return object([]string{"portfolio", "version", "updated_at", field}, props)
}

func versionSchema(field, body string) schema {
	return object([]string{"portfolio", "info", field}, schema{
		"portfolio": typed("string", ""),
		"info":      ref("VersionInfo"),
		field:       ref(body),
	})
}

func scopeSchema() schema { return enumOf("", tenant.AllScopes) }

func riskValues() []string {
	out := make([]string, len(documents.RiskAppetites))
	for i, r := range documents.RiskAppetites {
		out[i] = string(r)
	}
	return out
}

func verdictValues() []string {
	out := make([]string, len(documents.Verdicts))
	for i, v := range documents.Verdicts {
		out[i] = string(v)
	}
	return out
}
