package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses (registers "sqlite")
)

// The _id index.
//
// FerretDB 1.24's SQLite backend looks documents up by _id with
//
//	WHERE _ferretdb_sjson->'$._id' = ?
//
// (internal/backends/sqlite/collection.go Query and UpdateAll; DeleteAll uses `IN (?, ...)`;
// metadata.IDColumn), but the unique index it creates for _id is on `_ferretdb_sjson->"_id"`,
// which SQLite's planner does not treat as the same expression. So every _id lookup, update and
// delete reads the whole table. We add an index on exactly the expression it queries, on every
// collection table (a table with a _ferretdb_sjson column) of every database:
//
//   - at start, before FerretDB opens the files (no concurrency), for the tables already there;
//   - when FerretDB creates a table (a collection is created, or recreated after a drop), from
//     inside FerretDB's own CREATE TABLE call (see ddlhook.go): FerretDB holds its registry lock
//     there, so no database drop can run while our short-lived connection is open, and the
//     index exists before the collection is visible to any client.
//
// FerretDB does not know about the index (listIndexes does not show it); SQLite maintains it and
// drops it with its table.

const (
	idIndexPrefix = "keyward_sjson_id__"
	idExpression  = `_ferretdb_sjson->'$._id'`
	dbExtension   = ".sqlite"
	// idIndexEnv disables the index maintenance (for measurements: `off`).
	idIndexEnv = "KEYWARD_FERRETDB_ID_INDEX"
)

func idIndexEnabled() bool {
	switch strings.ToLower(os.Getenv(idIndexEnv)) {
	case "off", "0", "false", "no":
		return false
	}
	return true
}

// idIndexName is our index's name for a table; FerretDB names its own indexes `<table>_<name>`.
func idIndexName(table string) string { return idIndexPrefix + table }

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// dbFileDSN is the DSN of an existing database file: mode=rw never creates one (a stray empty file
// would make FerretDB fail at its next start), and a busy timeout waits for FerretDB's writers.
func dbFileDSN(path string) string {
	u := url.URL{Scheme: "file", Opaque: filepath.ToSlash(path)}
	q := url.Values{}
	q.Set("mode", "rw")
	q.Add("_pragma", "busy_timeout(5000)")
	u.RawQuery = q.Encode()
	return u.String()
}

// ensureIDIndexes creates the missing _id indexes of one database file and returns the tables it
// indexed. The connection is closed before it returns.
func ensureIDIndexes(ctx context.Context, path string) ([]string, error) {
	db, err := sql.Open("sqlite", dbFileDSN(path))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	// Collection tables are the tables with FerretDB's document column (the metadata table
	// _ferretdb_collections has none); the new one may not be in _ferretdb_collections yet.
	rows, err := db.QueryContext(ctx, `
		SELECT t.name FROM sqlite_master t
		WHERE t.type = 'table'
		  AND EXISTS (SELECT 1 FROM pragma_table_info(t.name) c WHERE c.name = '_ferretdb_sjson')
		  AND NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.name = ?1 || t.name)`,
		idIndexPrefix)
	if err != nil {
		return nil, err
	}
	var missing []string
	for rows.Next() {
		var t string
		if err = rows.Scan(&t); err != nil {
			rows.Close()
			return nil, err
		}
		missing = append(missing, t)
	}
	rows.Close()
	if err = rows.Err(); err != nil {
		return nil, err
	}

	created := make([]string, 0, len(missing))
	for _, t := range missing {
		q := fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", quoteIdent(idIndexName(t)), quoteIdent(t), idExpression)
		if _, err = db.ExecContext(ctx, q); err != nil {
			return created, fmt.Errorf("%s: %w", t, err)
		}
		created = append(created, t)
	}
	return created, nil
}

// databaseFile is the file of a FerretDB database in dir, or "" for a name that is not one.
func databaseFile(dir, name string) string {
	if name == "" || name != filepath.Base(name) || strings.ContainsAny(name, `/\`) {
		return ""
	}
	return filepath.Join(dir, name+dbExtension)
}

// indexAllDatabases indexes every database file in dir; run before FerretDB opens them. A file it
// cannot index is logged and left as it is (FerretDB then scans its collections, as shipped).
func indexAllDatabases(ctx context.Context, dir string, l *slog.Logger) error {
	files, err := filepath.Glob(filepath.Join(dir, "*"+dbExtension))
	if err != nil {
		return err
	}
	for _, f := range files {
		start := time.Now()
		created, err := ensureIDIndexes(ctx, f)
		if err != nil {
			l.Warn("could not create the _id indexes (lookups by _id in its collections will scan them)",
				slog.String("file", filepath.Base(f)), slog.String("error", err.Error()))
			continue
		}
		if len(created) > 0 {
			l.Info("created _id indexes", slog.String("file", filepath.Base(f)), slog.Int("tables", len(created)),
				slog.Duration("took", time.Since(start)))
		}
	}
	return nil
}

// onTableCreated is the ddl hook: FerretDB just created a table in database dbName.
func onTableCreated(dir string, l *slog.Logger) func(dbName string) {
	return func(dbName string) {
		path := databaseFile(dir, dbName)
		if path == "" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		created, err := ensureIDIndexes(ctx, path)
		if err != nil {
			l.Warn("could not create the _id index (lookups by _id in this collection will scan it)",
				slog.String("db", dbName), slog.String("error", err.Error()))
			return
		}
		l.Debug("created _id indexes", slog.String("db", dbName), slog.Any("tables", created))
	}
}
