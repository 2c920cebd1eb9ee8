package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/gatehouse-iam/gatehouse/arn"
	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/policylint"
	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
	"github.com/gatehouse-iam/gatehouse/internal/services"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// runPolicy runs `gatehouse policy validate|eval|actions`: offline policy tools that read files
// and run the same policy and authz code as the server, and look up actions in the Service
// Authorization Reference.
func runPolicy(ctx context.Context, env Env, args []string) error {
	const synopsis = "gatehouse policy validate [--type TYPE] FILE...\n       gatehouse policy eval [flags]\n" +
		"       gatehouse policy actions SERVICE [--access-level LEVELS] [--resource TYPES] [--search WORDS] [--policy]\n" +
		"       gatehouse policy generate --principal ARN [--since DURATION] [--data-dir DIR | --database URL]"
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := env.Stdout
		if len(args) == 0 {
			w = env.Stderr
		}
		fmt.Fprintf(w, "Usage: %s\n\nRun 'gatehouse policy SUBCOMMAND --help' (validate, eval, actions, generate) for flags.\n", synopsis)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "validate":
		return runPolicyValidate(ctx, env, args[1:])
	case "eval":
		return runPolicyEval(ctx, env, args[1:])
	case "actions":
		return runPolicyActions(ctx, env, args[1:])
	case "generate":
		return runPolicyGenerate(ctx, env, args[1:])
	}
	fmt.Fprintf(env.Stderr, "gatehouse policy: unknown subcommand %q (validate, eval, actions, generate)\n", args[0])
	return errUsage
}

// policyTypeNames are the --type values, in the order of policyTypes.
func policyTypeNames() []string {
	return []string{"identity", "resource", "trust", "scp", "rcp", "session"}
}

func parsePolicyType(s string) (policy.Type, bool) {
	for i, n := range policyTypeNames() {
		if strings.EqualFold(s, n) {
			return []policy.Type{policy.Identity, policy.Resource, policy.Trust, policy.SCP, policy.RCP, policy.Session}[i], true
		}
	}
	return 0, false
}

func runPolicyValidate(_ context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "policy validate", "Validate policy documents as IAM does (errors, with AWS's MalformedPolicyDocument\n"+
		"messages) and warn about what IAM accepts but is probably wrong: unknown service\n"+
		"prefixes, actions and condition keys, Allow with NotAction or NotResource, full\n"+
		"wildcards, and statements that a Deny in the same policy makes unreachable.\n"+
		"Exit status 1 when a document has errors; warnings alone exit 0.\n\n"+
		"Usage: gatehouse policy validate [--type TYPE] [--services FILE] FILE...")
	typ := fs.String("type", "identity", "document type: "+strings.Join(policyTypeNames(), ", "))
	servicesFile := fs.String("services", "", "the services file of `serve --services`: their actions and condition keys are known too")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	t, ok := parsePolicyType(*typ)
	if !ok || fs.NArg() == 0 {
		if !ok {
			fmt.Fprintf(env.Stderr, "unknown --type %q\n", *typ)
		}
		fs.Usage()
		return errUsage
	}
	ref, err := servicedata.Load()
	if err != nil {
		return err
	}
	decls := []servicedata.Declaration{services.Gatehouse()}
	if *servicesFile != "" {
		data, err := os.ReadFile(*servicesFile)
		if err != nil {
			return err
		}
		set, err := services.Parse(data)
		if err != nil {
			return fmt.Errorf("%s: %w", *servicesFile, err)
		}
		decls = append(decls, set.Declarations()...)
	}
	ref = ref.With(decls...)
	invalid := 0
	for _, file := range fs.Args() {
		doc, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		fds, valid := policylint.Check(doc, t, ref)
		if !valid {
			invalid++
		}
		if len(fds) == 0 {
			fmt.Fprintf(env.Stdout, "%s: ok\n", file)
			continue
		}
		for _, f := range fds {
			where := file
			if f.Pos.Line > 0 {
				where = fmt.Sprintf("%s:%d:%d", file, f.Pos.Line, f.Pos.Column)
			}
			kind := "error"
			if f.Warning {
				kind = "warning"
			}
			fmt.Fprintf(env.Stdout, "%s: %s: %s\n", where, kind, f.Message)
		}
	}
	if invalid > 0 {
		return fmt.Errorf("%d of %d documents are not valid", invalid, fs.NArg())
	}
	return nil
}

