package session_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/session"
)

// FuzzOpen checks that Open never panics and accepts nothing but tokens the keyring sealed:
// any other input is ErrInvalid.
func FuzzOpen(f *testing.F) {
	clk := newClock()
	kr := session.NewKeyring(openStore(f), newBox(f), clk.Now, discard, session.Options{})
	ctx := context.Background()
	p := principals(clk.Now())["kind=role session"]
	creds, err := kr.Issue(ctx, &p, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(creds.SessionToken)
	f.Add(creds.SessionToken[:len(creds.SessionToken)-1])
	f.Add("")
	f.Add("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := kr.Open(ctx, token)
		if token == creds.SessionToken {
			if err != nil {
				t.Fatalf("the issued token failed: %v", err)
			}
			return
		}
		if err == nil {
			t.Fatalf("Open accepted a token it did not issue: %q -> %+v", token, c.Principal)
		}
		if !errors.Is(err, session.ErrInvalid) {
			t.Fatalf("Open = %v, want ErrInvalid", err)
		}
	})
}
