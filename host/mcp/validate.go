package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// argValidator checks a tool's arguments against its input schema before
// the tool runs. mcp-go can do the same (server.WithInputSchemaValidation),
// but it skips a schema it cannot compile and reports failures in the
// validator's internal notation; here a schema must compile when the tool
// is registered, and every failure names the argument and what to send.
type argValidator struct {
	tool   string
	schema *jsonschema.Schema
	props  []string
	print  *message.Printer
}

func compileArgs(tool string, schema json.RawMessage) (*argValidator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, err
	}
	url := "mem:///tools/" + tool + ".json"
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, err
	}
	var shape struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(schema, &shape); err != nil {
		return nil, err
	}
	v := &argValidator{tool: tool, schema: sch, print: message.NewPrinter(language.English)}
	for p := range shape.Properties {
		v.props = append(v.props, p)
	}
	sort.Strings(v.props)
	return v, nil
}

// check returns "" when args fit the schema, else what is wrong with them.
func (v *argValidator) check(args any) string {
	var inst any
	var err error
	switch a := args.(type) {
	case nil:
		inst = map[string]any{}
	case json.RawMessage:
		if len(bytes.TrimSpace(a)) == 0 {
			inst = map[string]any{}
		} else {
			inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(a))
		}
	default:
		var b []byte
		if b, err = json.Marshal(a); err == nil {
			inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(b))
		}
	}
	if err != nil {
		return fmt.Sprintf("the arguments of %s are not valid JSON: %v", v.tool, err)
	}
	err = v.schema.Validate(inst)
	if err == nil {
		return ""
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Sprintf("the arguments of %s could not be checked: %v", v.tool, err)
	}
	var problems []string
	unknown := false
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		where := "the arguments"
		if len(e.InstanceLocation) > 0 {
			where = "argument " + strings.Join(e.InstanceLocation, "/")
		}
		switch k := e.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			if len(e.InstanceLocation) == 0 {
				unknown = true
				problems = append(problems, "unknown argument "+quoteAll(k.Properties))
				return
			}
		case *kind.Required:
			if len(e.InstanceLocation) == 0 {
				problems = append(problems, "missing required argument "+quoteAll(k.Missing))
				return
			}
		}
		problems = append(problems, where+": "+strings.ReplaceAll(e.ErrorKind.LocalizedString(v.print), "<nil>", "null"))
	}
	walk(ve)
	problems = slices.Compact(problems)
	msg := fmt.Sprintf("invalid arguments for %s; fix them and call it again:\n- %s", v.tool, strings.Join(problems, "\n- "))
	if unknown {
		msg += fmt.Sprintf("\n%s takes only: %s", v.tool, strings.Join(v.props, ", "))
	}
	return msg
}

func quoteAll(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
