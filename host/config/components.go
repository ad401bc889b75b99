package config

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/vire-dev/vire/sdk"
	"github.com/zclconf/go-cty/cty"
)

// DecodeComponents decodes every storage, keys, source and cache block
// against the schema its plugin declares, applies the schema's defaults and
// stores the result in each Component's Value. Errors point at the
// offending attribute or block.
func (c *Config) DecodeComponents(ctx context.Context, src SchemaSource) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, comp := range c.Components() {
		if comp.Body == nil || comp.invalid {
			continue
		}
		schema, err := src.Schema(ctx, comp.Kind, comp.Plugin)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Plugin not available",
				Detail:   fmt.Sprintf("The %s plugin %q cannot be used: %s.", comp.Kind, comp.Plugin, strings.TrimSuffix(err.Error(), ".")),
				Subject:  comp.LabelRange.Ptr(),
			})
			continue
		}
		if err := schema.Validate(); err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid plugin schema",
				Detail:   fmt.Sprintf("The %s plugin %q declares a configuration schema Vire cannot use (%s); this is a bug in the plugin.", comp.Kind, comp.Plugin, err),
				Subject:  comp.LabelRange.Ptr(),
			})
			continue
		}
		diags = append(diags, c.decodeComponent(comp, schema)...)
	}
	return c.sanitize(diags)
}

// Spec returns the hcldec specification of a plugin's schema. Required
// attributes are checked by hcldec; defaults are applied later by
// schema.Complete so they are the plugin's own.
func Spec(schema sdk.ConfigSchema) hcldec.ObjectSpec {
	spec := hcldec.ObjectSpec{}
	for _, a := range schema.Attributes {
		spec[a.Name] = &hcldec.AttrSpec{Name: a.Name, Type: ctyType(a.Type), Required: a.Required}
	}
	return spec
}

func ctyType(t sdk.AttrType) cty.Type {
	switch t {
	case sdk.TypeString:
		return cty.String
	case sdk.TypeNumber:
		return cty.Number
	case sdk.TypeBool:
		return cty.Bool
	case sdk.TypeStringList:
		return cty.List(cty.String)
	case sdk.TypeStringMap:
		return cty.Map(cty.String)
	}
	// Validate rejects any other type before a spec is built.
	return cty.DynamicPseudoType
}

func (c *Config) decodeComponent(comp *Component, schema sdk.ConfigSchema) hcl.Diagnostics {
	comp.Schema = schema
	comp.Value = nil
	comp.attrRanges = map[string]hcl.Range{}
	comp.sensitive = map[string]bool{}
	spec := Spec(schema)

	// Ranges first, so that every diagnostic below can be kept from
	// showing a sensitive attribute's source.
	if content, _, _ := comp.Body.PartialContent(hcldec.ImpliedSchema(spec)); content != nil {
		for name, a := range content.Attributes {
			comp.attrRanges[name] = a.Expr.Range()
			if at, ok := schema.Attribute(name); ok && at.Sensitive && mayHoldLiteral(a.Expr) {
				c.secrets.addRange(a.Expr.Range())
			}
		}
	}

	val, diags := hcldec.Decode(comp.Body, spec, c.eval.ctx)
	if val == cty.NilVal || !val.IsKnown() || val.IsNull() || !val.Type().IsObjectType() {
		return diags
	}
	out := sdk.ConfigValue{}
	incomplete := diags.HasErrors() || c.loadErrors
	for _, a := range schema.Attributes {
		if !val.Type().HasAttribute(a.Name) {
			continue
		}
		av, paths := val.GetAttr(a.Name).UnmarkDeepWithPaths()
		if len(paths) > 0 {
			comp.sensitive[a.Name] = true
		}
		if a.Sensitive || len(paths) > 0 {
			c.secrets.collect(av, true)
		}
		if !av.IsWhollyKnown() {
			incomplete = true
			continue
		}
		if av.IsNull() {
			continue
		}
		jv, err := jsonShape(av)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid attribute value",
				Detail:   fmt.Sprintf("The attribute %q %s.", a.Name, err),
				Subject:  comp.AttrRange(a.Name).Ptr(),
			})
			incomplete = true
			continue
		}
		out[a.Name] = jv
	}
	if incomplete {
		return diags
	}
	done, err := schema.Complete(out)
	if err != nil {
		return append(diags, c.configErrorDiags(comp, err, "")...)
	}
	comp.Value = done
	return diags
}

// jsonShape converts a known, unmarked value of one of the schema types to
// the JSON-shaped Go value sdk.ConfigValue holds.
func jsonShape(v cty.Value) (any, error) {
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString(), nil
	case ty == cty.Bool:
		return v.True(), nil
	case ty == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		if math.IsInf(f, 0) {
			return nil, errors.New("is a number too large to use")
		}
		return f, nil
	case ty.IsListType():
		out := make([]any, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				return nil, errors.New("must not contain null")
			}
			out = append(out, e.AsString())
		}
		return out, nil
	case ty.IsMapType():
		out := make(map[string]any, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if e.IsNull() {
				return nil, errors.New("must not contain null")
			}
			out[k.AsString()] = e.AsString()
		}
		return out, nil
	}
	return nil, fmt.Errorf("has an unsupported type %s", ty.FriendlyName())
}

// ConfigureDiagnostics turns the error a plugin's Configure returned into
// diagnostics: each sdk.ConfigError points at its attribute's value, or at
// the block when the attribute is not set or not named.
func (c *Config) ConfigureDiagnostics(comp *Component, err error) hcl.Diagnostics {
	if err == nil || comp == nil {
		return nil
	}
	return c.sanitize(c.configErrorDiags(comp, err, fmt.Sprintf("the %s plugin %q", comp.Kind, comp.Plugin)))
}

func (c *Config) configErrorDiags(comp *Component, err error, who string) hcl.Diagnostics {
	summary := fmt.Sprintf("Invalid %s configuration", comp.Kind)
	var ces sdk.ConfigErrors
	if !errors.As(err, &ces) {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Plugin configuration failed",
			Detail:   capitalise(fmt.Sprintf("%s could not be configured: %s.", who, strings.TrimSuffix(err.Error(), "."))),
			Subject:  comp.DeclRange.Ptr(),
		}}
	}
	var diags hcl.Diagnostics
	for _, ce := range ces {
		msg := strings.TrimSuffix(ce.Message, ".")
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Subject: comp.DeclRange.Ptr()}
		switch {
		case who == "":
			d.Detail = fmt.Sprintf("Attribute %q: %s.", ce.Attribute, msg)
			d.Subject = comp.AttrRange(ce.Attribute).Ptr()
		case ce.Attribute == "":
			d.Detail = capitalise(fmt.Sprintf("%s rejected the %s block: %s.", who, comp.Kind, msg))
		default:
			d.Detail = capitalise(fmt.Sprintf("%s rejected the attribute %q: %s.", who, ce.Attribute, msg))
			d.Subject = comp.AttrRange(ce.Attribute).Ptr()
		}
		diags = append(diags, d)
	}
	return diags
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
