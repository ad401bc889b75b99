package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EnvVarPrefix starts the environment variable that sets a variable:
// VIRE_VAR_<name>, or VIRE_VAR_<NAME> in upper case.
const EnvVarPrefix = "VIRE_VAR_"

// evaluator holds variables and locals and builds the evaluation context
// every other expression is evaluated in.
type evaluator struct {
	dir     string
	lookup  func(string) (string, bool)
	secrets *secretSet

	varDecls map[string]*variableBlock
	vars     map[string]cty.Value

	localDecls map[string]*hcl.Attribute
	localOrder []string
	locals     map[string]cty.Value
	localState map[string]int

	// undeclared names that expressions refer to; the static check reports
	// them, and they evaluate to unknown so no second error follows.
	undeclaredVars   map[string]bool
	undeclaredLocals map[string]bool

	ctx *hcl.EvalContext
}

func newEvaluator(dir string, opts LoadOptions, secrets *secretSet) *evaluator {
	return &evaluator{
		dir:              dir,
		lookup:           opts.lookup,
		secrets:          secrets,
		varDecls:         map[string]*variableBlock{},
		vars:             map[string]cty.Value{},
		localDecls:       map[string]*hcl.Attribute{},
		locals:           map[string]cty.Value{},
		localState:       map[string]int{},
		undeclaredVars:   map[string]bool{},
		undeclaredLocals: map[string]bool{},
	}
}

func (ev *evaluator) pathObject() cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"config": cty.StringVal(ev.dir)})
}

// defaultsContext is where variable defaults are evaluated: functions,
// including env(), and path, but no other variables.
func (ev *evaluator) defaultsContext() *hcl.EvalContext {
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{"path": ev.pathObject()},
		Functions: ev.functions(true),
	}
}

func (ev *evaluator) declareVariables(blocks []*variableBlock, opts LoadOptions) hcl.Diagnostics {
	var diags hcl.Diagnostics
	defaults := ev.defaultsContext()
	for _, b := range blocks {
		if !hclsyntax.ValidIdentifier(b.Name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid variable name",
				Detail:   fmt.Sprintf("%q is not a valid variable name: use letters, digits, '_' and '-', starting with a letter.", b.Name),
				Subject:  b.NameRange.Ptr(),
			})
			continue
		}
		if first, ok := ev.varDecls[b.Name]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate variable declaration",
				Detail:   fmt.Sprintf("A variable named %q is already declared at %s.", b.Name, where(first.DeclRange)),
				Subject:  b.DeclRange.Ptr(),
			})
			continue
		}
		ev.varDecls[b.Name] = b
		diags = append(diags, ev.resolveVariable(b, defaults, opts)...)
	}
	names := make([]string, 0, len(opts.Vars))
	for name := range opts.Vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := ev.varDecls[name]; !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("A value was given for the variable %q with -var, but no variable %q block declares it.", name, name),
			})
		}
	}
	return diags
}

func (ev *evaluator) resolveVariable(b *variableBlock, defaults *hcl.EvalContext, opts LoadOptions) hcl.Diagnostics {
	var diags hcl.Diagnostics
	ty := cty.DynamicPseudoType
	if b.Type != nil {
		t, td := typeexpr.TypeConstraint(b.Type.Expr)
		diags = append(diags, td...)
		if !td.HasErrors() {
			ty = t
		}
	}
	sensitive := false
	if b.Sensitive != nil {
		v, d := literalBool(b.Sensitive)
		diags = append(diags, d...)
		sensitive = v
	}
	if b.Description != nil {
		diags = append(diags, literalString(b.Description)...)
	}
	if sensitive && b.Default != nil && mayHoldLiteral(b.Default.Expr) {
		// A literal default would show in a snippet; keep its source hidden.
		ev.secrets.addRange(b.Default.Expr.Range())
	}

	var (
		val   cty.Value
		isSet bool
	)
	if b.Default != nil {
		dv, dd := b.Default.Expr.Value(defaults)
		if sensitive {
			dv = dv.Mark(sensitiveMark)
			// The default may read a secret from the environment; errors
			// about it must not describe the value.
			hideValueDetails(dd)
		}
		diags = append(diags, dd...)
		if !dd.HasErrors() {
			cv, err := convert.Convert(dv, ty)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   fmt.Sprintf("The default of variable %q does not match its type %s: %s.", b.Name, typeexpr.TypeString(ty), err),
					Subject:  b.Default.Expr.Range().Ptr(),
				})
			} else {
				val, isSet = cv, true
			}
		}
	}
	if raw, from, ok := ev.inputFor(b.Name, opts); ok {
		iv, err := parseInput(raw, ty)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("The value given for variable %q by %s is not a valid %s: %s.", b.Name, from, typeexpr.TypeString(ty), err),
				Subject:  b.DeclRange.Ptr(),
			})
			isSet = false
		} else {
			val, isSet = iv, true
		}
	}
	if !isSet {
		if !diags.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No value for required variable",
				Detail: fmt.Sprintf("The variable %q has no default and no value was given. Set it with -var %s=VALUE or the environment variable %s%s.",
					b.Name, b.Name, EnvVarPrefix, b.Name),
				Subject: b.DeclRange.Ptr(),
			})
		}
		val = cty.UnknownVal(ty)
	}
	if sensitive {
		val = val.Mark(sensitiveMark)
	}
	ev.secrets.collect(val, false)
	ev.vars[b.Name] = val
	return diags
}

