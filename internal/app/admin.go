package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/metrics"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/postgres"
	"github.com/gatehouse-iam/gatehouse/internal/store/sqlite"
)

// observability is one App's metrics and the store as the services see it: the store with every
// Update timed.
type observability struct {
	metrics *metrics.Metrics
	store   store.Store
	addr    atomic.Pointer[net.Addr] // the admin listener's address once it listens
}

func newObservability(st backend) *observability {
	m := metrics.New()
	m.WatchStore(st.ObserveBatches, poolStats(st))
	return &observability{metrics: m, store: m.Store(st)}
}

// poolStats reads the read pool of either backend.
func poolStats(st backend) func() metrics.PoolStats {
	switch st := st.(type) {
	case *sqlite.Store:
		return func() metrics.PoolStats {
			s := st.Stats()
			return metrics.PoolStats{Idle: s.ReadersIdle, Total: s.ReadersTotal}
		}
	case *postgres.Store:
		return func() metrics.PoolStats {
			s := st.Stats()
			return metrics.PoolStats{Idle: s.Idle, Total: s.Total, Waits: s.Waits}
		}
	}
	return func() metrics.PoolStats { return metrics.PoolStats{} }
}

// readyTimeout bounds readiness's store read, so a wedged database answers 503, not nothing.
const readyTimeout = 2 * time.Second

// AdminAddr is the address the health and metrics listener listens on, nil before Serve
// started it or when it is off. Tests that ask for port 0 learn the port here.
func (a *App) AdminAddr() net.Addr {
	if p := a.obs.addr.Load(); p != nil {
		return *p
	}
	return nil
}

// startAdmin serves /healthz, /readyz and /metrics on cfg.AdminListen until ctx is done; ""
// and "off" serve nothing. It returns once it listens, so a busy port fails Serve at once.
func (a *App) startAdmin(ctx context.Context) error {
	addr := a.cfg.AdminListen
	if addr == "" || addr == config.AdminOff {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("admin listen: %w", err)
	}
	bound := ln.Addr()
	a.obs.addr.Store(&bound)
	if tcp, ok := bound.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		a.logger.Warn("the health and metrics listener is not on loopback: anyone who reaches it reads the metrics", slog.String("address", bound.String()))
	}
	a.logger.Info("admin listening", slog.String("address", bound.String()))
	srv := &http.Server{
		Handler:           a.adminHandler(),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("admin listener stopped", slog.String("error", err.Error()))
		}
	}()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx) // scrapes in flight are cut after a second; nothing is lost
	}()
	return nil
}

func (a *App) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("GET /metrics", a.obs.metrics.Handler())
	if a.cfg.Pprof {
		// Registered here, not through net/http/pprof's init on the default mux.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	}
	return mux
}

// SchemaVersion reads the database's schema version and the newest this program knows.
func (a *App) SchemaVersion(ctx context.Context) (current, known int, err error) {
	return a.store.SchemaVersion(ctx)
}

// ready answers 200 when the store answers a read and its schema is the one this program
// knows, else 503 with a one-line reason.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	current, known, err := a.store.SchemaVersion(ctx)
	switch {
	case err != nil:
		a.logger.WarnContext(ctx, "not ready", slog.String("error", err.Error()))
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready: the store does not answer reads")
	case current != known:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: database schema version %d, this program's is %d\n", current, known)
	default:
		fmt.Fprintln(w, "ready")
	}
}
