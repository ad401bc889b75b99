package sdk

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/vire-dev/vire/sdk/proto/pluginv1"
)

// remoteError is an error that crossed the plugin boundary. It keeps the
// plugin's message and matches the sdk kind it was sent with.
type remoteError struct {
	kind error
	msg  string
}

func (e *remoteError) Error() string        { return e.msg }
func (e *remoteError) Is(target error) bool { return target == e.kind }

// toStatus encodes err for the wire, keeping its kind.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, err.Error())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	kind := Kind(err)
	code := codes.Unknown
	switch kind {
	case ErrNotFound:
		code = codes.NotFound
	case ErrPrecondition:
		code = codes.FailedPrecondition
	case ErrUnauthorized:
		code = codes.Unauthenticated
	case ErrRateLimited, ErrQuotaExhausted:
		code = codes.ResourceExhausted
	case ErrUnsupported:
		code = codes.Unimplemented
	case ErrInvalidConfig, ErrInvalidArgument:
		code = codes.InvalidArgument
	case ErrUnavailable:
		code = codes.Unavailable
	case ErrIntegrity:
		code = codes.DataLoss
	}
	st := status.New(code, err.Error())
	if kind == nil {
		return st.Err()
	}
	info := &pb.ErrorInfo{Kind: kind.Error()}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		info.RetryAfterMs = rl.RetryAfter.Milliseconds()
	}
	var ce ConfigErrors
	if errors.As(err, &ce) {
		for _, c := range ce {
			info.ConfigErrors = append(info.ConfigErrors, &pb.ConfigError{Attribute: c.Attribute, Message: c.Message})
		}
	}
	if withInfo, derr := st.WithDetails(info); derr == nil {
		st = withInfo
	}
	return st.Err()
}

// fromStatus decodes an error received from the other side of the boundary.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	msg := st.Message()
	for _, d := range st.Details() {
		info, ok := d.(*pb.ErrorInfo)
		if !ok {
			continue
		}
		kind := KindByName(info.Kind)
		if kind == nil {
			break
		}
		switch {
		case kind == ErrRateLimited:
			return &RateLimitError{RetryAfter: time.Duration(info.RetryAfterMs) * time.Millisecond, Message: msg}
		case len(info.ConfigErrors) > 0:
			ce := make(ConfigErrors, 0, len(info.ConfigErrors))
			for _, c := range info.ConfigErrors {
				ce = append(ce, ConfigError{Attribute: c.Attribute, Message: c.Message})
			}
			return ce
		}
		return &remoteError{kind: kind, msg: msg}
	}
	switch st.Code() {
	case codes.Canceled:
		return &wireError{cause: context.Canceled, msg: msg}
	case codes.DeadlineExceeded:
		return &wireError{cause: context.DeadlineExceeded, msg: msg}
	case codes.Unavailable:
		// No ErrorInfo: the transport failed (the plugin may have died).
		return &wireError{cause: ErrUnavailable, msg: "plugin unreachable: " + msg, transport: true}
	}
	return errors.New(msg)
}

// wireError is a transport-level failure or a cancellation seen through gRPC.
type wireError struct {
	cause     error
	msg       string
	transport bool
}

func (e *wireError) Error() string        { return e.msg }
func (e *wireError) Is(target error) bool { return target == e.cause }

// IsTransportError reports whether err means the plugin could not be reached
// (as opposed to the plugin answering with an error). The host uses it to
// decide whether a plugin needs restarting.
func IsTransportError(err error) bool {
	var w *wireError
	return errors.As(err, &w) && w.transport
}
