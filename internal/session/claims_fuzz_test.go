package session

import (
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/principal"
)

// FuzzDecodeClaims checks that the claims decoder never panics on any plaintext (a token
// opens only if the server sealed it, but the decoder must be safe regardless) and that what it
// accepts survives a round trip through the encoder.
func FuzzDecodeClaims(f *testing.F) {
	now := time.Unix(1767225600, 0).UTC()
	seeds := []Claims{
		{Principal: principal.Principal{Type: principal.Root, Account: "123456789012", ARN: "arn:aws:iam::123456789012:root", UserID: "123456789012", AccessKeyID: "ASIAEXAMPLE", Session: &principal.Session{IssuedAt: now, Expires: now.Add(time.Hour), MFA: true, MFAAt: now}}, SecretAccessKey: "s"},
		{Principal: principal.Principal{Type: principal.AssumedRole, Account: "123456789012", ARN: "arn:aws:sts::123456789012:assumed-role/r/s", UserID: "AROA:s", AccessKeyID: "ASIAEXAMPLE", Session: &principal.Session{
			IssuedAt: now, Expires: now.Add(time.Hour), RoleID: "AROA", RoleARN: "arn:aws:iam::123456789012:role/r", RoleName: "r", SessionName: "s",
			Policies: []string{"{}", ""}, PolicyARNs: []string{"arn"}, Tags: map[string]string{"a": "b", "": ""}, TransitiveKeys: []string{"a"}, SourceIdentity: "x", Chained: true, Console: true, Federated: "f",
		}}, SecretAccessKey: "secret"},
	}
	for i := range seeds {
		f.Add(appendClaims(nil, &seeds[i]))
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x0a, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeClaims(data)
		if err != nil {
			return
		}
		again, err := decodeClaims(appendClaims(nil, c))
		if err != nil {
			t.Fatalf("re-encoded claims do not decode: %v", err)
		}
		// Empty strings in repeated fields survive; absent and empty single fields are alike.
		if !reflect.DeepEqual(normalized(again), normalized(c)) {
			t.Fatalf("round trip:\n got %+v %+v\nwant %+v %+v", again.Principal, *again.Principal.Session, c.Principal, *c.Principal.Session)
		}
	})
}

// normalized makes empty collections nil, which the encoding does not tell apart.
func normalized(c *Claims) Claims {
	out := *c
	s := *c.Principal.Session
	if len(s.Tags) == 0 {
		s.Tags = nil
	}
	out.Principal.Session = &s
	return out
}
