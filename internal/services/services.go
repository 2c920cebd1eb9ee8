// Package services reads the declarations of the services Gatehouse protects besides its own
// IAM and STS API (`serve --services FILE`): for each, its service prefix, actions with their
// access levels, resource types with ARN templates, condition keys, and the HTTP routes that
// map a request to an action and a resource ARN, as the Service Authorization Reference
// describes AWS's own services. Forward-auth and the policy linter read them.
//
// The file is YAML or JSON (YAML is read as JSON is, through sigs.k8s.io/yaml, so both accept
// the same fields):
//
//	services:
//	  - prefix: orders
//	    account: "123456789012"      # owns the resources; default: the caller's account
//	    resourceTypes:
//	      order:
//	        arn: arn:${Partition}:orders:${Region}:${Account}:order/${OrderId}
//	    conditionKeys:
//	      orders:Status: String
//	    actions:
//	      GetOrder: {accessLevel: Read, resourceTypes: [order]}
//	      ListOrders: {accessLevel: List}
//	      CreateOrder: {accessLevel: Write, conditionKeys: [orders:Status]}
//	    routes:
//	      - {route: "GET /orders/{OrderId}", action: GetOrder, resource: order}
//	      - {route: "GET /orders", action: ListOrders}
//	      - route: POST /orders
//	        action: CreateOrder
//	        context: {orders:Status: "header:X-Order-Status"}
package services

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
)

// Set is the parsed, validated declarations of one services file. It is immutable.
type Set struct {
	byPrefix map[string]*Service
}

// Service is one protected service.
type Service struct {
	Prefix string
	Name   string
	// Account owns the service's resources: the ${Account} of its ARNs and the account whose
	// policies a cross-account caller needs. "" means the caller's own account.
	Account string
	// ErrorFormat is how denials are written for its clients: "json" (AWS's JSON protocols,
	// the default) or "xml" (the Query and REST-XML protocols).
	ErrorFormat   string
	Actions       map[string]*Action // by action name as declared
	ResourceTypes map[string]*ResourceType
	ConditionKeys map[string]string // key -> type (String, Numeric, Date, Bool, ...)
	routes        []*Route
	mux           *http.ServeMux
	actionsLower  map[string]*Action
}

// Action is one action of a service.
type Action struct {
	Name          string
	AccessLevel   string   // List, Read, Write, Permissions management, Tagging
	ResourceTypes []string // resource types the action takes; none: it takes "*"
	ConditionKeys []string
}

// ResourceType is a kind of resource with its ARN template.
type ResourceType struct {
	Name          string
	ARN           string
	ConditionKeys []string
	variables     []string // the ${...} of ARN, in order
}

// Route maps an HTTP method and path pattern to an action.
type Route struct {
	// Pattern is a net/http.ServeMux pattern with a method: "GET /orders/{OrderId}".
	Pattern  string
	Action   *Action
	Resource *ResourceType // nil: the action's resource is "*"
	// Values fill the resource's ARN variables that no path wildcard of the same name does.
	Values map[string]ValueSource
	// Context are condition keys of the request and where their values come from.
	Context map[string]ValueSource
}

// ValueSource says where a value comes from: a path wildcard, a query parameter, a header,
// or a literal.
type ValueSource struct {
	From string // "path", "query", "header" or "literal"
	Name string // the wildcard, parameter or header; the value for a literal
}

type fileDoc struct {
	Services []serviceDoc `json:"services"`
}

type serviceDoc struct {
	Prefix        string                     `json:"prefix"`
	Name          string                     `json:"name"`
	Account       string                     `json:"account"`
	ErrorFormat   string                     `json:"errorFormat"`
	Actions       map[string]actionDoc       `json:"actions"`
	ResourceTypes map[string]resourceTypeDoc `json:"resourceTypes"`
	ConditionKeys map[string]string          `json:"conditionKeys"`
	Routes        []routeDoc                 `json:"routes"`
}

type actionDoc struct {
	AccessLevel   string   `json:"accessLevel"`
	ResourceTypes []string `json:"resourceTypes"`
	ConditionKeys []string `json:"conditionKeys"`
}

