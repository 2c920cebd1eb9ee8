package middleware

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gatehouse-iam/gatehouse/internal/services"
)

// RoutesFromServices returns a Config.Routes that maps requests by the routes a services file
// declares for the service prefix (the file `gatehouse serve --services` reads, YAML or
// JSON; see docs/protecting-services.md): the action, the resource ARN from its template
// (${Region} the signature's, ${Account} the service's account or the caller's) and the
// route's condition keys.
func RoutesFromServices(data []byte, prefix string) (func(*http.Request, *Identity) (Route, error), error) {
	set, err := services.Parse(data)
	if err != nil {
		return nil, err
	}
	svc, ok := set.Service(prefix)
	if !ok {
		return nil, fmt.Errorf("middleware: the services file declares no service %q", prefix)
	}
	return func(r *http.Request, caller *Identity) (Route, error) {
		m, err := svc.Match(r, caller.Region, caller.Account)
		if errors.Is(err, services.ErrNoRoute) {
			return Route{}, ErrNoRoute
		}
		if err != nil {
			return Route{}, err
		}
		rt := Route{Action: m.Action, Resource: m.Resource, ResourceAccount: m.ResourceAccount}
		if len(m.Context) > 0 {
			rt.Context = make(map[string][]string, len(m.Context))
			for _, c := range m.Context {
				rt.Context[c.Key] = c.Values
			}
		}
		return rt, nil
	}, nil
}
