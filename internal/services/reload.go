package services

import (
	"context"
	"errors"
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
// parses keeps the declarations in use and logs why; the next change is tried again. A file
// being written is not read: a change is loaded once the file has stayed the same for a whole
// poll, and an empty file (one just truncated by its writer) is never loaded by a reload.
type File struct {
	path   string
	logger *slog.Logger
	set    atomic.Pointer[Set]

	mu   sync.Mutex // serializes reloads
	seen stamp      // of the file last read
}

type stamp struct {
	mod  time.Time
	size int64
}

// Open reads path; it fails when the file cannot be read or is not valid.
func Open(path string, logger *slog.Logger) (*File, error) {
	f := &File{path: path, logger: logger}
	if err := f.load(true); err != nil {
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

// errEmpty refuses an empty file on reload: it is far likelier a file being rewritten than a
// wish to protect nothing (which `services: []` says).
var errEmpty = errors.New("the file is empty")

// Reload reads the file now.
func (f *File) Reload() error { return f.load(false) }

// load reads the file; allowEmpty is Open's: with nothing in use yet, an empty file declares no
// services.
func (f *File) load(allowEmpty bool) error {
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
	if len(data) == 0 && !allowEmpty {
		return fmt.Errorf("%s: %w", f.path, errEmpty)
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
	var last stamp // of the previous poll
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		info, err := os.Stat(f.path)
		if err != nil {
			continue
		}
		now := stamp{info.ModTime(), info.Size()}
		settled := now == last
		last = now
		f.mu.Lock()
		changed := now != f.seen
		f.mu.Unlock()
		if !changed || !settled {
			continue // unchanged, or changed since the last poll: maybe still being written
		}
		if err := f.Reload(); err != nil {
			f.logger.WarnContext(ctx, "services file not reloaded; the previous declarations stay in use", slog.String("error", err.Error()))
			continue
		}
		f.logger.InfoContext(ctx, "services file reloaded", slog.String("path", f.path), slog.Int("services", len(f.Current().byPrefix)))
	}
}