type resourceTypeDoc struct {
	ARN           string   `json:"arn"`
	ConditionKeys []string `json:"conditionKeys"`
}

type routeDoc struct {
	Route    string            `json:"route"`
	Action   string            `json:"action"`
	Resource string            `json:"resource"`
	Values   map[string]string `json:"values"`
	Context  map[string]string `json:"context"`
}

var (
	prefixPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	actionPattern    = regexp.MustCompile(`^[A-Za-z0-9]{1,128}$`)
	variablePattern  = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)
	accountPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	conditionKeyName = regexp.MustCompile(`^[A-Za-z0-9-]+:[A-Za-z0-9_./-]+$`)
	keyTypes         = []string{"String", "ArrayOfString", "Numeric", "ArrayOfNumeric", "Date", "Bool", "ARN", "ArrayOfARN", "IPAddress", "Binary"}
	accessLevels     = []string{"List", "Read", "Write", "Permissions management", "Tagging"}
)

// builtinVariables are the ARN template variables Gatehouse fills itself.
var builtinVariables = []string{"Partition", "Region", "Account"}

// Parse reads a services file (YAML or JSON) and validates it whole: every problem found is
// reported, each naming the service and the field, so that one edit fixes them all.
func Parse(data []byte) (*Set, error) {
	var doc fileDoc
	if err := yaml.UnmarshalStrict(data, &doc); err != nil {
		return nil, fmt.Errorf("services file: %w", err)
	}
	set := &Set{byPrefix: map[string]*Service{}}
	var errs []error
	for i, sd := range doc.Services {
		svc, err := parseService(sd)
		if err != nil {
			errs = append(errs, fmt.Errorf("service %d (%q): %w", i+1, sd.Prefix, err))
			continue
		}
		if _, dup := set.byPrefix[svc.Prefix]; dup {
			errs = append(errs, fmt.Errorf("service %d: the prefix %q is declared twice", i+1, svc.Prefix))
			continue
		}
		set.byPrefix[svc.Prefix] = svc
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return set, nil
}

func parseService(sd serviceDoc) (*Service, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case !prefixPattern.MatchString(sd.Prefix):
		bad("the prefix must be lower-case letters, digits and hyphens, as AWS's service prefixes are (such as orders)")
	case sd.Prefix == "iam" || sd.Prefix == "sts":
		bad("the prefix %s is Gatehouse's own API", sd.Prefix)
	}
	if sd.Account != "" && !accountPattern.MatchString(sd.Account) {
		bad("account %q is not a 12-digit account id", sd.Account)
	}
	svc := &Service{
		Prefix: sd.Prefix, Name: cmp.Or(sd.Name, sd.Prefix), Account: sd.Account, ErrorFormat: cmp.Or(sd.ErrorFormat, "json"),
		Actions: map[string]*Action{}, ResourceTypes: map[string]*ResourceType{}, ConditionKeys: map[string]string{},
		actionsLower: map[string]*Action{}, mux: http.NewServeMux(),
	}
	if svc.ErrorFormat != "json" && svc.ErrorFormat != "xml" {
		bad("errorFormat %q is neither json nor xml", sd.ErrorFormat)
	}
	for _, key := range slices.Sorted(maps.Keys(sd.ConditionKeys)) {
		typ := sd.ConditionKeys[key]
		if !conditionKeyName.MatchString(key) || !strings.HasPrefix(key, sd.Prefix+":") {
			bad("condition key %q must be named %s:Name", key, sd.Prefix)
		}
		if !slices.Contains(keyTypes, typ) {
			bad("condition key %s has type %q; the types are %s", key, typ, strings.Join(keyTypes, ", "))
		}
		svc.ConditionKeys[key] = typ
	}
	checkKeys := func(where string, keys []string) {
		for _, k := range keys {
			if _, ok := svc.ConditionKeys[k]; !ok && !strings.HasPrefix(k, "aws:") {
				bad("%s names condition key %q, which conditionKeys does not declare", where, k)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(sd.ResourceTypes)) {
		rd := sd.ResourceTypes[name]
		rt := &ResourceType{Name: name, ARN: rd.ARN, ConditionKeys: rd.ConditionKeys}
		if !strings.HasPrefix(rd.ARN, "arn:") || strings.Count(rd.ARN, ":") < 5 {
			bad("resource type %s: arn %q is not an ARN template such as arn:${Partition}:%s:${Region}:${Account}:%s/${Id}", name, rd.ARN, sd.Prefix, name)
		}
		for _, m := range variablePattern.FindAllStringSubmatch(rd.ARN, -1) {
			rt.variables = append(rt.variables, m[1])
		}
		checkKeys("resource type "+name, rd.ConditionKeys)
		svc.ResourceTypes[name] = rt
	}
	for _, name := range slices.Sorted(maps.Keys(sd.Actions)) {
		ad := sd.Actions[name]
		if !actionPattern.MatchString(name) {
			bad("action %q must be letters and digits, as AWS's action names are (such as GetOrder)", name)
		}
		if !slices.Contains(accessLevels, ad.AccessLevel) {
			bad("action %s: accessLevel %q is not one of %s", name, ad.AccessLevel, strings.Join(accessLevels, ", "))
		}
		for _, rt := range ad.ResourceTypes {
			if svc.ResourceTypes[rt] == nil {
				bad("action %s takes resource type %q, which resourceTypes does not declare", name, rt)
			}
		}
		checkKeys("action "+name, ad.ConditionKeys)
		a := &Action{Name: name, AccessLevel: ad.AccessLevel, ResourceTypes: ad.ResourceTypes, ConditionKeys: ad.ConditionKeys}
		if prev := svc.actionsLower[strings.ToLower(name)]; prev != nil {
			bad("actions %s and %s differ only in case; action names are case-insensitive in policies", prev.Name, name)
		}
		svc.Actions[name] = a
		svc.actionsLower[strings.ToLower(name)] = a
	}
	for i, rd := range sd.Routes {
		r, err := svc.parseRoute(rd)
		if err != nil {
			bad("route %d (%q): %v", i+1, rd.Route, err)
			continue
		}
		svc.routes = append(svc.routes, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return svc, nil
}

func (svc *Service) parseRoute(rd routeDoc) (*Route, error) {
	method, path, ok := strings.Cut(strings.TrimSpace(rd.Route), " ")
	if !ok || method == "" || !strings.HasPrefix(strings.TrimSpace(path), "/") || strings.ToUpper(method) != method {
		return nil, errors.New(`a route is a method and a path pattern, such as "GET /orders/{OrderId}"`)
	}
	a := svc.Actions[rd.Action]
	if a == nil {
		return nil, fmt.Errorf("action %q is not declared under actions", rd.Action)
	}
	r := &Route{Pattern: method + " " + strings.TrimSpace(path), Action: a, Values: map[string]ValueSource{}, Context: map[string]ValueSource{}}
	wildcards := pathWildcards(path)
	source := func(spec string) (ValueSource, error) {
		from, name, ok := strings.Cut(spec, ":")
		switch {
		case !ok:
			return ValueSource{From: "literal", Name: spec}, nil
		case from == "path" && !slices.Contains(wildcards, name):
			return ValueSource{}, fmt.Errorf("%q names no wildcard of the path", spec)
		case (from == "path" || from == "query" || from == "header") && name != "":
			return ValueSource{From: from, Name: name}, nil
		}
		return ValueSource{}, fmt.Errorf("value %q must be path:WILDCARD, query:PARAMETER, header:NAME or a literal without a colon", spec)
	}
	if rd.Resource != "" {
		r.Resource = svc.ResourceTypes[rd.Resource]
		if r.Resource == nil {
			return nil, fmt.Errorf("resource type %q is not declared under resourceTypes", rd.Resource)
		}
		if !slices.Contains(a.ResourceTypes, rd.Resource) {
			return nil, fmt.Errorf("action %s does not take resource type %s (its resourceTypes: %v)", a.Name, rd.Resource, a.ResourceTypes)
		}
	}
	for name, spec := range rd.Values {
		vs, err := source(spec)
		if err != nil {
			return nil, fmt.Errorf("values.%s: %w", name, err)
		}
		r.Values[name] = vs
	}
	if r.Resource != nil {
		for _, v := range r.Resource.variables {
			if _, ok := r.Values[v]; ok || slices.Contains(builtinVariables, v) {
				continue
			}
			if !slices.Contains(wildcards, v) {
				return nil, fmt.Errorf("nothing fills ${%s} of the %s ARN: name a path wildcard {%s} or give values.%s", v, r.Resource.Name, v, v)
			}
			r.Values[v] = ValueSource{From: "path", Name: v}
		}
	}
	for key, spec := range rd.Context {
		if _, ok := svc.ConditionKeys[key]; !ok {
			return nil, fmt.Errorf("context key %q is not declared under conditionKeys", key)
		}
		vs, err := source(spec)
		if err != nil {
			return nil, fmt.Errorf("context.%s: %w", key, err)
		}
		r.Context[key] = vs
	}
	if err := svc.register(r); err != nil {
		return nil, err
	}
	return r, nil
}

// pathWildcards are the {NAME} and {NAME...} wildcards of a ServeMux path pattern.
func pathWildcards(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(strings.TrimSuffix(seg[1:len(seg)-1], "..."), "$")
			if name != "" {
				out = append(out, name)
			}
		}
	}
	return out
}

// register adds r's pattern to the service's mux; ServeMux refuses (by panicking) a pattern
// that is malformed or conflicts with another, which is turned into the route's error.
func (svc *Service) register(r *Route) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	svc.mux.Handle(r.Pattern, routeHandler{r})
	return nil
}

// Service returns the service with prefix.
func (s *Set) Service(prefix string) (*Service, bool) {
	if s == nil {
		return nil, false
	}
	svc, ok := s.byPrefix[prefix]
	return svc, ok
}

// Services returns the services, sorted by prefix.
func (s *Set) Services() []*Service {
	if s == nil {
		return nil
	}
	out := slices.Collect(maps.Values(s.byPrefix))
	slices.SortFunc(out, func(a, b *Service) int { return strings.Compare(a.Prefix, b.Prefix) })
	return out
}

// Action returns the action named name, matched case-insensitively as policies match actions.
func (svc *Service) Action(name string) (*Action, bool) {
	a, ok := svc.actionsLower[strings.ToLower(name)]
	return a, ok
}

// Routes returns the service's routes in the file's order.
func (svc *Service) Routes() []*Route { return svc.routes }

// Declarations are the services as the policy linter knows services (servicedata.Reference.With).
func (s *Set) Declarations() []servicedata.Declaration {
	var out []servicedata.Declaration
	for _, svc := range s.Services() {
		d := servicedata.Declaration{Prefix: svc.Prefix, Name: svc.Name, ConditionKeys: svc.ConditionKeys}
		for _, name := range slices.Sorted(maps.Keys(svc.Actions)) {
			a := svc.Actions[name]
			d.Actions = append(d.Actions, servicedata.Action{Name: a.Name, AccessLevel: a.AccessLevel, ResourceTypes: a.ResourceTypes})
		}
		out = append(out, d)
	}
	return out
}

// Gatehouse is Gatehouse's own service: the decision API and the resource policies of
// protected services, whose actions policies grant as gatehouse:ACTION.
func Gatehouse() servicedata.Declaration {
	return servicedata.Declaration{Prefix: "gatehouse", Name: "Gatehouse", Actions: []servicedata.Action{
		{Name: "Authorize", AccessLevel: "Read"},
		{Name: "BatchAuthorize", AccessLevel: "Read"},
		{Name: "GetSigningContext", AccessLevel: "Read"},
		{Name: "PutResourcePolicy", AccessLevel: "Permissions management"},
		{Name: "GetResourcePolicy", AccessLevel: "Read"},
		{Name: "DeleteResourcePolicy", AccessLevel: "Permissions management"},
		{Name: "ListResourcePolicies", AccessLevel: "List"},
	}}
}