// inputFor returns the value given for a variable from outside the files:
// -var first, then VIRE_VAR_<name>, then VIRE_VAR_<NAME>.
func (ev *evaluator) inputFor(name string, opts LoadOptions) (raw, from string, ok bool) {
	if v, ok := opts.Vars[name]; ok {
		return v, "-var", true
	}
	for _, env := range []string{EnvVarPrefix + name, EnvVarPrefix + strings.ToUpper(name)} {
		if v, ok := ev.lookup(env); ok {
			return v, "the environment variable " + env, true
		}
	}
	return "", "", false
}

// parseInput converts a string given on the command line or in the
// environment to the variable's type. Strings, numbers and bools are taken
// as they are; lists, maps and objects are written as HCL, e.g. ["a", "b"].
// Errors never quote the input, which may be a secret.
func parseInput(raw string, ty cty.Type) (cty.Value, error) {
	if ty == cty.DynamicPseudoType || ty.IsPrimitiveType() {
		v, err := convert.Convert(cty.StringVal(raw), ty)
		if err != nil {
			return cty.NilVal, err
		}
		return v, nil
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), "input", hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("it is not an HCL literal such as [\"a\", \"b\"] or {key = \"value\"} (%s)", diags[0].Summary)
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("it must be a literal value (%s)", diags[0].Summary)
	}
	v, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NilVal, err
	}
	return v, nil
}

func literalBool(a *hcl.Attribute) (bool, hcl.Diagnostics) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return false, diags
	}
	v, err := convert.Convert(v, cty.Bool)
	if err != nil || v.IsNull() || !v.IsKnown() {
		return false, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value",
			Detail:   fmt.Sprintf("%q must be true or false.", a.Name),
			Subject:  a.Expr.Range().Ptr(),
		}}
	}
	return v.True(), nil
}

func literalString(a *hcl.Attribute) hcl.Diagnostics {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return diags
	}
	if _, err := convert.Convert(v, cty.String); err != nil || v.IsNull() {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value",
			Detail:   fmt.Sprintf("%q must be a string.", a.Name),
			Subject:  a.Expr.Range().Ptr(),
		}}
	}
	return nil
}

func (ev *evaluator) declareLocals(attrs []*hcl.Attribute) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, a := range attrs {
		if first, ok := ev.localDecls[a.Name]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate local value",
				Detail:   fmt.Sprintf("A local value named %q is already defined at %s.", a.Name, where(first.Range)),
				Subject:  a.NameRange.Ptr(),
			})
			continue
		}
		ev.localDecls[a.Name] = a
		ev.localOrder = append(ev.localOrder, a.Name)
	}
	return diags
}

const (
	unvisited = iota
	visiting
	done
)

func (ev *evaluator) evalLocals() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range ev.localOrder {
		diags = append(diags, ev.evalLocal(name, nil)...)
	}
	return diags
}

func (ev *evaluator) evalLocal(name string, path []string) hcl.Diagnostics {
	switch ev.localState[name] {
	case done:
		return nil
	case visiting:
		cycle := append(append([]string{}, path...), name)
		for i := range cycle {
			cycle[i] = "local." + cycle[i]
		}
		a := ev.localDecls[name]
		ev.locals[name] = cty.DynamicVal
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cycle in local values",
			Detail:   fmt.Sprintf("local.%s depends on itself: %s.", name, strings.Join(cycle, " → ")),
			Subject:  a.NameRange.Ptr(),
		}}
	}
	ev.localState[name] = visiting
	a := ev.localDecls[name]
	var diags hcl.Diagnostics
	for _, t := range a.Expr.Variables() {
		if dep, ok := refName(t, "local"); ok {
			if _, declared := ev.localDecls[dep]; declared {
				diags = append(diags, ev.evalLocal(dep, append(path, name))...)
			}
		}
	}
	v, vd := a.Expr.Value(ev.context())
	diags = append(diags, vd...)
	if vd.HasErrors() {
		v = cty.DynamicVal
	}
	ev.secrets.collect(v, false)
	ev.locals[name] = v
	ev.localState[name] = done
	return diags
}

// refName returns the attribute a traversal names under the given root,
// e.g. "x" for var.x or var["x"].
func refName(t hcl.Traversal, root string) (string, bool) {
	if len(t) < 2 || t.RootName() != root {
		return "", false
	}
	switch step := t[1].(type) {
	case hcl.TraverseAttr:
		return step.Name, true
	case hcl.TraverseIndex:
		if k := step.Key; k.Type() == cty.String && k.IsKnown() && !k.IsNull() && !k.IsMarked() {
			return k.AsString(), true
		}
	}
	return "", false
}

// context returns an evaluation context holding the variables and the
// locals evaluated so far.
func (ev *evaluator) context() *hcl.EvalContext {
	vars := make(map[string]cty.Value, len(ev.vars)+len(ev.undeclaredVars))
	for k, v := range ev.vars {
		vars[k] = v
	}
	for k := range ev.undeclaredVars {
		vars[k] = cty.DynamicVal
	}
	locals := make(map[string]cty.Value, len(ev.localDecls)+len(ev.undeclaredLocals))
	for k := range ev.localDecls {
		if v, ok := ev.locals[k]; ok && ev.localState[k] == done {
			locals[k] = v
		} else {
			locals[k] = cty.DynamicVal
		}
	}
	for k := range ev.undeclaredLocals {
		locals[k] = cty.DynamicVal
	}
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":   cty.ObjectVal(vars),
			"local": cty.ObjectVal(locals),
			"path":  ev.pathObject(),
		},
		Functions: ev.functions(false),
	}
}

func (ev *evaluator) buildContext() { ev.ctx = ev.context() }
