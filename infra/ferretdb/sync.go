package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// syncEnv chooses SQLite's `synchronous` setting for FerretDB's databases.
//
//   - normal (the default): in WAL mode, SQLite syncs the write-ahead log at each checkpoint, not at
//     each transaction. A committed write survives a crash or kill of any process (FerretDB, key-api,
//     the projector); an operating-system crash or power loss may roll back the last transactions
//     before the latest checkpoint, never corrupt the database. The local single-broker Kafka has the
//     same exposure (it leaves flushing to the page cache), so the local stack as a whole is
//     process-crash safe either way. A write costs ~0.1 ms instead of one fsync (~3 ms on the
//     development machines), and every command makes several.
//   - full: one fsync per transaction (power-loss durable on this store; each write waits for the disk).
//
// Production runs MongoDB (w: majority, journaled), which this setting does not touch.
const syncEnv = "KEYWARD_FERRETDB_SYNC"

// sqliteSync is the validated setting: "normal" or "full".
func sqliteSync() (string, error) {
	switch v := strings.ToLower(strings.TrimSpace(os.Getenv(syncEnv))); v {
	case "", "normal":
		return "normal", nil
	case "full":
		return "full", nil
	default:
		return "", fmt.Errorf("%s=%q: expected normal or full", syncEnv, v)
	}
}

// withSync adds the synchronous pragma to FerretDB's SQLite URL (FerretDB keeps pragmas it does not set itself).
func withSync(sqliteURL, sync string) string {
	q := url.Values{}
	q.Add("_pragma", "synchronous("+sync+")")
	return sqliteURL + "?" + q.Encode()
}
