package report

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Line kinds of a balance statement. Registrations, purchases, receipts
// and placements are stock_movements of the same kind; a process whose
// inputs and outputs are all of one material at this site shows as the
// virgin material it added and the mass it lost; any other process shows
// its movements here as they are (process_in: taken into a process of
// another material or site; process_out: made by one).
const (
	KindCollection  = "collection"
	KindPurchase    = "purchase"
	KindReceipt     = "receipt"
	KindPlaced      = "placed"
	KindVirgin      = "virgin"
	KindProcessOut  = "process_out"
	KindDispatch    = "dispatch"
	KindMovedOut    = "moved_out"
	KindProcessIn   = "process_in"
	KindProcessLoss = "process_loss"
)

// Balance is a site's mass balance statement over a period, per material.
type Balance struct {
	Basis
	Site     string `json:"site"`
	SiteName string `json:"siteName"`
	Org      string `json:"org"`
	Period   Period `json:"period"`
	// Negative is true when any material's balance was below zero after
	// any transaction of the period.
	Negative  bool              `json:"negative"`
	Materials []MaterialBalance `json:"materials"`
}

// MaterialBalance is one material's account: Closing = Opening + the
// inputs - the outputs - the losses.
type MaterialBalance struct {
	Material string `json:"material"`
	Opening  int64  `json:"opening"`
	Inputs   []Line `json:"inputs"`
	Outputs  []Line `json:"outputs"`
	Losses   []Line `json:"losses"`
	Closing  int64  `json:"closing"`
	// Lowest is the lowest balance after any transaction of the period
	// (the opening if none moved this material), At where it was reached.
	Lowest   int64 `json:"lowest"`
	LowestAt *Ref  `json:"lowestAt,omitempty"`
	// Negative lists every transaction after which the balance was
	// below zero.
	Negative []Point `json:"negative,omitempty"`
	// Series is the balance after each transaction of the period.
	Series []Point `json:"series"`
}

// Line is one figure of a statement: the mass, its post- and
// pre-consumer grams (from the shares of what moved, rounded down per
// movement), and the transactions behind it.
type Line struct {
	Kind         string `json:"kind"`
	Class        string `json:"originClass,omitempty"`
	Mass         int64  `json:"mass"`
	PostConsumer int64  `json:"postConsumer"`
	PreConsumer  int64  `json:"preConsumer"`
	Refs         []Ref  `json:"transactions"`
}

// Point is a balance after a transaction.
type Point struct {
	At      string `json:"at"`
	Balance int64  `json:"balance"`
	Block   int64  `json:"block"`
	Tx      string `json:"tx"`
}

type move struct {
	block, index, seq int64
	tx, at, material  string
	batch, kind       string
	delta, post, pre  int64
	class, ref        string
}

