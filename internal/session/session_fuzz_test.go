package session_test

import (
	"context"
	"errors"
	"strings"
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

// FuzzAlteredToken alters a valid sealed token and checks that whatever differs from it by a
// single byte or more does not open. An alteration is, at position at (counted from the end
// when negative, clamped to the token), the character there moved by flip within the base64url
// alphabet (flip 1..15 gives exactly the spellings a lenient decoder takes for the last
// character), then cut characters replaced with insert. Positions are relative, so the seed
// corpus in testdata/fuzz means the same alterations however long the token is.
func FuzzAlteredToken(f *testing.F) {
	clk := newClock()
	kr := session.NewKeyring(openStore(f), newBox(f), clk.Now, discard, session.Options{})
	ctx := context.Background()
	p := principals(clk.Now())["kind=role session"]
	creds, err := kr.Issue(ctx, &p, 0)
	if err != nil {
		f.Fatal(err)
	}
	tok := creds.SessionToken
	f.Add(-1, 0, "", byte(1))
	f.Add(1<<20, 0, "\n", byte(0))
	f.Fuzz(func(t *testing.T, at, cut int, insert string, flip byte) {
		altered := alter(tok, at, cut, insert, flip)
		c, err := kr.Open(ctx, altered)
		if altered == tok {
			if err != nil {
				t.Fatalf("the issued token failed: %v", err)
			}
			return
		}
		if err == nil {
			t.Fatalf("an altered token opened: %q (issued %q) -> %+v", altered, tok, c.Principal)
		}
		if !errors.Is(err, session.ErrInvalid) {
			t.Fatalf("Open = %v, want ErrInvalid", err)
		}
	})
}

// alter applies one FuzzAlteredToken alteration to tok.
func alter(tok string, at, cut int, insert string, flip byte) string {
	if at < 0 {
		at += len(tok)
	}
	at = min(max(at, 0), len(tok))
	b := []byte(tok)
	if at < len(b) {
		if i := strings.IndexByte(base64URL, b[at]); i >= 0 {
			b[at] = base64URL[i^int(flip&63)]
		}
	}
	cut = min(max(cut, 0), len(b)-at)
	return string(b[:at]) + insert + string(b[at+cut:])
}
