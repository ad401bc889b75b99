package documents

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vire-dev/vire/sdk"
)

// FieldError says what is wrong with one input field. Field is a JSON path
// such as "target_allocation" or "universe[2]".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every problem found in an input. It matches
// sdk.ErrInvalidArgument with errors.Is.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Unwrap makes a ValidationError an sdk.ErrInvalidArgument.
func (e *ValidationError) Unwrap() error { return sdk.ErrInvalidArgument }

// ErrConflict is matched by every ConflictError.
var ErrConflict = errors.New("conflict")

// Conflict codes.
const (
	// CodeInvalidTransition: a plan item's status cannot move as asked.
	CodeInvalidTransition = "invalid_transition"
	// CodeDuplicate: an equivalent open plan item already exists.
	CodeDuplicate = "duplicate"
	// CodeLimit: the document already holds as many items as it may.
	CodeLimit = "limit_reached"
	// CodeDeletedVersion: the version asked for records a deletion.
	CodeDeletedVersion = "deleted_version"
)

// ConflictError: the request is well-formed but clashes with the current
// state (HTTP 409). It matches ErrConflict with errors.Is.
type ConflictError struct {
	Code    string
	Message string
	// Details, optional, is safe to show to the caller.
	Details any
}

func (e *ConflictError) Error() string { return e.Message }

// Is makes a ConflictError match ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// fieldErrs collects field errors while validating.
type fieldErrs []FieldError

func (f *fieldErrs) add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (f fieldErrs) err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: f}
}

func notFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), sdk.ErrNotFound)
}

func precondition(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), sdk.ErrPrecondition)
}