// checkSyntax reports a JSON syntax error of the policy file named file as FILE:LINE:COLUMN.
func checkSyntax(file string, doc []byte) error {
	if pos, detail, ok := policylint.SyntaxError(doc); ok {
		return fmt.Errorf("%s:%d:%d: Syntax errors in policy. (%s)", file, pos.Line, pos.Column, detail)
	}
	return nil
}

// roleSession is the session of role ARN principal that `policy eval` evaluates a role as: its
// assumed-role ARN, with session name evalSessionName. ok is false for other principals.
func roleSession(principal string) (sessionARN string, ok bool) {
	a, err := arn.Parse(principal)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return "", false
	}
	name := a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
	if name == "" {
		return "", false
	}
	return "arn:" + a.Partition + ":sts::" + a.Account + ":assumed-role/" + name + "/" + evalSessionName, true
}

// evalSessionName names the role session `policy eval` evaluates a role ARN principal as.
const evalSessionName = "policy-eval"

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func runPolicyEval(_ context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "policy eval", "Decide requests by AWS's evaluation logic, offline, with the server's code. Give the\n"+
		"request with flags, or --request FILE holding a JSON request or an array of them:\n"+
		`  {"principal": ARN, "action": "svc:Action", "resource": ARN, "resourceAccount": "123456789012",`+"\n"+
		`   "context": {"key": "value" or ["values"]}, "identityPolicies": [docs], "resourcePolicy": doc,`+"\n"+
		`   "permissionsBoundaries": [docs], "sessionPolicies": [docs],`+"\n"+
		`   "serviceControlPolicies": [[docs of one level], ...], "resourceControlPolicies": [[...], ...]}`+"\n"+
		"The principal is an account root, user, role, role-session or federated-user ARN, a\n"+
		"service principal such as s3.amazonaws.com, or null (anonymous). A role is evaluated\n"+
		"as its session "+evalSessionName+" (the identity policies given are the role's).\n"+
		"Organization levels run root first; each RCP level includes RCPFullAWSAccess. A JSON\n"+
		"syntax error is reported at its FILE:LINE:COLUMN. Prints one decision per request:\n"+
		"allowed, explicitDeny or implicitDeny (with the request's name or action and resource\n"+
		"when there are several); --json adds matched statements, missing context keys, each\n"+
		"policy type's decision and AWS's AccessDenied message.\n\n"+
		"Usage: gatehouse policy eval --request FILE [--json] [--check]\n"+
		"       gatehouse policy eval --policy FILE... --action A... [--resource ARN...] [flags]")
	var reqFile, principal, resourcePolicy, resourceAccount string
	var asJSON, check bool
	var policies, boundaries, sessions, scps, rcps, actions, resources, contexts listFlag
	fs.StringVar(&reqFile, "request", "", "JSON `FILE` with a request or an array of requests")
	fs.BoolVar(&asJSON, "json", false, "print JSON results with matched statements")
	fs.BoolVar(&check, "check", false, "with --request: exit 1 when a decision differs from the request's \"want\"")
	fs.Var(&policies, "policy", "identity-based policy `FILE` (repeatable)")
	fs.Var(&boundaries, "boundary", "permissions boundary `FILE` (repeatable)")
	fs.Var(&sessions, "session", "session policy `FILE` (repeatable)")
	fs.StringVar(&resourcePolicy, "resource-policy", "", "resource-based policy `FILE`")
	fs.Var(&scps, "scp", "SCP `FILE`, one organization level each, root first (repeatable)")
	fs.Var(&rcps, "rcp", "RCP `FILE`, one organization level each, root first (repeatable)")
	fs.StringVar(&principal, "principal", "", "caller `ARN` or service principal (default: "+quickPrincipal+" with --policy, else anonymous)")
	fs.Var(&actions, "action", "`service:Action` to decide (repeatable)")
	fs.Var(&resources, "resource", "resource `ARN` (repeatable; default *)")
	fs.StringVar(&resourceAccount, "resource-account", "", "`ACCOUNT` that owns the resource (default: the caller's)")
	fs.Var(&contexts, "context", "context `key=value` (single-valued) or key=[\"a\",\"b\"] (multivalued) (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var reqs []authz.RequestJSON
	names := map[string]string{} // source id -> file, for quick use
	switch {
	case reqFile != "" && (len(policies)+len(actions)+len(boundaries)+len(sessions)+len(scps)+len(rcps)+len(contexts)+len(resources) > 0 ||
		resourcePolicy != "" || principal != "" || resourceAccount != ""):
		fmt.Fprintln(env.Stderr, "--request cannot be combined with the quick-use flags")
		fs.Usage()
		return errUsage
	case reqFile != "":
		b, err := os.ReadFile(reqFile)
		if err != nil {
			return err
		}
		if reqs, err = authz.DecodeRequests(b); err != nil {
			if pos, _, ok := policylint.SyntaxError(b); ok {
				return fmt.Errorf("%s:%d:%d: %w", reqFile, pos.Line, pos.Column, err)
			}
			return fmt.Errorf("%s: %w", reqFile, err)
		}
	case len(actions) > 0:
		var err error
		if reqs, err = quickRequests(quickFlags{principal, resourcePolicy, resourceAccount, policies, boundaries, sessions, scps, rcps, actions, resources, contexts}, names); err != nil {
			return err
		}
	default:
		fmt.Fprintln(env.Stderr, "give --request FILE, or --action with policy files")
		fs.Usage()
		return errUsage
	}
	var results []evalOutput
	differ := 0
	for i := range reqs {
		r := &reqs[i]
		// A role is evaluated as a session of it; the session's ARN does not carry the role's
		// path, so the caller's role ARN is the one given, for resource policies naming it.
		var role string
		if r.Principal != nil {
			if session, ok := roleSession(*r.Principal); ok {
				role = *r.Principal
				r.Principal = &session
			}
		}
		req, err := r.Build()
		if err != nil {
			return fmt.Errorf("request %s: %w", requestLabel(r, i), err)
		}
		if role != "" {
			req.Caller.RoleARN = role
		}
		res := authz.Explain(req)
		if check && r.Want != "" && string(res.Decision) != r.Want {
			differ++
			fmt.Fprintf(env.Stderr, "request %s: %s, want %s (%s)\n", requestLabel(r, i), res.Decision, r.Want, r.Source)
		}
		if asJSON {
			results = append(results, newEvalOutput(r, req, res, names))
			continue
		}
		line := string(res.Decision)
		switch {
		case r.Name != "":
			line += "\t" + r.Name
		case len(reqs) > 1:
			line += "\t" + req.Action + " " + req.Resource
		}
		fmt.Fprintln(env.Stdout, line)
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	}
	if differ > 0 {
		return fmt.Errorf("%d of %d decisions differ from the expected ones", differ, len(reqs))
	}
	return nil
}

