package session_test

import (
	"context"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/session"
)

// BenchmarkOpen measures verifying a session token on a request: base64, AES-256-GCM and the
// claims decoding, with every key in memory (no store read). The target is under 2 µs.
func BenchmarkOpen(b *testing.B) {
	clk := newClock()
	kr := session.NewKeyring(openStore(b), newBox(b), clk.Now, discard, session.Options{})
	ctx := context.Background()
	for _, name := range []string{"kind=user session token", "kind=role session"} {
		p := principals(clk.Now())[name]
		creds, err := kr.Issue(ctx, &p, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(creds.SessionToken)))
			for b.Loop() {
				if _, err := kr.Open(ctx, creds.SessionToken); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := kr.Open(ctx, creds.SessionToken); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkIssue measures making temporary credentials with the active key in memory.
func BenchmarkIssue(b *testing.B) {
	clk := newClock()
	kr := session.NewKeyring(openStore(b), newBox(b), clk.Now, discard, session.Options{})
	ctx := context.Background()
	p := principals(clk.Now())["kind=role session"]
	if _, err := kr.Issue(ctx, &p, 0); err != nil { // creates the first key
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		q := p
		if _, err := kr.Issue(ctx, &q, 0); err != nil {
			b.Fatal(err)
		}
	}
}
