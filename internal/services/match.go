package services

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Match is a request mapped to what it asks of the service.
type Match struct {
	Route    *Route
	Action   string // "orders:GetOrder"
	Resource string // the resource's ARN, or "*" for an action without a resource type
	// ResourceAccount owns the resource: the service's account, or "" for the caller's.
	ResourceAccount string
	Context         []ContextValue
}

// ContextValue is one condition key of the request, from the route's context.
type ContextValue struct {
	Key    string
	Values []string
}

// ErrNoRoute means no route of the service matches the request's method and path.
var ErrNoRoute = fmt.Errorf("no route matches the request")

type matchKey struct{}

// matching is what the route handler found, carried through ServeMux in the context.
type matching struct {
	route *Route
	req   *http.Request
}

type routeHandler struct{ route *Route }

func (h routeHandler) ServeHTTP(_ http.ResponseWriter, r *http.Request) {
	if m, ok := r.Context().Value(matchKey{}).(*matching); ok {
		m.route, m.req = h.route, r
	}
}

// discard is the ResponseWriter of a routing pass: a request that matches no route (ServeMux's
// 404, 405 or redirect to a cleaned path) writes here and leaves no match.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}
func (*discard) Write(p []byte) (int, error) { return len(p), nil }
func (*discard) WriteHeader(int)             {}

// Match maps r (the client's method, URL and headers) to a route, its action and its resource
// ARN. ServeMux's rules decide which route: the most specific pattern wins, and a path that is
// not clean matches nothing. region fills ${Region}; the caller's account fills ${Account}
// when the service declares no account of its own. It returns ErrNoRoute, or an error naming
// a value the request lacks.
func (svc *Service) Match(r *http.Request, region, callerAccount string) (*Match, error) {
	var m matching
	svc.mux.ServeHTTP(&discard{}, r.WithContext(context.WithValue(r.Context(), matchKey{}, &m)))
	if m.route == nil {
		return nil, ErrNoRoute
	}
	route := m.route
	out := &Match{Route: route, Action: svc.Prefix + ":" + route.Action.Name, Resource: "*", ResourceAccount: svc.Account}
	if rt := route.Resource; rt != nil {
		account := svc.Account
		if account == "" {
			account = callerAccount
		}
		var missing error
		arn := variablePattern.ReplaceAllStringFunc(rt.ARN, func(v string) string {
			name := v[2 : len(v)-1]
			switch name {
			case "Partition":
				return "aws"
			case "Region":
				return region
			case "Account":
				return account
			}
			vals := route.Values[name].values(m.req)
			if len(vals) == 0 || vals[0] == "" {
				if missing == nil {
					missing = fmt.Errorf("the request gives no %s for the %s ARN (%s)", route.Values[name].describe(), rt.Name, v)
				}
				return ""
			}
			return vals[0]
		})
		if missing != nil {
			return nil, missing
		}
		out.Resource = arn
	}
	for key, src := range route.Context {
		if vals := src.values(m.req); len(vals) > 0 {
			out.Context = append(out.Context, ContextValue{Key: key, Values: vals})
		}
	}
	return out, nil
}

// values reads the source's values from r (r as ServeMux passed it, with its path values).
func (vs ValueSource) values(r *http.Request) []string {
	switch vs.From {
	case "path":
		if v := r.PathValue(vs.Name); v != "" {
			return []string{v}
		}
	case "query":
		return r.URL.Query()[vs.Name]
	case "header":
		return r.Header.Values(vs.Name)
	case "literal":
		return []string{vs.Name}
	}
	return nil
}

func (vs ValueSource) describe() string {
	switch vs.From {
	case "query":
		return "query parameter " + vs.Name
	case "header":
		return "header " + vs.Name
	}
	return strings.TrimSpace(vs.From + " " + vs.Name)
}