func requestLabel(r *authz.RequestJSON, i int) string {
	if r.Name != "" {
		return fmt.Sprintf("%d (%s)", i+1, r.Name)
	}
	return fmt.Sprint(i + 1)
}

type quickFlags struct {
	principal, resourcePolicy, resourceAccount                               string
	policies, boundaries, sessions, scps, rcps, actions, resources, contexts listFlag
}

// quickRequests builds one request per action and resource from the quick-use flags; names
// records which file each policy source came from.
func quickRequests(q quickFlags, names map[string]string) ([]authz.RequestJSON, error) {
	read := func(files []string, field string) ([]json.RawMessage, error) {
		var out []json.RawMessage
		for i, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			if err := checkSyntax(f, b); err != nil {
				return nil, err
			}
			out = append(out, json.RawMessage(b))
			names[fmt.Sprintf("%s[%d]", field, i)] = f
		}
		return out, nil
	}
	var base authz.RequestJSON
	var err error
	if base.IdentityPolicies, err = read(q.policies, "identityPolicies"); err != nil {
		return nil, err
	}
	if q.boundaries != nil {
		if base.PermissionsBoundaries, err = read(q.boundaries, "permissionsBoundaries"); err != nil {
			return nil, err
		}
	}
	if q.sessions != nil {
		if base.SessionPolicies, err = read(q.sessions, "sessionPolicies"); err != nil {
			return nil, err
		}
	}
	for i, f := range q.scps {
		lv, err := read([]string{f}, fmt.Sprintf("serviceControlPolicies[%d]", i))
		if err != nil {
			return nil, err
		}
		base.ServiceControlPolicies = append(base.ServiceControlPolicies, lv)
	}
	for i, f := range q.rcps {
		lv, err := read([]string{f}, fmt.Sprintf("resourceControlPolicies[%d]", i))
		if err != nil {
			return nil, err
		}
		base.ResourceControlPolicies = append(base.ResourceControlPolicies, lv)
	}
	if q.resourcePolicy != "" {
		b, err := os.ReadFile(q.resourcePolicy)
		if err != nil {
			return nil, err
		}
		if err := checkSyntax(q.resourcePolicy, b); err != nil {
			return nil, err
		}
		base.ResourcePolicy = b
		names["resourcePolicy"] = q.resourcePolicy
	}
	switch {
	case q.principal != "":
		base.Principal = &q.principal
	case len(q.policies) > 0:
		// Identity policies need an identity to apply to; anonymous callers have none.
		example := quickPrincipal
		base.Principal = &example
	}
	base.ResourceAccount = q.resourceAccount
	if len(q.contexts) > 0 {
		base.Context = map[string]json.RawMessage{}
		for _, kv := range q.contexts {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("--context %q: want key=value or key=[\"a\",\"b\"]", kv)
			}
			if strings.HasPrefix(v, "[") {
				var vals []string
				if err := json.Unmarshal([]byte(v), &vals); err != nil {
					return nil, fmt.Errorf("--context %s: a multivalued key is a JSON array of strings: %w", k, err)
				}
				base.Context[k], _ = json.Marshal(vals)
				continue
			}
			base.Context[k], _ = json.Marshal(v)
		}
	}
	resources := q.resources
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var out []authz.RequestJSON
	for _, a := range q.actions {
		for _, r := range resources {
			req := base
			req.Action, req.Resource = a, r
			out = append(out, req)
		}
	}
	return out, nil
}