// BalanceOf computes site's balance statement over period p.
func BalanceOf(ctx context.Context, db *sql.DB, site string, p Period, now time.Time) (*Balance, error) {
	b := &Balance{Site: site, Period: p}
	var err error
	if b.Basis, err = basis(ctx, db, now); err != nil {
		return nil, err
	}
	if b.Org, b.SiteName, err = siteName(ctx, db, site); err != nil {
		return nil, err
	}
	start, end := at(p.start), at(p.end)
	byMat := map[string]*MaterialBalance{}
	get := func(m string) *MaterialBalance {
		if byMat[m] == nil {
			byMat[m] = &MaterialBalance{Material: m}
		}
		return byMat[m]
	}
	rows, err := db.QueryContext(ctx, `SELECT material, SUM(delta) FROM stock_movements WHERE site = $1 AND at < $2 GROUP BY material`, site, start)
	if err != nil {
		return nil, fmt.Errorf("opening stock: %w", err)
	}
	for rows.Next() {
		var m string
		var sum int64
		if err := rows.Scan(&m, &sum); err != nil {
			rows.Close()
			return nil, err
		}
		get(m).Opening = sum
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("opening stock: %w", err)
	}

	// The period's movements at the site, put in chain order here rather
	// than by the database: the index (site, material, at) finds them,
	// and sorting them in Go is cheaper than SQLite's temporary B-tree.
	// Counted first (from the index alone) so that they are read into a
	// slice of the right size.
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM stock_movements WHERE site = $1 AND at >= $2 AND at < $3`, site, start, end).Scan(&n); err != nil {
		return nil, fmt.Errorf("movements: %w", err)
	}
	moves, err := queryMoves(ctx, db, n, `SELECT block, tx_index, seq, tx_id, at, material, batch_id, kind, delta, post_ppm, pre_ppm, origin_class, ref
		FROM stock_movements WHERE site = $1 AND at >= $2 AND at < $3`, site, start, end)
	if err != nil {
		return nil, fmt.Errorf("movements: %w", err)
	}
	slices.SortFunc(moves, func(a, b move) int {
		if c := cmp.Compare(a.block, b.block); c != 0 {
			return c
		}
		if c := cmp.Compare(a.index, b.index); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	simple, err := simpleProcesses(ctx, db, moves)
	if err != nil {
		return nil, err
	}

	type lineKey struct{ material, section, kind, class string }
	lines := map[lineKey]*Line{}
	line := func(m, section, kind, class string) *Line {
		k := lineKey{m, section, kind, class}
		if lines[k] == nil {
			lines[k] = &Line{Kind: kind, Class: class}
		}
		return lines[k]
	}
	add := func(l *Line, mv move, mass int64) {
		l.Mass += mass
		l.PostConsumer += share(mass, mv.post)
		l.PreConsumer += share(mass, mv.pre)
		l.Refs = append(l.Refs, Ref{Block: mv.block, TxIndex: mv.index, Tx: mv.tx, At: mv.at, Batch: mv.batch, Mass: mv.delta})
	}
	running := map[string]int64{}
	for m, mb := range byMat {
		running[m], mb.Lowest = mb.Opening, mb.Opening
	}
	seenProcess := map[string]bool{}
	for i, mv := range moves {
		mb := get(mv.material)
		if _, ok := running[mv.material]; !ok {
			running[mv.material] = mb.Opening
			mb.Lowest = mb.Opening
		}
		running[mv.material] += mv.delta
		switch sp, isSimple := simple[mv.ref]; {
		case (mv.kind == KindProcessIn || mv.kind == KindProcessOut) && isSimple:
			if !seenProcess[mv.ref] {
				seenProcess[mv.ref] = true
				ref := Ref{Block: mv.block, TxIndex: mv.index, Tx: mv.tx, At: mv.at}
				if sp.virgin > 0 {
					l := line(mv.material, "in", KindVirgin, "")
					l.Mass += sp.virgin
					ref.Mass = sp.virgin
					l.Refs = append(l.Refs, ref)
				}
				if sp.loss > 0 {
					l := line(mv.material, "loss", KindProcessLoss, "")
					l.Mass += sp.loss
					ref.Mass = -sp.loss
					l.Refs = append(l.Refs, ref)
				}
			}
		case mv.delta >= 0:
			add(line(mv.material, "in", mv.kind, mv.class), mv, mv.delta)
		default:
			add(line(mv.material, "out", mv.kind, mv.class), mv, -mv.delta)
		}
		// The balance after each transaction: ledger transactions are
		// atomic, so a balance inside one is never seen.
		if i+1 < len(moves) && moves[i+1].block == mv.block && moves[i+1].index == mv.index {
			continue
		}
		for m, bal := range running {
			if m != mv.material && !touched(moves, i, m) {
				continue
			}
			mm := get(m)
			pt := Point{At: mv.at, Balance: bal, Block: mv.block, Tx: mv.tx}
			mm.Series = append(mm.Series, pt)
			if bal < mm.Lowest || mm.LowestAt == nil && bal == mm.Lowest {
				mm.Lowest = bal
				mm.LowestAt = &Ref{Block: mv.block, TxIndex: mv.index, Tx: mv.tx, At: mv.at}
			}
			if bal < 0 {
				mm.Negative = append(mm.Negative, pt)
				b.Negative = true
			}
		}
	}
	if !b.Negative {
		for _, mb := range byMat {
			if mb.Opening < 0 {
				b.Negative = true
			}
		}
	}
	for m, mb := range byMat {
		mb.Closing = mb.Opening
		if r, ok := running[m]; ok {
			mb.Closing = r
		}
		if mb.Opening < 0 && len(mb.Negative) == 0 {
			mb.Negative = append(mb.Negative, Point{At: at(p.start), Balance: mb.Opening})
		}
		var keys []lineKey
		for k := range lines {
			if k.material == m {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool { return lineOrder(keys[i]) < lineOrder(keys[j]) })
		for _, k := range keys {
			l := *lines[k]
			switch k.section {
			case "in":
				mb.Inputs = append(mb.Inputs, l)
			case "out":
				mb.Outputs = append(mb.Outputs, l)
			default:
				mb.Losses = append(mb.Losses, l)
			}
		}
		if mb.Opening != 0 || mb.Closing != 0 || len(mb.Series) > 0 {
			b.Materials = append(b.Materials, *mb)
		}
	}
	sort.Slice(b.Materials, func(i, j int) bool { return b.Materials[i].Material < b.Materials[j].Material })
	return b, nil
}

// touched reports whether transaction of moves[i] moved material m.
func touched(moves []move, i int, m string) bool {
	for j := i; j >= 0 && moves[j].block == moves[i].block && moves[j].index == moves[i].index; j-- {
		if moves[j].material == m {
			return true
		}
	}
	return false
}

var kindOrder = map[string]int{
	KindCollection: 0, KindPurchase: 1, KindReceipt: 2, KindPlaced: 3, KindVirgin: 4, KindProcessOut: 5,
	KindDispatch: 10, KindMovedOut: 11, KindProcessIn: 12, KindProcessLoss: 20,
}

func lineOrder(k struct{ material, section, kind, class string }) string {
	return fmt.Sprintf("%02d/%s", kindOrder[k.kind], k.class)
}

type simpleProcess struct{ virgin, loss int64 }

// simpleProcesses are the processes with movements in moves (a site's
// movements in the period) whose every input and output is at site and
// of one material, and whose movements there add up to virgin - loss:
// such a process shows as its virgin material and its loss. Any other
// shows its movements. A process's movements are all of its
// transaction, so all in the period or none; they are at site when moves
// holds as many of them as the process has inputs and outputs (one
// movement each).
func simpleProcesses(ctx context.Context, db *sql.DB, moves []move) (map[string]simpleProcess, error) {
	type here struct {
		n, sum   int64
		material string
		mixed    bool
	}
	at := map[string]*here{}
	var refs []string
	for _, mv := range moves {
		if mv.kind != KindProcessIn && mv.kind != KindProcessOut {
			continue
		}
		h := at[mv.ref]
		if h == nil {
			h = &here{material: mv.material}
			at[mv.ref] = h
			refs = append(refs, mv.ref)
		}
		h.n++
		h.sum += mv.delta
		h.mixed = h.mixed || mv.material != h.material
	}
	out := map[string]simpleProcess{}
	// A few hundred at a time: both backends take that many parameters.
	const chunk = 500
	for len(refs) > 0 {
		n := min(chunk, len(refs))
		marks := make([]string, n)
		args := make([]any, n)
		for i, r := range refs[:n] {
			marks[i], args[i] = fmt.Sprintf("$%d", i+1), r
		}
		refs = refs[n:]
		rows, err := db.QueryContext(ctx, `SELECT process_tx, virgin_mass, loss, inputs + outputs FROM processes WHERE process_tx IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("processes: %w", err)
		}
		for rows.Next() {
			var tx string
			var virgin, loss, moved int64
			if err := rows.Scan(&tx, &virgin, &loss, &moved); err != nil {
				rows.Close()
				return nil, fmt.Errorf("processes: %w", err)
			}
			if h := at[tx]; h != nil && h.n == moved && !h.mixed && h.sum == virgin-loss {
				out[tx] = simpleProcess{virgin: virgin, loss: loss}
			}
		}
		if err := closeRows(rows); err != nil {
			return nil, fmt.Errorf("processes: %w", err)
		}
	}
	return out, nil
}

// queryMoves reads the movements of query q; n is how many are expected
// (0 if unknown).
func queryMoves(ctx context.Context, db *sql.DB, n int, q string, args ...any) ([]move, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out := make([]move, 0, n)
	for rows.Next() {
		var m move
		if err := rows.Scan(&m.block, &m.index, &m.seq, &m.tx, &m.at, &m.material, &m.batch, &m.kind, &m.delta, &m.post, &m.pre, &m.class, &m.ref); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, m)
	}
	return out, closeRows(rows)
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}
