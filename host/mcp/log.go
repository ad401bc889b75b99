package mcp

import (
	"context"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// NewSlogLogger returns an slog.Logger that writes into l. mcp-go's
// transports log through slog; this puts their records in the one hclog
// log with its format and level.
func NewSlogLogger(l hclog.Logger) *slog.Logger { return slog.New(&hclogHandler{l: l}) }

type hclogHandler struct {
	l     hclog.Logger
	attrs []any
	group string
}

func level(l slog.Level) hclog.Level {
	switch {
	case l >= slog.LevelError:
		return hclog.Error
	case l >= slog.LevelWarn:
		return hclog.Warn
	case l >= slog.LevelInfo:
		return hclog.Info
	}
	return hclog.Debug
}

func (h *hclogHandler) Enabled(_ context.Context, l slog.Level) bool {
	return h.l.GetLevel() <= level(l)
}

func (h *hclogHandler) Handle(_ context.Context, r slog.Record) error {
	args := append([]any(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		args = append(args, h.key(a.Key), a.Value.Resolve().Any())
		return true
	})
	h.l.Log(level(r.Level), r.Message, args...)
	return nil
}

func (h *hclogHandler) key(k string) string {
	if h.group == "" {
		return k
	}
	return h.group + "." + k
}

func (h *hclogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &hclogHandler{l: h.l, group: h.group, attrs: append([]any(nil), h.attrs...)}
	for _, a := range as {
		n.attrs = append(n.attrs, h.key(a.Key), a.Value.Resolve().Any())
	}
	return n
}

func (h *hclogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &hclogHandler{l: h.l, attrs: h.attrs, group: h.key(name)}
}
