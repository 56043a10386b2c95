package projection

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	// The two backends: database/sql drivers "pgx" and "sqlite".
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// Store is a projection database.
type Store interface {
	// Next is the number of the next block to apply: every block before
	// it is applied, none after.
	Next(ctx context.Context) (uint64, error)
	// Apply writes the block's rows and moves the checkpoint past it, in
	// one SQL transaction. A block other than Next is refused.
	Apply(ctx context.Context, b *Block) error
	// Dump writes every table, rows in key order, one JSON object a line.
	Dump(ctx context.Context, w io.Writer) error
	Close() error
}

// Open opens the database named by url, "sqlite:PATH" or
// "postgres://...", and creates or migrates its tables.
func Open(ctx context.Context, url string) (Store, error) {
	return open(ctx, url, SchemaVersion)
}

// OpenReader opens the database named by url for reading, as reports do:
// it must exist and be at this release's schema version; it is never
// created or migrated (a migration empties it for a rebuild, which only
// `mtrace project` should start).
func OpenReader(ctx context.Context, url string) (*sql.DB, error) {
	driver, dsn, err := dataSource(url)
	if err != nil {
		return nil, err
	}
	if driver == "sqlite" {
		path := strings.TrimPrefix(url, "sqlite:")
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("database %s: %w (run mtrace project --db %s first)", url, err, url)
		}
		dsn += "&_pragma=query_only(1)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", redact(url), err)
	}
	var v int
	if err := db.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: not a projection (%w): run mtrace project --db URL first", redact(url), err)
	}
	if v != SchemaVersion {
		db.Close()
		return nil, fmt.Errorf("database %s: projection schema %d, this mtrace reads %d: run mtrace project --db URL to bring it up to date", redact(url), v, SchemaVersion)
	}
	return db, nil
}

func dataSource(url string) (driver, dsn string, err error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(url, "sqlite:")
		if path == "" {
			return "", "", errors.New("database sqlite: needs a file path, as in sqlite:projection.db")
		}
		// Wait for another process's transaction rather than fail; with
		// a write-ahead log, readers (reports, --dump) do not block the
		// projection, and FULL sync makes each committed block durable.
		return "sqlite", "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)", nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return "pgx", url, nil
	}
	return "", "", fmt.Errorf("database %q: want sqlite:PATH or postgres://...", redact(url))
}

// open opens url and migrates it to schema version v.
func open(ctx context.Context, url string, v int) (*sqlStore, error) {
	driver, dsn, err := dataSource(url)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", redact(url), err)
	}
	if driver == "sqlite" {
		// One connection: SQLite writes one transaction at a time anyway.
		db.SetMaxOpenConns(1)
	}
	s := &sqlStore{db: db, version: v}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", redact(url), err)
	}
	return s, nil
}

// redact hides the password of a database URL in messages.
func redact(url string) string {
	at := strings.LastIndex(url, "@")
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return url
	}
	user := url[scheme+3 : at]
	if i := strings.Index(user, ":"); i >= 0 {
		return url[:scheme+3] + user[:i] + ":xxxxx" + url[at:]
	}
	return url
}

// sqlStore is a Store over database/sql; both backends run the same
// statements.
type sqlStore struct {
	db *sql.DB
	// version is the schema version to migrate to: SchemaVersion but
	// in tests.
	version int
	// beforeRow, when set, runs before each row is written; an error
	// aborts the block's transaction (tests use it to crash mid-block).
	beforeRow func(i int) error
}

func (s *sqlStore) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	for {
		done, err := s.step(ctx)
		if err != nil || done {
			return err
		}
	}
}

// step runs the next migration in a transaction of its own, and reports
// whether the schema is current.
func (s *sqlStore) step(ctx context.Context) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var v int
	switch err := tx.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (0)"); err != nil {
			return false, err
		}
	case err != nil:
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if v == s.version {
		return true, tx.Commit()
	}
	if v > s.version {
		return false, fmt.Errorf("schema version %d is newer than this mtrace's (%d): upgrade mtrace", v, SchemaVersion)
	}
	for _, stmt := range migrations[v] {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("migrate schema %d to %d: %s: %w", v, v+1, stmt, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE schema_version SET version = $1", v+1); err != nil {
		return false, err
	}
	return false, tx.Commit()
}

