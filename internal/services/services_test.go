package services

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func loadOrders(t *testing.T) *Set {
	t.Helper()
	data, err := os.ReadFile("testdata/orders.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestMatch(t *testing.T) {
	t.Parallel()
	set := loadOrders(t)
	for _, tc := range []struct {
		name, service, method, target string
		header                        http.Header
		wantAction, wantResource      string
		wantAccount                   string
		wantContext                   []ContextValue
		wantErr                       string
	}{
		{name: "resource from the path", service: "orders", method: "GET", target: "/orders/17",
			wantAction: "orders:GetOrder", wantResource: "arn:aws:orders:eu-west-1:123456789012:order/17"},
		{name: "same path, other method", service: "orders", method: "DELETE", target: "/orders/17",
			wantAction: "orders:DeleteOrder", wantResource: "arn:aws:orders:eu-west-1:123456789012:order/17"},
		{name: "no resource type", service: "orders", method: "GET", target: "/orders?limit=5",
			wantAction: "orders:ListOrders", wantResource: "*"},
		{name: "context from header and query", service: "orders", method: "POST", target: "/orders?priority=3",
			header: http.Header{"X-Order-Status": {"open"}}, wantAction: "orders:CreateOrder", wantResource: "*",
			wantContext: []ContextValue{{"orders:Priority", []string{"3"}}, {"orders:Status", []string{"open"}}}},
		{name: "service account and query value", service: "ledger", method: "GET", target: "/books/main/entries?id=e-9",
			wantAction: "ledger:GetEntry", wantResource: "arn:aws:ledger::210987654321:entry/main/e-9", wantAccount: "210987654321"},
		{name: "missing query value", service: "ledger", method: "GET", target: "/books/main/entries", wantErr: "query parameter id"},
		{name: "no route for the method", service: "orders", method: "PUT", target: "/orders/17", wantErr: ErrNoRoute.Error()},
		{name: "no route for the path", service: "orders", method: "GET", target: "/customers/1", wantErr: ErrNoRoute.Error()},
		{name: "unclean path matches nothing", service: "orders", method: "GET", target: "/orders/../orders/17", wantErr: ErrNoRoute.Error()},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			svc, ok := set.Service(tc.service)
			if !ok {
				t.Fatalf("no service %s", tc.service)
			}
			r := httptest.NewRequest(tc.method, tc.target, nil)
			for k, v := range tc.header {
				r.Header[k] = v
			}
			m, err := svc.Match(r, "eu-west-1", "123456789012")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Match error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Action != tc.wantAction || m.Resource != tc.wantResource || m.ResourceAccount != tc.wantAccount {
				t.Errorf("Match = %s on %s (account %q), want %s on %s (account %q)", m.Action, m.Resource, m.ResourceAccount, tc.wantAction, tc.wantResource, tc.wantAccount)
			}
			sortContext(m.Context)
			if !reflect.DeepEqual(m.Context, tc.wantContext) {
				t.Errorf("context %v, want %v", m.Context, tc.wantContext)
			}
		})
	}
}

