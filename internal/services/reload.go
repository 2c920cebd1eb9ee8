package services

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often Run looks at the file.
const DefaultInterval = 2 * time.Second

// File holds the current declarations of a services file and reloads them when the file
// changes. Like the TLS certificate's reloader it polls the file's modification time and size,
// so that reading the declarations costs a request one atomic load. A file that no longer
// parses keeps the declarations in use and logs why; the next change is tried again.
type File struct {
	path   string
	logger *slog.Logger
	set    atomic.Pointer[Set]

	mu   sync.Mutex // serializes reloads
	seen stamp
}

type stamp struct {
	mod  time.Time
	size int64
}

// Open reads path; it fails when the file cannot be read or is not valid.
func Open(path string, logger *slog.Logger) (*File, error) {
	f := &File{path: path, logger: logger}
	if err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Current returns the declarations in use; nil for a nil File.
func (f *File) Current() *Set {
	if f == nil {
		return nil
	}
	return f.set.Load()
}

// Reload reads the file now.
func (f *File) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	info, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("services file: %w", err)
	}
	f.seen = stamp{info.ModTime(), info.Size()}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("services file: %w", err)
	}
	set, err := Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	f.set.Store(set)
	return nil
}

// Run reloads the file whenever it changes, looking every interval, until ctx is done.
func (f *File) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		info, err := os.Stat(f.path)
		f.mu.Lock()
		changed := err == nil && (stamp{info.ModTime(), info.Size()}) != f.seen
		f.mu.Unlock()
		if !changed {
			continue
		}
		if err := f.Reload(); err != nil {
			f.logger.WarnContext(ctx, "services file not reloaded; the previous declarations stay in use", slog.String("error", err.Error()))
			continue
		}
		f.logger.InfoContext(ctx, "services file reloaded", slog.String("path", f.path), slog.Int("services", len(f.Current().byPrefix)))
	}
}
