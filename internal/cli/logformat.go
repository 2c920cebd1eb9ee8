package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// logFormatFlag registers --log-format on fs, storing "text" or "json" in *format with def as
// the default.
func logFormatFlag(fs *flag.FlagSet, format *string, def string) {
	*format = def
	fs.Func("log-format", "log line format: text or json (default "+def+")", func(s string) error {
		if s != "text" && s != "json" {
			return fmt.Errorf("must be text or json")
		}
		*format = s
		return nil
	})
}

// newLogger returns a logger writing format ("json", otherwise text) lines of level and above
// to w.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
