package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// quietHandler demotes a few noisy upstream WARN records that are expected in normal use:
//
//   - "Response header: ..." for every failed command (the following "Response message"
//     record carries the useful part);
//   - the failed-command dump for `endSessions`, which FerretDB v1 does not implement and
//     which the Node.js driver sends on every MongoClient.close();
//   - "Connection stopped" with "connection reset by peer" (clients closing sockets abruptly).
//
// Demoted records are logged at DEBUG (i.e. dropped at the default info level).
// Every other record is passed through unchanged.
//
// It also defers Logger.With: FerretDB's SQL layer calls `l.With(slog.Any("args", args)).Debug(...)`
// twice for every statement, and slog's TextHandler formats (quotes) those attributes as soon as
// With is called, even when DEBUG is off; for an insert the args are the documents' JSON, so that
// was about a fifth of FerretDB's CPU on bulk inserts, plus the garbage. Here the attributes and
// groups are only kept, and applied to the wrapped handler when a record is actually handled (a
// LogValuer is therefore resolved then, not at With).
type quietHandler struct {
	base    slog.Handler
	min     slog.Level
	pending []withOp

	once     sync.Once
	resolved slog.Handler
}

// withOp is one deferred WithAttrs (attrs) or WithGroup (group) call.
type withOp struct {
	attrs []slog.Attr
	group string
}

func newQuietHandler(h slog.Handler, min slog.Level) *quietHandler {
	return &quietHandler{base: h, min: min}
}

func (h *quietHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.base.Enabled(ctx, level)
}

// handler is the wrapped handler with the deferred attributes and groups applied, in order.
func (h *quietHandler) handler() slog.Handler {
	h.once.Do(func() {
		out := h.base
		for _, op := range h.pending {
			if op.attrs != nil {
				out = out.WithAttrs(op.attrs)
			} else {
				out = out.WithGroup(op.group)
			}
		}
		h.resolved = out
	})

	return h.resolved
}

func (h *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn && demote(r) {
		if slog.LevelDebug < h.min {
			return nil
		}
		r.Level = slog.LevelDebug
	}

	return h.handler().Handle(ctx, r)
}

func demote(r slog.Record) bool {
	switch {
	case strings.HasPrefix(r.Message, "Response header: "):
		return true
	case strings.HasPrefix(r.Message, "Response message:"):
		return strings.Contains(r.Message, `no such command: 'endSessions'`)
	case r.Message == "Connection stopped":
		reset := false
		r.Attrs(func(a slog.Attr) bool {
			if strings.Contains(a.Value.String(), "connection reset by peer") {
				reset = true
				return false
			}
			return true
		})
		return reset
	}

	return false
}

func (h *quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}

	return h.with(withOp{attrs: append([]slog.Attr(nil), attrs...)})
}

func (h *quietHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}

	return h.with(withOp{group: name})
}

func (h *quietHandler) with(op withOp) *quietHandler {
	pending := make([]withOp, 0, len(h.pending)+1)
	pending = append(append(pending, h.pending...), op)

	return &quietHandler{base: h.base, min: h.min, pending: pending}
}
