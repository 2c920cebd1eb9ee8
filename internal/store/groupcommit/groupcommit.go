// Package groupcommit runs the Updates of a store backend as batches: one writer goroutine takes
// whatever Updates are queued, runs each inside its own savepoint of one transaction (a failing
// Update rolls back to its savepoint and changes nothing), and commits the batch at once, so that
// many writes share one durable commit (one fsync). The SQLite and PostgreSQL backends both
// write through it; they supply the transaction (Backend).
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

const (
	// DefaultMaxBatch caps the requests committed together unless the backend asks for fewer,
	// so that one batch's latency stays bounded under a flood of writes.
	DefaultMaxBatch = 256
	// queueSize is how many Updates may wait for the writer before callers block on sending.
	queueSize = 1024
)

// Backend begins the write transactions of a Writer. It is only called from the writer goroutine.
type Backend interface {
	Begin(ctx context.Context) (Txn, error)
}

// Txn is one write transaction of a batch.
type Txn interface {
	// Run runs fn inside a savepoint of its own and rolls back to it when fn fails (returns an
	// error), so that the other requests of the batch keep their writes. It returns fn's answer,
	// or an error when fn returned nil but a statement of it failed in a way that leaves its
	// writes in doubt. broken, when not nil, means the transaction itself cannot go on.
	Run(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) (err, broken error)
	// Commit commits the transaction durably.
	Commit(ctx context.Context) error
	// Rollback ends a transaction that is not to be committed; when it cannot, the backend
	// drops the connection, so the next Begin starts clean.
	Rollback(ctx context.Context)
}

// ErrNestedUpdate is returned by an Update called from inside another Update's fn on the same
// Writer, which would otherwise wait forever for the writer that is running it.
var ErrNestedUpdate = errors.New("Update called inside an Update of the same store")

// Writer queues Updates and commits them in batches. Its methods are safe for concurrent use.
type Writer struct {
	name    string // the backend's name, for errors ("sqlite", "postgres")
	backend Backend
	logger  *slog.Logger
	ctx     context.Context // the statements' context; never cancelled
	max     int             // requests per batch at most

	queue chan *request
	done  chan struct{}

	commits atomic.Int64                       // batches committed
	onBatch atomic.Pointer[func(requests int)] // told each committed batch's size
}

// New starts a writer over backend that commits at most maxBatch requests together (0 means
// DefaultMaxBatch). Statements run under ctx without its cancellation: an interrupted statement
// could roll back the whole batch, so callers' contexts are checked between statements instead.
func New(ctx context.Context, name string, backend Backend, logger *slog.Logger, maxBatch int) *Writer {
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	w := &Writer{
		max:     maxBatch,
		name:    name,
		backend: backend,
		logger:  logger,
		ctx:     context.WithoutCancel(ctx),
		queue:   make(chan *request, queueSize),
		done:    make(chan struct{}),
	}
	go w.loop()
	return w
}

// Commits is the number of batches committed so far; tests check that batching happens.
func (w *Writer) Commits() int64 { return w.commits.Load() }

// ObserveBatches makes fn be told the number of Updates in each batch that commits. fn runs on
// the writer goroutine and must not block.
func (w *Writer) ObserveBatches(fn func(requests int)) { w.onBatch.Store(&fn) }

// request is one Update waiting for, or being run by, the writer.
type request struct {
	ctx   context.Context
	fn    func(ctx context.Context, tx store.Tx) error
	state atomic.Int32 // requestQueued, then requestTaken by the writer or requestCancelled
	done  chan result  // buffered: the writer never blocks on answering
}

// The states of a request. Once the writer has taken a request, its caller waits for the
// answer even when its context ends, because the request may already be committed.
const (
	requestQueued int32 = iota
	requestTaken
	requestCancelled
)

// result is the writer's answer to one request.
type result struct {
	err      error
	panicked bool
	panicVal any
}

// updateKey marks the context of an Update's fn, to refuse a nested Update of the same writer.
type updateKey struct{}

// errPanicked is what a request's fn returns to the backend when it panicked, so that its
// writes are undone; the panic itself is re-raised in the caller.
var errPanicked = errors.New("panic in Update")

// Update runs fn in a write transaction and commits it, durably, when fn returns nil; fn's error
// is returned unchanged and undoes everything fn did. Concurrent Updates are committed together,
// each isolated from the others' failures. fn runs on the writer goroutine, must not call Update
// on the same writer, and should not block: the whole batch waits for it. A panic in fn is
// re-raised in the caller after its changes are undone. The caller must not call Update after
// Close.
func (w *Writer) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	if ctx.Value(updateKey{}) == w {
		return fmt.Errorf("%s: %w", w.name, ErrNestedUpdate)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: update: %w", w.name, err)
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan result, 1)}
	select {
	case w.queue <- r:
	case <-ctx.Done():
		return fmt.Errorf("%s: update: waiting for the writer: %w", w.name, ctx.Err())
	}
	var res result
	select {
	case res = <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(requestQueued, requestCancelled) {
			return fmt.Errorf("%s: update: waiting for the writer: %w", w.name, ctx.Err())
		}
		res = <-r.done
	}
	if res.panicked {
		panic(res.panicVal)
	}
	return res.err
}

// Close stops the writer once the queued Updates are done. No Update may be called after it.
func (w *Writer) Close() {
	close(w.queue)
	<-w.done
}

