package documents

import "encoding/json"

// Opt is one field of a merge patch (RFC 7396): absent (the zero Opt) keeps
// the current value, Null clears it, and a value replaces it. It decodes from
// JSON so that a patch struct tells the three apart.
type Opt[T any] struct {
	Present bool // the field was given
	Null    bool // it was given as null: clear the value
	Value   T    // the new value when Present and not Null
}

// Some is a patch field that sets v.
func Some[T any](v T) Opt[T] { return Opt[T]{Present: true, Value: v} }

// Null is a patch field that clears the value.
func Null[T any]() Opt[T] { return Opt[T]{Present: true, Null: true} }

// UnmarshalJSON records that the field was present, and whether it was null.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	*o = Opt[T]{Present: true}
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// MarshalJSON writes the value, or null for a null field. An absent field
// is the zero Opt: tag patch fields `omitzero` so that it is left out, and
// a patch encodes to the JSON it was decoded from.
func (o Opt[T]) MarshalJSON() ([]byte, error) {
	if !o.Present || o.Null {
		return []byte("null"), nil
	}
	return json.Marshal(o.Value)
}

// setValue applies a patch field to a plain value: null gives the zero value.
func setValue[T any](dst *T, o Opt[T]) {
	switch {
	case !o.Present:
	case o.Null:
		var zero T
		*dst = zero
	default:
		*dst = o.Value
	}
}

// setPtr applies a patch field to an optional value.
func setPtr[T any](dst **T, o Opt[T]) {
	switch {
	case !o.Present:
	case o.Null:
		*dst = nil
	default:
		v := o.Value
		*dst = &v
	}
}