// evalOutput is one result of `policy eval --json`.
type evalOutput struct {
	Name     string            `json:"name,omitempty"`
	Action   string            `json:"action"`
	Resource string            `json:"resource"`
	Decision authz.Decision    `json:"decision"`
	Want     string            `json:"want,omitempty"`
	DeniedBy authz.PolicyType  `json:"deniedBy,omitempty"`
	Message  string            `json:"message,omitempty"`
	Matched  []matchedOutput   `json:"matchedStatements"`
	Missing  []string          `json:"missingContextValues"`
	Details  map[string]string `json:"policyTypeDecisions,omitempty"`
}

type matchedOutput struct {
	PolicyType authz.PolicyType `json:"policyType"`
	Policy     string           `json:"policy"`
	Statement  int              `json:"statement"` // index in its policy, from 0
	Sid        string           `json:"sid,omitempty"`
	Effect     string           `json:"effect"`
	Start      string           `json:"start"` // line:column
	End        string           `json:"end"`
}

func newEvalOutput(r *authz.RequestJSON, req *authz.Request, res authz.Result, names map[string]string) evalOutput {
	o := evalOutput{Name: r.Name, Action: req.Action, Resource: req.Resource, Decision: res.Decision, Want: r.Want,
		DeniedBy: res.DeniedBy, Matched: []matchedOutput{}, Missing: res.Missing}
	if o.Missing == nil {
		o.Missing = []string{}
	}
	if res.Decision != authz.Allowed {
		o.Message = authz.DeniedMessage(req, res)
	}
	for _, m := range res.Matched {
		id := m.Source.ID
		if f, ok := names[id]; ok {
			id = f
		}
		o.Matched = append(o.Matched, matchedOutput{PolicyType: m.Source.Type, Policy: id, Statement: m.Statement, Sid: m.Sid,
			Effect: m.Effect.String(), Start: m.Start.String(), End: m.End.String()})
	}
	if len(res.Details) > 0 {
		o.Details = map[string]string{}
		for _, d := range res.Details {
			o.Details[string(d.Type)] = string(d.Decision)
		}
	}
	return o
}

// quickPrincipal is the caller of `policy eval` with identity policies and no --principal.
const quickPrincipal = "arn:aws:iam::123456789012:user/example"
