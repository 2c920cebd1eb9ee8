package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/audit"
	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/iam"
	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// `gatehouse policy generate` writes the least-privilege identity policy of what a principal
// did, from the deployment's audit trail, as IAM Access Analyzer's policy generation does
// from CloudTrail ("IAM Access Analyzer policy generation", IAM User Guide):
//   - The calls of the principal in the window count: for a user its own, for a role those of
//     its sessions. A call that was denied, or that failed authentication or the request's
//     validation (which come before authorization), does not count: it shows no permission
//     the principal needs. A call that failed later (NoSuchEntity...) was authorized and
//     counts, read-only calls too.
//   - One statement per service, or per group of a service's actions used on the same
//     resources; actions sorted; resources as the ARNs the trail names. More than
//     generalizeAbove ARNs of one resource type become their common prefix up to a segment
//     boundary ("/" or ":") followed by "*". An action of which a call named no resource has
//     "*" (the trail cannot say which resource it needed).
//   - Action names are spelled as the Service Authorization Reference spells them when it
//     knows them, else as the trail does (a protected service of --services).

// generalizeAbove is how many ARNs of one resource type are listed before they are replaced
// by a wildcard.
const generalizeAbove = 5

// uncountedErrors are the error codes of calls that show no permission the caller needs:
// denials, authentication failures and requests refused before authorization.
var uncountedErrors = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
	"Client.UnauthorizedOperation": true, "UnauthorizedAccess": true,
	"InvalidClientTokenId": true, "SignatureDoesNotMatch": true, "IncompleteSignature": true,
	"ExpiredToken": true, "ExpiredTokenException": true, "MissingAuthenticationToken": true,
	"InvalidAccessKeyId": true, "UnrecognizedClientException": true, "InvalidSignatureException": true,
	"AuthFailure": true, "NotAuthorized": true, "RequestExpired": true,
	"ValidationError": true, "ValidationException": true, "MalformedQueryString": true,
	"InvalidAction": true, "MissingAction": true, "MissingParameter": true, "InvalidParameterValue": true,
}

