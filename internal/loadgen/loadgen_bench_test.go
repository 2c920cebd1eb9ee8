package loadgen

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	d := 3 * time.Millisecond
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(d + time.Duration(i&1023)*time.Microsecond)
	}
}

func BenchmarkHistogramPercentile(b *testing.B) {
	h := NewHistogram()
	for i := range 100000 {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Percentile(99)
	}
}

func benchGenerator(b *testing.B, endpoint string) *Generator {
	b.Helper()
	g, err := New(Config{Endpoint: endpoint, AccessKeyID: "AKIABENCH", SecretAccessKey: "secret", Concurrency: 1, Duration: time.Second}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// BenchmarkSign is the generator's own CPU per request before it reaches the network: the
// body, its hash and the SigV4 signature.
func BenchmarkSign(b *testing.B) {
	for _, op := range []Op{GetUser, CreateUser} {
		b.Run("op="+string(op), func(b *testing.B) {
			g := benchGenerator(b, "http://127.0.0.1:1")
			ctx := context.Background()
			c := g.newClient(ctx, 0, "0a1b2c3d")
			fixed := g.fixedBody(op, "bench-target-0a1b2c3d")
			fixedHash := payloadHash(fixed)
			b.ReportAllocs()
			for b.Loop() {
				body, hash := c.body(op, fixed, fixedHash)
				c.curBody = body
				c.req.Body, _ = c.getBody()
				c.req.ContentLength = int64(len(body))
				if err := c.signer.SignHTTP(ctx, c.creds, c.req, hash, op.Service(), g.cfg.Region, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSend is one full request over loopback to a server that answers at once: the
// generator's cost plus a minimal net/http server's.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "<GetUserResponse/>")
	}))
	defer srv.Close()
	g := benchGenerator(b, srv.URL)
	ctx := context.Background()
	c := g.newClient(ctx, 0, "0a1b2c3d")
	fixed := g.fixedBody(GetUser, "bench-target-0a1b2c3d")
	fixedHash := payloadHash(fixed)
	b.ReportAllocs()
	for b.Loop() {
		status, _, _, err := c.send(ctx, fixed, fixedHash, "iam", time.Now())
		if err != nil || status != http.StatusOK {
			b.Fatal(status, err)
		}
	}
}
