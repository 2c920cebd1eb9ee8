package audit

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Defaults of Options.
const (
	DefaultQueueSize     = 65536
	DefaultBatchSize     = 1000
	DefaultFlushInterval = 100 * time.Millisecond
	DefaultPruneInterval = time.Hour
	// writeTimeout bounds one batch's write, so that a database that stops answering does not
	// hold the recorder for ever (the queue then fills, and events are dropped and counted).
	writeTimeout = 30 * time.Second
	// attempts is how many times a batch is written before its events are given up.
	attempts = 3
)

// Options tune a Recorder; zero values take the defaults.
type Options struct {
	// QueueSize is how many events may wait for the writer; Record drops (and counts) events
	// beyond it rather than make a request wait.
	QueueSize int
	// BatchSize is the most events one write stores; a queue that reaches it is written at
	// once, without waiting for FlushInterval.
	BatchSize int
	// FlushInterval is how long an event waits at most before it is written.
	FlushInterval time.Duration
	// Retention is how long events are kept; 0 keeps them for ever. Run deletes older events
	// when it starts and every PruneInterval.
	Retention     time.Duration
	PruneInterval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Stats are a Recorder's counters since it was made.
type Stats struct {
	Recorded uint64 // events queued by Record
	Dropped  uint64 // events Record dropped because the queue was full
	Written  uint64 // events stored
	Failed   uint64 // events given up after failed writes (or that could not be encoded)
	Pruned   uint64 // events deleted by retention
	Queued   int    // events waiting now
}

// Recorder queues events off the request path and writes them in batches. Record is safe for
// concurrent use and never blocks; Run writes.
type Recorder struct {
	log    store.EventLog
	logger *slog.Logger
	opts   Options

	queue chan *Event
	wake  chan struct{} // a full batch is waiting

	// mu serializes writing, between Run and Flush, and guards records and batch.
	mu sync.Mutex
	// records holds the JSON records of the batch being written, and batch its events, both
	// reused from batch to batch (AppendEvents keeps nothing after it returns): not an
	// allocation per event, nor one of the batch's size per batch.
	records []byte
	batch   []store.Event

	recorded, dropped, written, failed, pruned atomic.Uint64
}

// NewRecorder returns a recorder that writes to log. A nil logger discards logs.
func NewRecorder(log store.EventLog, logger *slog.Logger, opts Options) *Recorder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = DefaultPruneInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Recorder{
		log: log, logger: logger, opts: opts,
		queue: make(chan *Event, opts.QueueSize),
		wake:  make(chan struct{}, 1),
	}
}

// Record queues ev to be written, and takes it over: the caller must not change it afterwards.
// It sets EventTime when zero; the writer runs ev.Deferred (when set) and fills the other
// fields CloudTrail always writes (EventID, EventVersion, ...). Record allocates nothing. When the queue is full the event is dropped and counted in
// Stats.Dropped: the request path never waits for the database.
func (r *Recorder) Record(ev *Event) {
	if ev.EventTime.IsZero() {
		ev.EventTime = r.opts.Now()
	}
	select {
	case r.queue <- ev:
		r.recorded.Add(1)
		if len(r.queue) >= r.opts.BatchSize {
			select {
			case r.wake <- struct{}{}:
			default:
			}
		}
	default:
		r.dropped.Add(1)
	}
}

// Stats returns the counters.
func (r *Recorder) Stats() Stats {
	return Stats{
		Recorded: r.recorded.Load(), Dropped: r.dropped.Load(), Written: r.written.Load(),
		Failed: r.failed.Load(), Pruned: r.pruned.Load(), Queued: len(r.queue),
	}
}

// Run writes queued events every FlushInterval, or as soon as a batch is full, and applies the
// retention, until ctx is done; then it writes what is still queued and returns.
func (r *Recorder) Run(ctx context.Context) {
	tick := time.NewTicker(r.opts.FlushInterval)
	defer tick.Stop()
	var prune <-chan time.Time
	if r.opts.Retention > 0 {
		pt := time.NewTicker(r.opts.PruneInterval)
		defer pt.Stop()
		prune = pt.C
		r.prune(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
			if err := r.Flush(fctx); err != nil {
				r.logger.ErrorContext(fctx, "audit: events lost at shutdown", slog.String("error", err.Error()))
			}
			cancel()
			return
		case <-tick.C:
		case <-r.wake:
		case <-prune:
			r.prune(ctx)
			continue
		}
		_ = r.Flush(ctx) // failures are logged and counted
	}
}

