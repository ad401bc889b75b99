package mcp

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/vire-dev/vire/host/documents"
)

// optSchemas tells the schema generator what the merge-patch fields of the
// documents package look like on the wire: the value, or null to clear it.
// Tool arguments embed the patch types themselves, so what a tool accepts
// is exactly what the service applies.
func optSchemas() map[reflect.Type]*jsonschema.Schema {
	nullable := func(t string) *jsonschema.Schema { return &jsonschema.Schema{Types: []string{t, "null"}} }
	strings := func() *jsonschema.Schema {
		return &jsonschema.Schema{Types: []string{"array", "null"}, Items: &jsonschema.Schema{Type: "string"}}
	}
	return map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[documents.Opt[string]]():                 nullable("string"),
		reflect.TypeFor[documents.Opt[float64]]():                nullable("number"),
		reflect.TypeFor[documents.Opt[[]string]]():               strings(),
		reflect.TypeFor[documents.Opt[documents.RiskAppetite]](): nullable("string"),
		reflect.TypeFor[documents.Opt[documents.Action]]():       nullable("string"),
		reflect.TypeFor[documents.Opt[documents.Status]]():       nullable("string"),
		reflect.TypeFor[documents.Opt[documents.Verdict]]():      nullable("string"),
		reflect.TypeFor[documents.Opt[map[string]*float64]](): {
			Types:                []string{"object", "null"},
			AdditionalProperties: nullable("number"),
		},
	}
}

// prop adjusts one property of a generated schema.
type prop struct {
	desc     string
	enum     []string
	min, max *float64
	minLen   *int
	minItems *int
	maxItems *int
	// notNull drops "null" from the property's types: the argument may be
	// left out but, when given, must have a value.
	notNull bool
}

func num(v float64) *float64 { return &v }
func count(v int) *int       { return &v }

// inputSchema derives the JSON schema of a tool's arguments from T (a
// struct; unknown properties are refused) and applies props to it. Every
// property must be described in props: a model chooses its arguments by
// these descriptions. required names properties the schema requires besides
// those T requires (fields without omitempty or omitzero).
func inputSchema[T any](props map[string]prop, required ...string) (json.RawMessage, error) {
	s, err := jsonschema.For[T](&jsonschema.ForOptions{TypeSchemas: optSchemas()})
	if err != nil {
		return nil, err
	}
	if s.Type != "object" {
		return nil, fmt.Errorf("arguments of type %T: want a struct", *new(T))
	}
	for name := range props {
		if _, ok := s.Properties[name]; !ok {
			return nil, fmt.Errorf("arguments of type %T have no property %q", *new(T), name)
		}
	}
	for _, name := range required {
		if _, ok := s.Properties[name]; !ok {
			return nil, fmt.Errorf("arguments of type %T have no property %q to require", *new(T), name)
		}
		if !slices.Contains(s.Required, name) {
			s.Required = append(s.Required, name)
		}
	}
	for name, ps := range s.Properties {
		p, ok := props[name]
		if !ok || p.desc == "" {
			return nil, fmt.Errorf("arguments of type %T: property %q has no description", *new(T), name)
		}
		ps.Description = p.desc
		target := ps
		if ps.Type == "array" || slices.Contains(ps.Types, "array") {
			if p.minItems != nil || p.maxItems != nil {
				ps.MinItems, ps.MaxItems = p.minItems, p.maxItems
			}
			if ps.Items != nil && len(p.enum) > 0 {
				target = ps.Items
			}
		}
		if p.notNull {
			ps.Types = slices.DeleteFunc(slices.Clone(ps.Types), func(t string) bool { return t == "null" })
			if len(ps.Types) == 1 {
				ps.Type, ps.Types = ps.Types[0], nil
			}
		}
		if len(p.enum) > 0 {
			target.Enum = make([]any, len(p.enum))
			for i, v := range p.enum {
				target.Enum[i] = v
			}
			if slices.Contains(target.Types, "null") {
				// JSON Schema's enum is checked after type: null must be
				// listed to stay allowed.
				target.Enum = append(target.Enum, nil)
			}
		}
		if p.min != nil || p.max != nil {
			// A map's bounds hold for each of its values.
			if ps.AdditionalProperties != nil {
				target = ps.AdditionalProperties
			}
			target.Minimum, target.Maximum = p.min, p.max
		}
		if p.minLen != nil {
			ps.MinLength = p.minLen
		}
	}
	return json.Marshal(s)
}
