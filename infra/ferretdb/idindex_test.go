package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// plan returns SQLite's EXPLAIN QUERY PLAN details for q. EXPLAIN QUERY PLAN does not check the
// schema cookie, so a connection that has not started a transaction since another connection
// created an index shows the old plan: db has one connection, and a read refreshes its schema.
func plan(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	if _, err := db.Exec("SELECT count(*) FROM sqlite_master"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, detail)
	}
	return strings.Join(out, "; ")
}

// The statements FerretDB 1.24.2's SQLite backend runs by _id (internal/backends/sqlite/collection.go:
// Query with a pure {_id: <string|ObjectId>} filter, UpdateAll, DeleteAll) use our index, and
// FerretDB's own unique _id index (on `_ferretdb_sjson->"_id"`) serves none of them.
func TestIDIndexServesFerretDBStatements(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.sqlite")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE TABLE "_ferretdb_collections" (name TEXT NOT NULL UNIQUE, table_name TEXT NOT NULL UNIQUE, settings TEXT NOT NULL) STRICT`,
		`CREATE TABLE "commits_1234abcd" (_ferretdb_sjson TEXT NOT NULL CHECK(_ferretdb_sjson != '')) STRICT`,
		`CREATE UNIQUE INDEX "commits_1234abcd__id_" ON "commits_1234abcd" (_ferretdb_sjson->"_id")`,
		`CREATE TABLE "other" (x TEXT)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	statements := []string{
		`SELECT _ferretdb_sjson FROM "commits_1234abcd" WHERE _ferretdb_sjson->'$._id' = ?`,
		`UPDATE "commits_1234abcd" SET _ferretdb_sjson = ? WHERE _ferretdb_sjson->'$._id' = ?`,
		`DELETE FROM "commits_1234abcd" WHERE _ferretdb_sjson->'$._id' IN (?, ?)`,
	}
	args := [][]any{{`"t:1"`}, {`{}`, `"t:1"`}, {`"t:1"`, `"t:2"`}}
	for i, q := range statements {
		if p := plan(t, db, q, args[i]...); !strings.Contains(p, "SCAN commits_1234abcd") {
			t.Errorf("without our index, expected a scan for %s, got %q", q, p)
		}
	}

	created, err := ensureIDIndexes(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(created) != "[commits_1234abcd]" {
		t.Fatalf("created %v, want only the collection table", created)
	}
	for i, q := range statements {
		p := plan(t, db, q, args[i]...)
		if !strings.Contains(p, "USING INDEX keyward_sjson_id__commits_1234abcd") || strings.Contains(p, "SCAN") {
			t.Errorf("expected an index search for %s, got %q", q, p)
		}
	}

	if created, err = ensureIDIndexes(context.Background(), path); err != nil || len(created) != 0 {
		t.Fatalf("second pass: created %v, err %v; want nothing", created, err)
	}
}

// ensureIDIndexes never creates a database file (mode=rw).
func TestEnsureIDIndexesDoesNotCreateFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gone.sqlite")
	if _, err := ensureIDIndexes(context.Background(), path); err == nil {
		t.Fatal("expected an error for a missing file")
	}
	if m, _ := filepath.Glob(path + "*"); len(m) != 0 {
		t.Fatalf("created %v", m)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serve runs the wrapper's FerretDB on dir until the test ends (or stop is called).
func serve(t *testing.T, dir string, idIndex bool) (client *mongo.Client, stop func()) {
	t.Helper()
	addr := freeAddr(t)
	logger := slog.New(newQuietHandler(slog.NewTextHandler(io.Discard, nil), slog.LevelInfo))
	f, err := newServer(addr, dir, logger, idIndex, "normal")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = f.Run(ctx); close(done) }()

	client, err = mongo.Connect(context.Background(), options.Client().ApplyURI("mongodb://"+addr+"/").
		SetServerSelectionTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = client.Disconnect(context.Background())
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return client, stop
}

// explainID returns FerretDB's SQLite plan and filterPushdown for find {_id: id}.
func explainID(t *testing.T, c *mongo.Collection, filter bson.D) (string, bool) {
	t.Helper()
	var res struct {
		QueryPlanner struct {
			Plan []string `bson:"Plan"`
		} `bson:"queryPlanner"`
		FilterPushdown bool `bson:"filterPushdown"`
	}
	cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: c.Name()}, {Key: "filter", Value: filter}}}}
	if err := c.Database().RunCommand(context.Background(), cmd).Decode(&res); err != nil {
		t.Fatal(err)
	}
	return strings.Join(res.QueryPlanner.Plan, "; "), res.FilterPushdown
}

func expectIndexSearch(t *testing.T, c *mongo.Collection, when string) {
	t.Helper()
	p, pushdown := explainID(t, c, bson.D{{Key: "_id", Value: "t:1"}})
	if !pushdown || !strings.Contains(p, "USING INDEX "+idIndexPrefix) {
		t.Errorf("%s: find {_id} plan %q, pushdown %v; want a search using %s*", when, p, pushdown, idIndexPrefix)
	}
}

// The embedded FerretDB gets the index on every table the moment it creates it: a new collection
// (implicitly by an insert, or explicitly), after a collection drop, after a database drop, and
// for the tables already there at start. Nothing waits: the index exists when the command returns.
func TestEmbeddedFerretDBIndexesEveryTable(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()

	// Tables created while the index maintenance was off are indexed at the next start.
	client, stop := serve(t, dir, false)
	old := client.Database("old").Collection("commits")
	if _, err := old.InsertOne(ctx, bson.D{{Key: "_id", Value: "t:1"}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := explainID(t, old, bson.D{{Key: "_id", Value: "t:1"}}); !strings.Contains(p, "SCAN") {
		t.Fatalf("as shipped, find {_id} should scan; plan %q", p)
	}
	stop()

	client, _ = serve(t, dir, true)
	expectIndexSearch(t, client.Database("old").Collection("commits"), "existing table at start")

	db := client.Database("kw")
	c := db.Collection("commits")
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "t:1"}, {Key: "tenantId", Value: "t"}}); err != nil {
		t.Fatal(err)
	}
	expectIndexSearch(t, c, "implicit create by insert")

	if err := db.CreateCollection(ctx, "views"); err != nil {
		t.Fatal(err)
	}
	expectIndexSearch(t, db.Collection("views"), "explicit createCollection")

	if err := c.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "t:1"}}); err != nil {
		t.Fatal(err)
	}
	expectIndexSearch(t, c, "recreated after drop")

	if err := db.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "t:1"}}); err != nil {
		t.Fatal(err)
	}
	expectIndexSearch(t, c, "recreated after dropDatabase")

	// Only the pure _id filter is pushed down by FerretDB 1.24: anything else still scans.
	if p, pushdown := explainID(t, c, bson.D{{Key: "tenantId", Value: "t"}}); pushdown || !strings.Contains(p, "SCAN") {
		t.Errorf("find {tenantId}: plan %q, pushdown %v; want a scan", p, pushdown)
	}

	// Reads, updates and deletes by _id work as before.
	if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "t:1"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 2}}}}); err != nil {
		t.Fatal(err)
	}
	var got bson.M
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "t:1"}}).Decode(&got); err != nil || got["v"] != int32(2) {
		t.Fatalf("findOne after update: %v %v", got, err)
	}
	if r, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: "t:1"}}); err != nil || r.DeletedCount != 1 {
		t.Fatalf("deleteOne: %v %v", r, err)
	}
}

// Clients creating, dropping and recreating collections and databases at the same time: every
// command succeeds and every table ends up indexed (the hook runs under FerretDB's registry lock).
// Each worker has a database of its own: FerretDB 1.24 itself panics (nil pointer, connection
// closed) on an insert racing a dropDatabase of the same database, with or without the index.
func TestEmbeddedFerretDBIndexesUnderConcurrentDrops(t *testing.T) {
	client, _ := serve(t, t.TempDir(), true)
	ctx := context.Background()
	const workers, rounds = 6, 14 // the last rounds leave three collections per database
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			db := client.Database(fmt.Sprintf("db%d", w))
			for r := 0; r < rounds; r++ {
				c := db.Collection(fmt.Sprintf("c%d_%d", w, r%4))
				if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("t:%d", r)}}); err != nil {
					errs <- fmt.Errorf("worker %d round %d insert: %w", w, r, err)
					return
				}
				var err error
				switch r % 5 {
				case 3:
					err = c.Drop(ctx)
				case 4:
					err = db.Drop(ctx)
				}
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d drop: %w", w, r, err)
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for d := 0; d < workers; d++ {
		db := client.Database(fmt.Sprintf("db%d", d))
		names, err := db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		if len(names) != 3 {
			t.Fatalf("%s has collections %v, want 3", db.Name(), names)
		}
		for _, n := range names {
			expectIndexSearch(t, db.Collection(n), "after concurrent drops: "+db.Name()+"."+n)
		}
	}
}
