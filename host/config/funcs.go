package config

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions returns the function table. env() reads the environment only
// where allowEnv is set (variable defaults); elsewhere a static check has
// already reported the call, and the stand-in returns an empty string so no
// second error follows.
func (ev *evaluator) functions(allowEnv bool) map[string]function.Function {
	fs := map[string]function.Function{
		// numbers
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc,
		// strings
		"chomp":      stdlib.ChompFunc,
		"format":     stdlib.FormatFunc,
		"formatlist": stdlib.FormatListFunc,
		"indent":     stdlib.IndentFunc,
		"join":       stdlib.JoinFunc,
		"lower":      stdlib.LowerFunc,
		"regex":      stdlib.RegexFunc,
		"regexall":   stdlib.RegexAllFunc,
		"replace":    stdlib.ReplaceFunc,
		"split":      stdlib.SplitFunc,
		"substr":     stdlib.SubstrFunc,
		"title":      stdlib.TitleFunc,
		"trim":       stdlib.TrimFunc,
		"trimprefix": stdlib.TrimPrefixFunc,
		"trimspace":  stdlib.TrimSpaceFunc,
		"trimsuffix": stdlib.TrimSuffixFunc,
		"upper":      stdlib.UpperFunc,
		// collections
		"coalesce":     coalesceFunc,
		"coalescelist": stdlib.CoalesceListFunc,
		"compact":      stdlib.CompactFunc,
		"concat":       stdlib.ConcatFunc,
		"contains":     stdlib.ContainsFunc,
		"distinct":     stdlib.DistinctFunc,
		"element":      stdlib.ElementFunc,
		"flatten":      stdlib.FlattenFunc,
		"keys":         stdlib.KeysFunc,
		"length":       stdlib.LengthFunc,
		"lookup":       stdlib.LookupFunc,
		"merge":        stdlib.MergeFunc,
		"range":        stdlib.RangeFunc,
		"reverse":      stdlib.ReverseListFunc,
		"slice":        stdlib.SliceFunc,
		"sort":         stdlib.SortFunc,
		"values":       stdlib.ValuesFunc,
		"zipmap":       stdlib.ZipmapFunc,
		// conversion and encoding
		"tobool":       stdlib.MakeToFunc(cty.Bool),
		"tolist":       stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":        stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":     stdlib.MakeToFunc(cty.Number),
		"toset":        stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":     stdlib.MakeToFunc(cty.String),
		"base64decode": base64DecodeFunc,
		"base64encode": base64EncodeFunc,
		"csvdecode":    stdlib.CSVDecodeFunc,
		"jsondecode":   stdlib.JSONDecodeFunc,
		"jsonencode":   stdlib.JSONEncodeFunc,
		// control
		"can": tryfunc.CanFunc,
		"try": tryfunc.TryFunc,
		// Vire
		"abspath":   ev.abspathFunc(),
		"file":      ev.fileFunc(),
		"sensitive": sensitiveFunc,
	}
	if allowEnv {
		fs["env"] = ev.envFunc()
	} else {
		fs["env"] = envStandIn
	}
	return fs
}

// resolve makes a path argument absolute against the configuration's
// directory; the argument is the function's first.
func (ev *evaluator) resolve(p string) (string, error) {
	if p == "" {
		return "", function.NewArgErrorf(0, "the path must not be empty")
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(ev.dir, p)
	}
	return p, nil
}

func (ev *evaluator) fileFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Reads a UTF-8 text file; a relative path is resolved against the configuration's directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p, err := ev.resolve(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			src, err := readLimited(p)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return cty.NilVal, function.NewArgErrorf(0, "no file exists at %s", p)
				}
				return cty.NilVal, function.NewArgErrorf(0, "cannot read %s: %s", p, pathError(err))
			}
			if !utf8.Valid(src) {
				return cty.NilVal, function.NewArgErrorf(0, "%s is not UTF-8 text", p)
			}
			return cty.StringVal(string(src)), nil
		},
	})
}

func (ev *evaluator) abspathFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Makes a path absolute, resolving a relative one against the configuration's directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p, err := ev.resolve(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(filepath.Clean(p)), nil
		},
	})
}

func (ev *evaluator) envFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns an environment variable's value, or an empty string when it is unset.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			if name == "" {
				return cty.NilVal, function.NewArgErrorf(0, "the variable name must not be empty")
			}
			v, _ := ev.lookup(name)
			return cty.StringVal(v), nil
		},
	})
}

var envStandIn = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "name", Type: cty.String, AllowNull: true, AllowUnknown: true, AllowMarked: true}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
		return cty.StringVal(""), nil
	},
})

var sensitiveFunc = function.New(&function.Spec{
	Description: "Marks a value as sensitive, so it never appears in output.",
	Params: []function.Parameter{{
		Name: "value", Type: cty.DynamicPseudoType,
		AllowNull: true, AllowUnknown: true, AllowDynamicType: true, AllowMarked: true,
	}},
	Type: func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return args[0].Mark(sensitiveMark), nil
	},
})

// coalesceFunc returns its first argument that is neither null nor an
// empty string, so coalesce(var.from_env, "fallback") works with env(),
// which yields "" for an unset variable.
var coalesceFunc = function.New(&function.Spec{
	Description: "Returns the first argument that is neither null nor an empty string.",
	VarParam: &function.Parameter{
		Name: "vals", Type: cty.DynamicPseudoType,
		AllowUnknown: true, AllowDynamicType: true, AllowNull: true, AllowMarked: true,
	},
	Type: func(args []cty.Value) (cty.Type, error) {
		types := make([]cty.Type, len(args))
		for i, a := range args {
			types[i] = a.Type()
		}
		ty, _ := convert.UnifyUnsafe(types)
		if ty == cty.NilType {
			return cty.NilType, errors.New("all arguments must have the same type")
		}
		return ty, nil
	},
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		// The result carries the marks of every argument looked at: that a
		// sensitive value was empty is itself a fact about it.
		var marks []cty.ValueMarks
		for _, a := range args {
			v, err := convert.Convert(a, retType)
			if err != nil {
				return cty.NilVal, err
			}
			u, m := v.Unmark()
			marks = append(marks, m)
			switch {
			case !u.IsKnown():
				return cty.UnknownVal(retType).WithMarks(marks...), nil
			case u.IsNull():
				continue
			case u.Type() == cty.String && u.AsString() == "":
				continue
			}
			return u.WithMarks(marks...), nil
		}
		return cty.NilVal, errors.New("no argument is both non-null and non-empty")
	},
})

var base64EncodeFunc = function.New(&function.Spec{
	Description: "Encodes a string's UTF-8 bytes as standard base64.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(args[0].AsString()))), nil
	},
})

var base64DecodeFunc = function.New(&function.Spec{
	Description: "Decodes standard base64 into a UTF-8 string.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		b, err := base64.StdEncoding.DecodeString(args[0].AsString())
		if err != nil {
			// The decoder's message quotes an offset only, never input.
			return cty.NilVal, function.NewArgErrorf(0, "not valid base64: %s", err)
		}
		if !utf8.Valid(b) {
			return cty.NilVal, function.NewArgErrorf(0, "the decoded bytes are not UTF-8 text")
		}
		return cty.StringVal(string(b)), nil
	},
})

// functionNames lists the functions available, for documentation tests.
func functionNames() []string {
	ev := &evaluator{}
	fs := ev.functions(true)
	out := make([]string, 0, len(fs))
	for name := range fs {
		out = append(out, name)
	}
	return out
}
