package cli

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/config"
)

func TestWarnPlaintext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		addr string
		tls  bool
		warn bool
	}{
		{"loopback", "127.0.0.1:7400", false, false},
		{"IPv6 loopback", "[::1]:7400", false, false},
		{"every interface", "0.0.0.0:7400", false, true},
		{"every IPv6 interface", "[::]:7400", false, true},
		{"LAN address", "192.168.1.5:7400", false, true},
		{"every interface with TLS", "0.0.0.0:7400", true, false},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			addr, err := net.ResolveTCPAddr("tcp", tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			var stderr, logs bytes.Buffer
			cfg := config.Config{}
			if tc.tls {
				cfg.TLSCert, cfg.TLSKey = "cert.pem", "key.pem"
			}
			warnPlaintext(Env{Stderr: &stderr}, slog.New(slog.NewJSONHandler(&logs, nil)), cfg, addr)
			gotLog := strings.Contains(logs.String(), `"level":"WARN"`) && strings.Contains(logs.String(), "plain HTTP")
			gotText := strings.Contains(stderr.String(), "WARNING: Gatehouse is serving plain HTTP on "+addr.String())
			if gotLog != tc.warn || gotText != tc.warn {
				t.Errorf("warned in the log %v and on stderr %v, want %v; log %q, stderr %q", gotLog, gotText, tc.warn, logs.String(), stderr.String())
			}
		})
	}
}
