package main

import (
	"context"
	"log/slog"
	"strings"
)

// ddlHookHandler tells us, synchronously, when FerretDB's SQLite backend has created a table.
//
// FerretDB offers no callback for that, but it logs every SQL statement through the logger we give
// it (internal/util/fsql: `l.With(args..., error).Debug("<<< " + query)` after each statement, on
// a logger named "sqlite" and then after the database). This handler reports the DEBUG level as
// enabled for those database loggers only (so FerretDB builds those two records per statement,
// attributes unformatted; the wire-protocol dumps, guarded by their own loggers' Enabled, stay
// off), calls onCreate(database) after a successful `CREATE TABLE`, and passes a record on to the
// wrapped handler only if that handler wants its level.
//
// onCreate runs inside FerretDB's CREATE TABLE call, under its registry lock.
// idindex_test.go checks this against the embedded FerretDB, so an upgrade that changes the log
// shape fails the test instead of silently losing the index.
type ddlHookHandler struct {
	next     slog.Handler
	onCreate func(db string)

	sqlite bool   // a `name=sqlite` attribute was seen (FerretDB's SQLite backend logger)
	db     string // the `name` attribute after it: a database's statement logger
	ok     bool   // this statement logger carries `error=<nil>`
}

func newDDLHookHandler(next slog.Handler, onCreate func(db string)) *ddlHookHandler {
	return &ddlHookHandler{next: next, onCreate: onCreate}
}

func (h *ddlHookHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level) || (h.db != "" && level == slog.LevelDebug)
}

func (h *ddlHookHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.db != "" && h.ok && strings.HasPrefix(r.Message, "<<< CREATE TABLE ") {
		h.onCreate(h.db)
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *ddlHookHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	for _, a := range attrs {
		switch a.Key {
		case "name":
			if a.Value.Kind() != slog.KindString {
				continue
			}
			switch {
			case !c.sqlite && a.Value.String() == "sqlite":
				c.sqlite = true
			case c.sqlite && c.db == "":
				c.db = a.Value.String()
			}
		case "error":
			c.ok = a.Value.Kind() == slog.KindString && a.Value.String() == "<nil>"
		}
	}
	return &c
}

func (h *ddlHookHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}
