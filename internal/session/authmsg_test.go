package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/policy"
)

func TestAuthorizationMessage(t *testing.T) {
	t.Parallel()
	clk := newClock()
	kr := session.NewKeyring(openStore(t), newBox(t), clk.Now, discard, session.Options{})
	ctx := context.Background()

	caller := &principal.Principal{Type: principal.AssumedRole, Account: "111122223333", ARN: "arn:aws:sts::111122223333:assumed-role/Developer/Ana", UserID: "AROA123456789EXAMPLE:Ana"}
	deny := policy.MustParse(`{"Version":"2012-10-17","Statement":[
		{"Sid":"AllowAll","Effect":"Allow","Action":"*","Resource":"*"},
		{"Sid":"VisualEditor0","Effect":"Deny","Action":"iam:DeleteRole","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}`, policy.Identity)
	pctx := &policy.Context{}
	pctx.Set("aws:RequestedRegion", "us-east-1")
	req := &authz.Request{
		Caller:   &authz.Caller{Type: authz.AssumedRole, Principal: policy.Principal{Account: "111122223333", ARN: caller.ARN, RoleARN: "arn:aws:iam::111122223333:role/Developer"}},
		Action:   "iam:DeleteRole",
		Resource: "arn:aws:iam::111122223333:role/prod",
		Context:  pctx,
		Identity: authz.NewPolicies([]*policy.Policy{deny}, []authz.Source{{Type: authz.IdentityPolicy, ID: "role Developer inline policy p"}}),
	}
	res := authz.Explain(req)
	if res.Decision != authz.ExplicitDeny {
		t.Fatalf("decision %s, want explicitDeny", res.Decision)
	}
	encoded, err := kr.EncodeAuthorizationMessage(ctx, session.NewAuthorizationMessage(caller, req, res))
	if err != nil {
		t.Fatal(err)
	}
	if len(encoded) > session.MaxEncodedMessage {
		t.Errorf("encoded message has %d characters, more than %d", len(encoded), session.MaxEncodedMessage)
	}
	if strings.Contains(encoded, "DeleteRole") {
		t.Error("the encoded message shows the action in the clear")
	}
	decoded, err := kr.DecodeAuthorizationMessage(ctx, encoded)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(decoded), &got); err != nil {
		t.Fatalf("decoded message is not JSON: %v\n%s", err, decoded)
	}
	// The shape of AWS's DecodedMessage (STS API reference and CLI example): allowed,
	// explicitDeny, matchedStatements.items[] with statementId/effect/principals/actions/
	// resources/conditions, failures.items, context.principal/action/resource/conditions.
	checks := []struct {
		name string
		path []any
		want any
	}{
		{"field=allowed", []any{"allowed"}, false},
		{"field=explicitDeny", []any{"explicitDeny"}, true},
		{"field=statement id", []any{"matchedStatements", "items", 0, "statementId"}, "VisualEditor0"},
		{"field=statement effect", []any{"matchedStatements", "items", 0, "effect"}, "DENY"},
		{"field=statement principal", []any{"matchedStatements", "items", 0, "principals", "items", 0, "value"}, "AROA123456789EXAMPLE"},
		{"field=statement action", []any{"matchedStatements", "items", 0, "actions", "items", 0, "value"}, "iam:DeleteRole"},
		{"field=statement condition key", []any{"matchedStatements", "items", 0, "conditions", "items", 0, "key"}, "aws:RequestedRegion"},
		{"field=failures", []any{"failures", "items"}, []any{}},
		{"field=principal id", []any{"context", "principal", "id"}, "AROA123456789EXAMPLE:Ana"},
		{"field=principal arn", []any{"context", "principal", "arn"}, caller.ARN},
		{"field=action", []any{"context", "action"}, "iam:DeleteRole"},
		{"field=resource", []any{"context", "resource"}, "arn:aws:iam::111122223333:role/prod"},
		{"field=context key", []any{"context", "conditions", "items", 0, "key"}, "aws:RequestedRegion"},
		{"field=context value", []any{"context", "conditions", "items", 0, "values", "items", 0, "value"}, "us-east-1"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			v := walk(got, c.path)
			gj, _ := json.Marshal(v)
			wj, _ := json.Marshal(c.want)
			if string(gj) != string(wj) {
				t.Errorf("%v = %s, want %s", c.path, gj, wj)
			}
		})
	}

	t.Run("case=tampered", func(t *testing.T) {
		b := []byte(encoded)
		b[len(b)/2] ^= 0x01
		if b[len(b)/2] == '_' || b[len(b)/2] == '-' {
			b[len(b)/2] = 'A'
		}
		if _, err := kr.DecodeAuthorizationMessage(ctx, string(b)); !errors.Is(err, session.ErrInvalidMessage) {
			t.Errorf("tampered message: %v, want ErrInvalidMessage", err)
		}
	})
	t.Run("case=session token is no message", func(t *testing.T) {
		p := principals(clk.Now())["kind=role session"]
		creds, err := kr.Issue(ctx, &p, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kr.DecodeAuthorizationMessage(ctx, creds.SessionToken); !errors.Is(err, session.ErrInvalidMessage) {
			t.Errorf("session token decoded as a message: %v", err)
		}
	})
	t.Run("case=too long", func(t *testing.T) {
		if _, err := kr.DecodeAuthorizationMessage(ctx, strings.Repeat("A", session.MaxEncodedMessage+1)); !errors.Is(err, session.ErrInvalidMessage) {
			t.Errorf("over-long message: %v", err)
		}
	})
	t.Run("case=huge context is cut to the limit", func(t *testing.T) {
		big := &policy.Context{}
		for i := 0; i < 200; i++ {
			big.Set("aws:RequestTag/k"+strings.Repeat("x", 40)+string(rune('a'+i%26))+string(rune('a'+i/26)), strings.Repeat("v", 100))
		}
		r := *req
		r.Context = big
		enc, err := kr.EncodeAuthorizationMessage(ctx, session.NewAuthorizationMessage(caller, &r, res))
		if err != nil {
			t.Fatal(err)
		}
		if len(enc) > session.MaxEncodedMessage {
			t.Fatalf("%d characters, more than %d", len(enc), session.MaxEncodedMessage)
		}
		dec, err := kr.DecodeAuthorizationMessage(ctx, enc)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(dec, `"explicitDeny":true`) {
			t.Errorf("the cut message lost the decision: %s", dec)
		}
	})
}

// walk follows a path of object keys and array indexes through decoded JSON.
func walk(v any, path []any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}
