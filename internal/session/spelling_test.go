package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/session"
)

// base64URL is the alphabet of sealed values.
const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// respellings returns the values that differ from tok in one way a lenient base64 decoder
// forgives: another last character (its low bits are padding), a line break inserted or
// appended, a padding character appended.
func respellings(tok string) map[string]string {
	out := map[string]string{}
	last := len(tok) - 1
	for _, c := range base64URL {
		if byte(c) != tok[last] {
			out["last character "+string(c)] = tok[:last] + string(c)
		}
	}
	for _, lb := range []string{"\n", "\r", "\r\n"} {
		out["line break "+strings.ReplaceAll(strings.ReplaceAll(lb, "\r", "CR"), "\n", "LF")+" appended"] = tok + lb
		out["line break "+strings.ReplaceAll(strings.ReplaceAll(lb, "\r", "CR"), "\n", "LF")+" inside"] = tok[:8] + lb + tok[8:]
	}
	out["padding appended"] = tok + "="
	return out
}

// TestOneSpellingPerToken checks that a session token and an encoded authorization message
// open only as issued: no other last character, line break or padding opens them. Values of
// each encoded length modulo 4 are tried (2, 3 and 0), whose last characters carry 4, 2 and 0
// unused bits: 15, 3 and no other spellings a lenient decoder accepts.
func TestOneSpellingPerToken(t *testing.T) {
	t.Parallel()
	clk := newClock()
	kr := session.NewKeyring(openStore(t), newBox(t), clk.Now, discard, session.Options{})
	ctx := context.Background()

	type sealedValue struct {
		kind  string
		value string
		open  func(string) error
	}
	var sealed []sealedValue
	rems := map[int]bool{}
	for _, name := range []string{"s", "ss", "sss"} {
		p := principals(clk.Now())["kind=role session"]
		p.Session.SessionName = name
		creds, err := kr.Issue(ctx, &p, 0)
		if err != nil {
			t.Fatal(err)
		}
		rems[len(creds.SessionToken)%4] = true
		sealed = append(sealed, sealedValue{"session token", creds.SessionToken, func(tok string) error { _, err := kr.Open(ctx, tok); return err }})
	}
	for _, action := range []string{"iam:GetUser", "iam:GetUsers", "iam:GetUserss"} {
		msg, err := kr.EncodeAuthorizationMessage(ctx, &session.AuthorizationMessage{Context: session.MessageContext{Action: action}})
		if err != nil {
			t.Fatal(err)
		}
		rems[len(msg)%4] = true
		sealed = append(sealed, sealedValue{"authorization message", msg, func(m string) error { _, err := kr.DecodeAuthorizationMessage(ctx, m); return err }})
	}
	if len(rems) != 3 {
		t.Fatalf("sealed values have lengths %v modulo 4, want 0, 2 and 3 all tried", rems)
	}
	for _, sv := range sealed {
		t.Run("kind="+sv.kind+"/length="+itoa(len(sv.value)), func(t *testing.T) {
			if err := sv.open(sv.value); err != nil {
				t.Fatalf("the issued value does not open: %v", err)
			}
			for how, v := range respellings(sv.value) {
				if err := sv.open(v); !errors.Is(err, session.ErrInvalid) && !errors.Is(err, session.ErrInvalidMessage) {
					t.Errorf("respelled (%s): got %v, want it refused", how, err)
				}
			}
		})
	}
}
