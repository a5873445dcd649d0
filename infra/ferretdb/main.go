// Command keyward-ferretdb runs an embedded FerretDB v1 (MongoDB wire protocol)
// with the pure-Go SQLite backend, for local development and tests of Keyward.
//
// The upstream `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.x`
// binary panics at startup because build/version/version.txt is generated and
// not part of the module zip (FerretDB issue #2982). The embeddable package
// github.com/FerretDB/FerretDB/ferretdb does not need that file, so we wrap it.
//
// Flags (each falls back to an environment variable):
//
//	-listen    FERRETDB_LISTEN    TCP address, default 127.0.0.1:${MONGO_PORT:-27017}
//	-data-dir  FERRETDB_DATA_DIR  directory holding the SQLite files (created if missing)
//	-log-level FERRETDB_LOG_LEVEL debug|info|warn|error, default info
//
// It also keeps an SQLite index on the expression FerretDB looks _id up with, in every collection
// table (idindex.go); KEYWARD_FERRETDB_ID_INDEX=off disables that (for measurements).
//
// Logs go to stderr. The process runs until SIGINT or SIGTERM.
// Exit codes: 0 clean shutdown, 1 runtime/config error, 2 usage error, 98 address in use.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

const exitAddrInUse = 98

var errDataDirGone = errors.New("data directory disappeared; shutting down")

// watchDataDir cancels ctx with errDataDirGone when dir stops being a directory.
func watchDataDir(ctx context.Context, cancel context.CancelCauseFunc, dir string) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()

	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				slog.Error(errDataDirGone.Error(), slog.String("dir", dir))
				cancel(errDataDirGone)
				return
			}
		}
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func fatal(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "keyward-ferretdb: "+format+"\n", args...)
	os.Exit(code)
}

func isAddrInUse(err error) bool {
	return err != nil && (errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use"))
}

// sqliteURL is what FerretDB's SQLite backend wants: a `file:` URI of an existing directory ending with '/'.
func sqliteURL(dir string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir) + "/"}).String()
}

// newServer builds the embedded FerretDB over the SQLite files in dir. With idIndex, it first
// indexes _id in the tables already there, then in every table FerretDB creates (idindex.go).
func newServer(listen, dir string, logger *slog.Logger, idIndex bool, sync string) (*ferretdb.FerretDB, error) {
	if idIndex {
		if err := indexAllDatabases(context.Background(), dir, logger); err != nil {
			return nil, fmt.Errorf("indexing _id: %w", err)
		}
		logger = slog.New(newDDLHookHandler(logger.Handler(), onTableCreated(dir, logger)))
	}

	// Telemetry: the embeddable package never creates a telemetry reporter and
	// explicitly disables/locks telemetry state, so no network calls are made.
	return ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: withSync(sqliteURL(dir), sync),
	})
}

func main() {
	defaultListen := "127.0.0.1:" + envOr("MONGO_PORT", "27017")

	listen := flag.String("listen", envOr("FERRETDB_LISTEN", defaultListen), "TCP listen address (env FERRETDB_LISTEN)")
	dataDir := flag.String("data-dir", os.Getenv("FERRETDB_DATA_DIR"), "SQLite data directory (env FERRETDB_DATA_DIR)")
	logLevel := flag.String("log-level", envOr("FERRETDB_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env FERRETDB_LOG_LEVEL)")
	flag.Parse()

	if flag.NArg() != 0 {
		fatal(2, "unexpected arguments: %q", flag.Args())
	}
	if *dataDir == "" {
		fatal(2, "-data-dir (or FERRETDB_DATA_DIR) is required")
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fatal(2, "invalid -log-level %q: %v", *logLevel, err)
	}

	// Probe the address first so that "port taken" yields a clear message
	// (ferretdb.New flattens the underlying error into a string).
	probe, err := net.Listen("tcp", *listen)
	if err != nil {
		if isAddrInUse(err) {
			fatal(exitAddrInUse, "cannot listen on %s: address already in use (another process holds the port)", *listen)
		}
		fatal(1, "cannot listen on %s: %v", *listen, err)
	}
	_ = probe.Close()

	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		fatal(1, "cannot resolve data dir %q: %v", *dataDir, err)
	}
	if err = os.MkdirAll(dir, 0o700); err != nil {
		fatal(1, "cannot create data dir %q: %v", dir, err)
	}

	logger := slog.New(newQuietHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}), level))
	slog.SetDefault(logger)

	sync, err := sqliteSync()
	if err != nil {
		fatal(2, "%v", err)
	}

	f, err := newServer(*listen, dir, logger, idIndexEnabled(), sync)
	if err != nil {
		if isAddrInUse(err) {
			fatal(exitAddrInUse, "cannot listen on %s: address already in use (another process holds the port)", *listen)
		}
		fatal(1, "failed to start FerretDB: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// If the data directory is removed underneath us (e.g. `rm -rf .keyward` as a reset),
	// SQLite fails with confusing errors ("unable to open database file: out of memory (14)").
	// Exit instead, so that `ferretdb.sh status` reports down and `start` recreates everything.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go watchDataDir(ctx, cancel, dir)

	logger.Info("keyward-ferretdb started", slog.String("listen", *listen), slog.String("sqlite", sqliteURL(dir)),
		slog.Int("pid", os.Getpid()), slog.Bool("idIndex", idIndexEnabled()), slog.String("synchronous", sync))

	if err = f.Run(ctx); err != nil {
		fatal(1, "FerretDB stopped with error: %v", err)
	}

	if cause := context.Cause(ctx); errors.Is(cause, errDataDirGone) {
		fatal(1, "%v: %s", cause, dir)
	}

	logger.Info("keyward-ferretdb stopped")
}