func (s *sqlStore) Next(ctx context.Context) (uint64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT next_block FROM "+checkpointTable+" WHERE id = 1").Scan(&n); err != nil {
		return 0, fmt.Errorf("read checkpoint: %w", err)
	}
	return uint64(n), nil
}

func (s *sqlStore) Apply(ctx context.Context, b *Block) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Moving the checkpoint first, conditionally, both checks that the
	// block is the next one and locks the row against a second
	// projection process writing the same database.
	res, err := tx.ExecContext(ctx, "UPDATE "+checkpointTable+" SET next_block = $1 WHERE id = 1 AND next_block = $2", int64(b.Number+1), int64(b.Number))
	if err != nil {
		return fmt.Errorf("block %d: checkpoint: %w", b.Number, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		var next int64
		nerr := tx.QueryRowContext(ctx, "SELECT next_block FROM "+checkpointTable+" WHERE id = 1").Scan(&next)
		if nerr != nil || err != nil {
			return fmt.Errorf("block %d: checkpoint: %w", b.Number, errors.Join(err, nerr))
		}
		return fmt.Errorf("block %d is not the next block of the projection (%d)", b.Number, next)
	}
	rows, err := Rows(b, func(id string) (Prior, bool, error) {
		var p Prior
		var site sql.NullString
		var post, pre sql.NullInt64
		err := tx.QueryRowContext(ctx, "SELECT site, material, remaining_mass, post_ppm, pre_ppm FROM batches WHERE id = $1", id).
			Scan(&site, &p.Material, &p.Remaining, &post, &pre)
		if errors.Is(err, sql.ErrNoRows) {
			return p, false, nil
		}
		p.Site, p.PostPPM, p.PrePPM = site.String, post.Int64, pre.Int64
		return p, err == nil, err
	})
	if err != nil {
		return err
	}
	byName := map[string]*table{}
	for _, t := range tables {
		byName[t.name] = t
	}
	for i, r := range rows {
		if s.beforeRow != nil {
			if err := s.beforeRow(i); err != nil {
				return err
			}
		}
		t := byName[r.Table]
		if t == nil {
			return fmt.Errorf("block %d: no table %s", b.Number, r.Table)
		}
		stmt, args := t.write(), make([]any, 0, len(t.cols))
		names := t.cols
		if r.Delete {
			stmt, names = t.remove(), nil
			for _, k := range t.key {
				names = append(names, column{name: k})
			}
		}
		for _, c := range names {
			v, ok := r.Values[c.name]
			if !ok {
				return fmt.Errorf("block %d: row of %s has no %s", b.Number, t.name, c.name)
			}
			args = append(args, v)
		}
		if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
			return fmt.Errorf("block %d: write %s: %w", b.Number, t.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("block %d: commit: %w", b.Number, err)
	}
	return nil
}

// Dump writes the checkpoint, then every table's rows in key order, each
// as {"table": ..., "row": {column: value}}; equal projections dump the
// same bytes, whatever the backend.
func (s *sqlStore) Dump(ctx context.Context, w io.Writer) error {
	next, err := s.Next(ctx)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(map[string]any{"table": checkpointTable, "row": map[string]any{"next_block": next}}); err != nil {
		return err
	}
	for _, t := range tables {
		if err := s.dumpTable(ctx, t, enc); err != nil {
			return fmt.Errorf("dump %s: %w", t.name, err)
		}
	}
	return nil
}

func (s *sqlStore) dumpTable(ctx context.Context, t *table, enc *json.Encoder) error {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.name
	}
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(names, ", "), t.name, strings.Join(t.key, ", ")))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		dest := make([]any, len(t.cols))
		for i, c := range t.cols {
			if c.typ == bigint {
				dest[i] = new(sql.NullInt64)
			} else {
				dest[i] = new(sql.NullString)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		row := make(map[string]any, len(t.cols))
		for i, c := range t.cols {
			switch v := dest[i].(type) {
			case *sql.NullInt64:
				if v.Valid {
					row[c.name] = v.Int64
				} else {
					row[c.name] = nil
				}
			case *sql.NullString:
				if v.Valid {
					row[c.name] = v.String
				} else {
					row[c.name] = nil
				}
			}
		}
		if err := enc.Encode(map[string]any{"table": t.name, "row": row}); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *sqlStore) Close() error { return s.db.Close() }