// prune deletes the events older than the retention.
func (r *Recorder) prune(ctx context.Context) {
	n, err := r.log.DeleteEventsBefore(ctx, r.opts.Now().Add(-r.opts.Retention))
	if err != nil {
		if ctx.Err() == nil {
			r.logger.ErrorContext(ctx, "audit: retention", slog.String("error", err.Error()))
		}
		return
	}
	r.pruned.Add(uint64(n))
	if n > 0 {
		r.logger.InfoContext(ctx, "audit: deleted events past retention", slog.Int64("events", n), slog.Duration("retention", r.opts.Retention))
	}
}

// Flush writes every event queued when it is called, in batches, and returns the first error;
// events of a batch that failed attempts times are given up (Stats.Failed). Run calls it; tests
// call it to see their events stored.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first error
	for n := len(r.queue); n > 0; {
		size := min(n, r.opts.BatchSize)
		n -= size
		batch, buf := r.batch[:0], r.records[:0]
		for range size {
			var se store.Event
			var err error
			se, buf, err = encode(<-r.queue, buf)
			if err != nil {
				r.failed.Add(1)
				r.logger.ErrorContext(ctx, "audit: event not recorded", slog.String("error", err.Error()))
				continue
			}
			batch = append(batch, se)
		}
		if err := r.write(ctx, batch); err != nil && first == nil {
			first = err
		}
		clear(batch) // the next batch overwrites them; meanwhile they keep nothing alive
		r.batch, r.records = batch, buf
	}
	return first
}

// encode fills ev (running its Deferred) and appends its record to buf; a panic of Deferred is
// an error of this event, not the end of the writer (and of the process).
func encode(ev *Event, buf []byte) (se store.Event, out []byte, err error) {
	out = buf
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("audit: event %s: deferred fill panicked: %v", ev.EventName, p)
		}
	}()
	ev.fill()
	return ev.appendStoreEvent(buf)
}

// write stores one batch, trying again after a failure.
func (r *Recorder) write(ctx context.Context, batch []store.Event) error {
	if len(batch) == 0 {
		return nil
	}
	var err error
	for attempt := range attempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
			}
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
		err = r.log.AppendEvents(wctx, batch)
		cancel()
		if err == nil {
			r.written.Add(uint64(len(batch)))
			return nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	r.failed.Add(uint64(len(batch)))
	r.logger.ErrorContext(ctx, "audit: events lost", slog.Int("events", len(batch)), slog.String("error", err.Error()))
	return fmt.Errorf("audit: write %d events: %w", len(batch), err)
}

// exportPage is how many events WriteJSONLines reads at a time.
const exportPage = 1000

// WriteJSONLines writes every event of account's trail to w as JSON lines (one CloudTrail
// record per line), newest first, reading the store a page at a time so that a long trail
// needs little memory.
func WriteJSONLines(ctx context.Context, log store.EventLog, account string, w io.Writer) error {
	bw := bufio.NewWriter(w)
	var cur *store.EventCursor
	for {
		evs, err := log.Events(ctx, store.EventQuery{Account: account, Before: cur, Limit: exportPage})
		if err != nil {
			return fmt.Errorf("audit: export: %w", err)
		}
		for _, ev := range evs {
			if len(ev.Data) == 0 {
				continue
			}
			if _, err := bw.Write(ev.Data); err != nil {
				return fmt.Errorf("audit: export: %w", err)
			}
			if err := bw.WriteByte('\n'); err != nil {
				return fmt.Errorf("audit: export: %w", err)
			}
		}
		if len(evs) < exportPage {
			break
		}
		last := evs[len(evs)-1]
		cur = &store.EventCursor{Time: last.Time, ID: last.ID}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}