func sortContext(c []ContextValue) {
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j].Key < c[i].Key {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown field", `services: [{prefix: orders, colour: red}]`, `unknown field "colour"`},
		{"bad prefix", `services: [{prefix: Orders}]`, "lower-case letters"},
		{"own prefix", `services: [{prefix: iam}]`, "Gatehouse's own API"},
		{"duplicate prefix", `services: [{prefix: a}, {prefix: a}]`, "declared twice"},
		{"bad account", `services: [{prefix: a, account: "12"}]`, "12-digit"},
		{"bad access level", `services: [{prefix: a, actions: {Get: {accessLevel: Reading}}}]`, `accessLevel "Reading"`},
		{"undeclared resource type", `services: [{prefix: a, actions: {Get: {accessLevel: Read, resourceTypes: [thing]}}}]`, `resource type "thing"`},
		{"not an ARN", `services: [{prefix: a, resourceTypes: {thing: {arn: "thing/${Id}"}}}]`, "not an ARN template"},
		{"undeclared condition key", `services: [{prefix: a, actions: {Get: {accessLevel: Read, conditionKeys: ["a:Colour"]}}}]`, `condition key "a:Colour"`},
		{"key of another service", `services: [{prefix: a, conditionKeys: {"b:Colour": String}}]`, "must be named a:Name"},
		{"bad key type", `services: [{prefix: a, conditionKeys: {"a:Colour": Text}}]`, `type "Text"`},
		{"case-only duplicate action", `services: [{prefix: a, actions: {Get: {accessLevel: Read}, GET: {accessLevel: Read}}}]`, "differ only in case"},
		{"route without method", `services: [{prefix: a, actions: {Get: {accessLevel: Read}}, routes: [{route: "/x", action: Get}]}]`, "method and a path pattern"},
		{"route to unknown action", `services: [{prefix: a, routes: [{route: "GET /x", action: Get}]}]`, `action "Get" is not declared`},
		{"unfilled ARN variable", `services: [{prefix: a, resourceTypes: {t: {arn: "arn:aws:a:::t/${Id}"}}, actions: {Get: {accessLevel: Read, resourceTypes: [t]}}, routes: [{route: "GET /t", action: Get, resource: t}]}]`, "nothing fills ${Id}"},
		{"resource the action does not take", `services: [{prefix: a, resourceTypes: {t: {arn: "arn:aws:a:::t/x"}}, actions: {Get: {accessLevel: Read}}, routes: [{route: "GET /t", action: Get, resource: t}]}]`, "does not take resource type t"},
		{"conflicting routes", `services: [{prefix: a, actions: {Get: {accessLevel: Read}}, routes: [{route: "GET /t/{x}", action: Get}, {route: "GET /t/{y}", action: Get}]}]`, "conflicts"},
		{"bad value source", `services: [{prefix: a, actions: {Get: {accessLevel: Read}}, conditionKeys: {"a:K": String}, routes: [{route: "GET /t", action: Get, context: {"a:K": "cookie:k"}}]}]`, "path:WILDCARD"},
		{"path value of no wildcard", `services: [{prefix: a, actions: {Get: {accessLevel: Read}}, conditionKeys: {"a:K": String}, routes: [{route: "GET /t", action: Get, context: {"a:K": "path:k"}}]}]`, "no wildcard"},
		{"every problem reported", `services: [{prefix: a, account: "1", errorFormat: yaml}]`, "errorFormat"},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestJSONFile(t *testing.T) {
	t.Parallel()
	set, err := Parse([]byte(`{"services":[{"prefix":"orders","actions":{"ListOrders":{"accessLevel":"List"}},"routes":[{"route":"GET /orders","action":"ListOrders"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := set.Service("orders")
	if a, ok := svc.Action("listorders"); !ok || a.Name != "ListOrders" {
		t.Errorf("Action(listorders) = %v, %v", a, ok)
	}
}

// TestReload rewrites the file under a running File: a valid change takes effect once it has
// settled, an invalid or empty one leaves the previous declarations in use; Open takes an empty
// file as no services.
func TestReload(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "services.yaml")
	write := func(doc string) {
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`services: [{prefix: orders}]`)
	f, err := Open(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Run(ctx, 10*time.Millisecond)
	waitFor := func(what string, ok func(*Set) bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if ok(f.Current()) {
				return
			}
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	write(`services: [{prefix: orders}, {prefix: ledger}]`)
	waitFor("the ledger service", func(s *Set) bool { _, ok := s.Service("ledger"); return ok })
	write(`services: [{prefix: Not Valid}]`)
	time.Sleep(100 * time.Millisecond)
	if _, ok := f.Current().Service("ledger"); !ok {
		t.Fatal("an invalid file replaced the declarations in use")
	}
	if err := f.Reload(); err == nil {
		t.Fatal("Reload of an invalid file succeeded")
	}
	write(``) // what a writer's truncation leaves for a moment
	time.Sleep(100 * time.Millisecond)
	if _, ok := f.Current().Service("ledger"); !ok {
		t.Fatal("an empty file replaced the declarations in use")
	}
	if empty, err := Open(path, nil); err != nil || len(empty.Current().Services()) != 0 {
		t.Errorf("Open of an empty file = %v; want no services", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.yaml"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file: %v", err)
	}
}

// FuzzParse checks that any document is either refused or yields services whose routes all
// resolve without panicking.
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("testdata/orders.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	f.Add(`services: [{prefix: a, routes: [{route: "GET /{x...}", action: A}], actions: {A: {accessLevel: Read}}}]`)
	f.Add(`{"services":[]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		set, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		for _, svc := range set.Services() {
			for _, r := range svc.Routes() {
				method, path, _ := strings.Cut(r.Pattern, " ")
				path = strings.NewReplacer("{", "", "}", "", ".", "", "$", "").Replace(path)
				req, err := http.NewRequest(method, "http://h"+path, nil)
				if err != nil {
					continue
				}
				_, _ = svc.Match(req, "us-east-1", "123456789012")
			}
		}
	})
}