func runPolicyGenerate(ctx context.Context, env Env, args []string) error {
	var cfg config.Config
	fs := newFlagSet(env, "policy generate --principal ARN [--since DURATION] [flags]",
		"Writes the least-privilege identity policy that covers exactly the actions and resources\n"+
			"the principal (an IAM user, or a role: its sessions' calls) used in the window, read from\n"+
			"the deployment's audit trail, as IAM Access Analyzer's policy generation does: one\n"+
			"statement per service (or per group of its actions used on the same resources), the ARNs\n"+
			"used (more than 5 of one type become a wildcard), \"*\" for actions without a resource.\n"+
			"Denied calls and calls that failed authentication do not count. It reads the trail while\n"+
			"a server runs on the same data directory or database.")
	cfg.DataDirFlag(fs)
	logFormatFlag(fs, &cfg.LogFormat, "text")
	principalARN := fs.String("principal", "", "ARN of the IAM user or role (required)")
	since := fs.String("since", "7d", "the window: calls this long ago or later (a Go duration, or N followed by d for days)")
	if err := parse(fs, args); err != nil {
		return err
	}
	window, err := parseSince(*since)
	if err != nil || *principalARN == "" {
		if err != nil {
			fmt.Fprintf(env.Stderr, "--since: %v\n", err)
		} else {
			fmt.Fprintln(env.Stderr, "--principal is required")
		}
		fs.Usage()
		return errUsage
	}
	p, err := parseGeneratePrincipal(*principalARN)
	if err != nil {
		return err
	}
	a, err := openForCLI(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	log, ok := a.EventLog()
	if !ok {
		return fmt.Errorf("the deployment's database keeps no audit trail")
	}
	ref, err := servicedata.Load()
	if err != nil {
		return err
	}
	now := time.Now()
	doc, err := generatePolicy(ctx, log, ref, p, now.Add(-window), now)
	if err != nil {
		return err
	}
	_, err = env.Stdout.Write(doc)
	return err
}

// parseSince reads a window: a Go duration, or a whole number of days ("7d").
func parseSince(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, err
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	return d, nil
}

// generatePrincipal is the user or role a policy is generated for.
type generatePrincipal struct {
	arn, account, typ, name string // typ: user or role
}

func parseGeneratePrincipal(s string) (generatePrincipal, error) {
	bad := fmt.Errorf("--principal %q: want the ARN of an IAM user or role (arn:aws:iam::ACCOUNT:user/NAME, arn:aws:iam::ACCOUNT:role/NAME)", s)
	rest, ok := strings.CutPrefix(s, "arn:aws:iam::")
	if !ok {
		return generatePrincipal{}, bad
	}
	account, resource, _ := strings.Cut(rest, ":")
	typ, pathName, ok := strings.Cut(resource, "/")
	if !policy.IsAccountID(account) || !ok || pathName == "" || strings.HasSuffix(pathName, "/") || typ != "user" && typ != "role" {
		return generatePrincipal{}, bad
	}
	return generatePrincipal{arn: s, account: account, typ: typ, name: pathName[strings.LastIndex(pathName, "/")+1:]}, nil
}

// usedAction is one action the principal used, with the resources of its calls.
type usedAction struct {
	name      string          // service:Action
	resources map[string]bool // ARNs
	anyRes    bool            // a call named no resource
}

// generatePolicy reads the principal's calls between since and until and writes the policy.
func generatePolicy(ctx context.Context, log store.EventLog, ref *servicedata.Reference, p generatePrincipal, since, until time.Time) ([]byte, error) {
	q := store.EventQuery{Account: p.account, Start: since, End: until}
	if p.typ == "user" {
		q.Attribute, q.Value = store.EventAttrUsername, p.name
	}
	used := map[string]*usedAction{} // by lower-case action
	err := iam.ScanEvents(ctx, log, q, func(se store.Event) error {
		var ev audit.Event
		if err := json.Unmarshal(se.Data, &ev); err != nil {
			return fmt.Errorf("audit event %s: %w", se.ID, err)
		}
		if _, arn := iam.TrailIdentity(ev.UserIdentity); arn != p.arn || uncountedErrors[ev.ErrorCode] {
			return nil
		}
		ns, ok := strings.CutSuffix(ev.EventSource, ".amazonaws.com")
		if !ok || ns == "" || ev.EventName == "" {
			return nil
		}
		action := ns + ":" + ev.EventName
		if a, ok := ref.Action(action); ok {
			svc, _ := ref.Service(ns)
			action = svc.Prefix + ":" + a.Name
		}
		key := strings.ToLower(action)
		u := used[key]
		if u == nil {
			u = &usedAction{name: action, resources: map[string]bool{}}
			used[key] = u
		}
		named := false
		for _, r := range ev.Resources {
			if r.ARN != "" && r.ARN != "*" {
				u.resources[r.ARN], named = true, true
			}
		}
		u.anyRes = u.anyRes || !named
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(used) == 0 {
		return nil, fmt.Errorf("the audit trail has no calls of %s since %s: there is nothing to allow", p.arn, since.UTC().Format(time.RFC3339))
	}
	return leastPrivilegePolicy(used)
}

// generatedStatement is one statement of the generated policy.
type generatedStatement struct {
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource any      `json:"Resource"` // "*" or a list of ARNs
}

// leastPrivilegePolicy groups the actions by service and by resources.
func leastPrivilegePolicy(used map[string]*usedAction) ([]byte, error) {
	type group struct {
		service   string
		resources []string
		actions   []string
	}
	groups := map[string]*group{}
	for _, u := range used {
		res := []string{"*"}
		if !u.anyRes {
			res = generalizeARNs(setList(u.resources))
		}
		svc, _, _ := strings.Cut(u.name, ":")
		key := strings.ToLower(svc) + "\x00" + strings.Join(res, "\x00")
		g := groups[key]
		if g == nil {
			g = &group{service: strings.ToLower(svc), resources: res}
			groups[key] = g
		}
		g.actions = append(g.actions, u.name)
	}
	list := make([]*group, 0, len(groups))
	for _, g := range groups {
		slices.SortFunc(g.actions, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		list = append(list, g)
	}
	slices.SortFunc(list, func(a, b *group) int {
		return cmp.Or(strings.Compare(a.service, b.service), strings.Compare(strings.ToLower(a.actions[0]), strings.ToLower(b.actions[0])))
	})
	doc := struct {
		Version   string               `json:"Version"`
		Statement []generatedStatement `json:"Statement"`
	}{Version: "2012-10-17"}
	for _, g := range list {
		st := generatedStatement{Effect: "Allow", Action: g.actions, Resource: g.resources}
		if len(g.resources) == 1 {
			st.Resource = g.resources[0]
		}
		doc.Statement = append(doc.Statement, st)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	if _, err := policy.Parse(b, policy.Identity); err != nil {
		return nil, fmt.Errorf("the generated policy does not parse (a bug): %w", err)
	}
	return b, nil
}

func setList(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// generalizeARNs replaces more than generalizeAbove ARNs of one resource type (the same
// service, region, account and resource type) by their common prefix up to a segment
// boundary, followed by "*". The result is sorted.
func generalizeARNs(arns []string) []string {
	byType := map[string][]string{}
	var types []string
	for _, a := range arns {
		t := resourceTypeOf(a)
		if byType[t] == nil {
			types = append(types, t)
		}
		byType[t] = append(byType[t], a)
	}
	var out []string
	for _, t := range types {
		list := byType[t]
		if len(list) <= generalizeAbove {
			out = append(out, list...)
			continue
		}
		prefix := list[0]
		for _, a := range list[1:] {
			n := 0
			for n < len(prefix) && n < len(a) && prefix[n] == a[n] {
				n++
			}
			prefix = prefix[:n]
		}
		if i := strings.LastIndexAny(prefix, "/:"); i >= 0 {
			prefix = prefix[:i+1]
		}
		out = append(out, prefix+"*")
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// resourceTypeOf is an ARN up to the end of its resource type: arn:aws:iam::123456789012:user
// for arn:aws:iam::123456789012:user/a/b, arn:aws:s3::: for arn:aws:s3:::bucket.
func resourceTypeOf(a string) string {
	parts := strings.SplitN(a, ":", 6)
	if len(parts) < 6 {
		return a
	}
	res := parts[5]
	if i := strings.IndexAny(res, "/:"); i >= 0 {
		res = res[:i]
	} else {
		res = "" // a resource without a type (an S3 bucket): the service's resources
	}
	return strings.Join(parts[:5], ":") + ":" + res
}