// loop takes whatever Updates are queued as one batch and commits them together, until Close.
func (w *Writer) loop() {
	defer close(w.done)
	batch := make([]*request, 0, w.max)
	for {
		r, ok := <-w.queue
		if !ok {
			return
		}
		batch = append(batch[:0], r)
	fill:
		for len(batch) < w.max {
			select {
			case r, ok := <-w.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.runBatch(batch)
		clear(batch) // let the requests be collected while the writer waits
	}
}

// runBatch commits the requests of one batch that are still wanted.
func (w *Writer) runBatch(batch []*request) {
	pending := batch[:0:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(requestQueued, requestTaken) {
			pending = append(pending, r)
		}
	}
	for len(pending) > 0 {
		n := w.commit(pending)
		pending = pending[n:]
	}
}

// commit runs the requests of pending in one transaction and commits them together, with the
// requests queued meanwhile (join). It answers every request it ran and returns how many of
// pending that was: all of them, unless the transaction broke part way, in which case the rest
// are left for a new transaction.
func (w *Writer) commit(pending []*request) int {
	taken := len(pending)
	txn, err := w.backend.Begin(w.ctx)
	if err != nil {
		err = fmt.Errorf("%s: update: %w", w.name, err)
		for _, r := range pending {
			r.done <- result{err: err}
		}
		return len(pending)
	}
	pending = slices.Clip(pending) // joiners are appended to a copy, not into the caller's slice
	results := make([]result, len(pending))
	var broken error
	for i := 0; ; i++ {
		if i == len(pending) {
			r, ok := w.join(len(pending))
			if !ok {
				break
			}
			pending, results = append(pending, r), append(results, result{})
		}
		r := pending[i]
		if err := r.ctx.Err(); err != nil {
			results[i] = result{err: fmt.Errorf("%s: update: %w", w.name, err)}
			continue
		}
		res, err := w.runOne(txn, r)
		results[i] = res
		if err != nil {
			broken, pending = err, pending[:i+1]
			break
		}
	}
	ran := len(pending)
	wrote := false
	for i := range results[:ran] {
		wrote = wrote || results[i].err == nil && !results[i].panicked
	}
	if broken == nil && !wrote {
		// Every request failed and was undone: there is nothing to commit (nor to count as a
		// change), and a rollback costs no fsync.
		txn.Rollback(w.ctx)
	} else if broken == nil {
		if err := txn.Commit(w.ctx); err != nil {
			// The answer to COMMIT was lost: it may have taken effect or not.
			broken = fmt.Errorf("commit failed, the writes may or may not have taken effect: %w", err)
		} else {
			w.commits.Add(1)
			if fn := w.onBatch.Load(); fn != nil {
				(*fn)(ran)
			}
		}
	}
	if broken != nil {
		w.logger.ErrorContext(w.ctx, "write transaction failed", slog.Int("requests", ran), slog.String("error", broken.Error()))
		txn.Rollback(w.ctx)
		// Whoever was to succeed learns that the transaction failed (before or at its commit).
		for i := range results[:ran] {
			if results[i].err == nil && !results[i].panicked {
				results[i].err = fmt.Errorf("%s: update: %w", w.name, broken)
			}
		}
	}
	for i, r := range pending {
		r.done <- results[i]
	}
	return min(ran, taken)
}

// join takes an Update queued while the batch of n requests ran, if there is one and the batch
// has room: it joins the transaction rather than wait for its commit and then make its own, so
// that under load more requests share each fsync.
func (w *Writer) join(n int) (*request, bool) {
	for n < w.max {
		select {
		case r, ok := <-w.queue:
			if !ok {
				return nil, false // closed: loop sees it next
			}
			if r.state.CompareAndSwap(requestQueued, requestTaken) {
				return r, true
			}
			// Its caller gave up before the writer took it: drop it, as runBatch does.
		default:
			return nil, false
		}
	}
	return nil, false
}

// runOne runs one request in txn, catching a panic so that the writer survives it.
func (w *Writer) runOne(txn Txn, r *request) (res result, broken error) {
	err, broken := txn.Run(w.ctx, func(_ context.Context, tx store.Tx) (err error) {
		defer func() {
			if v := recover(); v != nil {
				w.logger.ErrorContext(r.ctx, "panic in Update", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				res = result{panicked: true, panicVal: v}
				err = errPanicked
			}
		}()
		return r.fn(context.WithValue(r.ctx, updateKey{}, w), tx)
	})
	if !res.panicked {
		res.err = err
	}
	return res, broken
}

// Gate admits calls until it is closed, and lets Close wait for the calls inside to leave. Unlike
// a sync.RWMutex it may be entered again by a call already inside (a View inside an Update's fn).
type Gate struct {
	mu     sync.Mutex
	closed bool
	inside int
	empty  chan struct{} // closed when closed and no call is inside
}

// Enter admits a call unless the gate is closed.
func (g *Gate) Enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.inside++
	return true
}

// Leave marks the end of an admitted call.
func (g *Gate) Leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inside--
	if g.closed && g.inside == 0 {
		close(g.empty)
	}
}

// Close refuses new calls and waits for the admitted ones to leave.
func (g *Gate) Close() {
	g.mu.Lock()
	g.closed = true
	g.empty = make(chan struct{})
	if g.inside == 0 {
		close(g.empty)
	}
	empty := g.empty
	g.mu.Unlock()
	<-empty
}

// Queued is the number of Updates waiting for the writer; tests wait on it to form a batch.
func (w *Writer) Queued() int { return len(w.queue) }
