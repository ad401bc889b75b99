package sdk

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
)

// AttrType is the type of a configuration attribute, spelled as in HCL.
type AttrType string

const (
	TypeString     AttrType = "string"
	TypeNumber     AttrType = "number"
	TypeBool       AttrType = "bool"
	TypeStringList AttrType = "list(string)"
	TypeStringMap  AttrType = "map(string)"
)

// Attribute declares one configuration attribute.
type Attribute struct {
	Name        string   `json:"name"`
	Type        AttrType `json:"type"`
	Required    bool     `json:"required,omitempty"`
	Default     any      `json:"default,omitempty"`
	Sensitive   bool     `json:"sensitive,omitempty"`
	Description string   `json:"description"`
}

// ConfigSchema is the configuration a component accepts.
type ConfigSchema struct {
	Attributes []Attribute `json:"attributes"`
}

// Attribute returns the named attribute.
func (s ConfigSchema) Attribute(name string) (Attribute, bool) {
	for _, a := range s.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

var attrName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Validate checks the schema itself, so a plugin author learns of a broken
// schema before an operator does.
func (s ConfigSchema) Validate() error {
	seen := map[string]bool{}
	for _, a := range s.Attributes {
		if !attrName.MatchString(a.Name) {
			return fmt.Errorf("schema: attribute name %q must match %s", a.Name, attrName)
		}
		if seen[a.Name] {
			return fmt.Errorf("schema: attribute %q declared twice", a.Name)
		}
		seen[a.Name] = true
		switch a.Type {
		case TypeString, TypeNumber, TypeBool, TypeStringList, TypeStringMap:
		default:
			return fmt.Errorf("schema: attribute %q has unknown type %q", a.Name, a.Type)
		}
		if a.Required && a.Default != nil {
			return fmt.Errorf("schema: attribute %q is required and has a default", a.Name)
		}
		if a.Default != nil {
			if err := checkType(a.Type, normalise(a.Default)); err != nil {
				return fmt.Errorf("schema: default of %q: %w", a.Name, err)
			}
		}
	}
	return nil
}

// Complete returns v with defaults filled in, after checking that every
// required attribute is present, that no unknown attribute is set and that
// every value has its declared type. Errors never quote a value.
func (s ConfigSchema) Complete(v ConfigValue) (ConfigValue, error) {
	out := ConfigValue{}
	var errs ConfigErrors
	for name, val := range v {
		a, ok := s.Attribute(name)
		if !ok {
			errs = append(errs, ConfigError{Attribute: name, Message: "unknown attribute"})
			continue
		}
		val = normalise(val)
		if val == nil {
			continue
		}
		if err := checkType(a.Type, val); err != nil {
			errs = append(errs, ConfigError{Attribute: name, Message: err.Error()})
			continue
		}
		out[name] = val
	}
	for _, a := range s.Attributes {
		if _, ok := out[a.Name]; ok {
			continue
		}
		if a.Required {
			errs = append(errs, ConfigError{Attribute: a.Name, Message: "required attribute is not set"})
		} else if a.Default != nil {
			out[a.Name] = normalise(a.Default)
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Attribute < errs[j].Attribute })
		return nil, errs
	}
	return out, nil
}

// Redact returns a copy of v in which every sensitive value is replaced, for
// display.
func (s ConfigSchema) Redact(v ConfigValue) ConfigValue {
	out := make(ConfigValue, len(v))
	for k, val := range v {
		if a, ok := s.Attribute(k); ok && a.Sensitive {
			out[k] = "(sensitive)"
			continue
		}
		out[k] = val
	}
	return out
}

// normalise turns a value into the shapes JSON decoding produces, so values
// built in Go and values received over the wire compare and type-check alike.
func normalise(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case uint32:
		return float64(x)
	case float32:
		return float64(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[k] = s
		}
		return out
	}
	return v
}

func checkType(t AttrType, v any) error {
	switch t {
	case TypeString:
		if _, ok := v.(string); ok {
			return nil
		}
	case TypeNumber:
		if f, ok := v.(float64); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return nil
		}
	case TypeBool:
		if _, ok := v.(bool); ok {
			return nil
		}
	case TypeStringList:
		if l, ok := v.([]any); ok {
			for _, e := range l {
				if _, ok := e.(string); !ok {
					return fmt.Errorf("must be a list of strings")
				}
			}
			return nil
		}
	case TypeStringMap:
		if m, ok := v.(map[string]any); ok {
			for _, e := range m {
				if _, ok := e.(string); !ok {
					return fmt.Errorf("must be a map of strings")
				}
			}
			return nil
		}
	}
	return fmt.Errorf("must be of type %s", t)
}

// ConfigValue holds decoded configuration: attribute name to a JSON-shaped
// value (string, float64, bool, []any of strings, map[string]any of strings).
type ConfigValue map[string]any

// String returns a string attribute, or "" when unset.
func (c ConfigValue) String(name string) string {
	s, _ := c[name].(string)
	return s
}

// Bool returns a bool attribute, or false when unset.
func (c ConfigValue) Bool(name string) bool {
	b, _ := c[name].(bool)
	return b
}

// Number returns a number attribute, or 0 when unset.
func (c ConfigValue) Number(name string) float64 {
	switch x := normalise(c[name]).(type) {
	case float64:
		return x
	}
	return 0
}

// Int returns a number attribute truncated to an int, or 0 when unset.
func (c ConfigValue) Int(name string) int { return int(c.Number(name)) }

// Strings returns a list(string) attribute, or nil when unset.
func (c ConfigValue) Strings(name string) []string {
	l, _ := normalise(c[name]).([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// StringMap returns a map(string) attribute, or nil when unset.
func (c ConfigValue) StringMap(name string) map[string]string {
	m, _ := normalise(c[name]).(map[string]any)
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		if s, ok := e.(string); ok {
			out[k] = s
		}
	}
	return out
}

// Decode fills the struct pointed to by dst from the values, matching json
// tags to attribute names.
func (c ConfigValue) Decode(dst any) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}
