package main

import (
	"context"
	"log/slog"
	"strings"
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
type quietHandler struct {
	slog.Handler
	min slog.Level
}

func newQuietHandler(h slog.Handler, min slog.Level) *quietHandler {
	return &quietHandler{Handler: h, min: min}
}

func (h *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn && demote(r) {
		if slog.LevelDebug < h.min {
			return nil
		}
		r.Level = slog.LevelDebug
	}

	return h.Handler.Handle(ctx, r)
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
	return &quietHandler{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{Handler: h.Handler.WithGroup(name), min: h.min}
}
