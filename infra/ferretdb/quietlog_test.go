package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// countingValuer counts how often the handler formats it.
type countingValuer struct{ n *int }

func (v countingValuer) LogValue() slog.Value {
	*v.n++
	return slog.StringValue("formatted")
}

func TestQuietHandlerDefersWithUntilARecordIsHandled(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(newQuietHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}), slog.LevelInfo))

	formatted := 0
	// What FerretDB's SQL layer does for every statement: With, then a record below the level.
	for i := 0; i < 100; i++ {
		logger.With(slog.Any("args", countingValuer{&formatted})).Debug(">>> INSERT")
	}
	if formatted != 0 || buf.Len() != 0 {
		t.Fatalf("attributes of dropped records were formatted %d times; output %q", formatted, buf.String())
	}

	// Records that are handled carry every attribute and group, in order.
	logger.With("a", 1).WithGroup("g").With("b", 2).With(slog.Any("c", countingValuer{&formatted})).Info("kept", "d", 3)
	if got, want := strings.TrimSpace(buf.String()), `level=INFO msg=kept a=1 g.b=2 g.c=formatted g.d=3`; !strings.HasSuffix(got, want) {
		t.Fatalf("got %q, want it to end with %q", got, want)
	}
	if formatted != 1 {
		t.Fatalf("formatted %d times, want 1", formatted)
	}
}

func TestQuietHandlerStillDemotesNoisyWarnings(t *testing.T) {
	var buf bytes.Buffer
	h := newQuietHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}), slog.LevelInfo)
	logger := slog.New(h).With("conn", "127.0.0.1:1234")
	logger.Warn("Response header: something")
	logger.Warn("Connection stopped", "error", "read: connection reset by peer")
	if buf.Len() != 0 {
		t.Fatalf("demoted records were written: %q", buf.String())
	}
	logger.Warn("Connection stopped", "error", "EOF")
	if !strings.Contains(buf.String(), `level=WARN msg="Connection stopped" conn=127.0.0.1:1234 error=EOF`) {
		t.Fatalf("unexpected output %q", buf.String())
	}
	if !h.Enabled(context.Background(), slog.LevelWarn) || h.Enabled(context.Background(), slog.LevelDebug) {
		t.Fatal("Enabled does not follow the wrapped handler")
	}
}
