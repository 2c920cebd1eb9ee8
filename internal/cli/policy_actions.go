package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// accessLevels are the --access-level names and the Service Authorization Reference's levels.
var accessLevels = []struct{ flag, level string }{
	{"read", "Read"}, {"write", "Write"}, {"list", "List"}, {"tagging", "Tagging"}, {"permissions", "Permissions management"},
}

func accessLevelNames() string {
	names := make([]string, len(accessLevels))
	for i, l := range accessLevels {
		names[i] = l.flag
	}
	return strings.Join(names, ", ")
}

// parseAccessLevels turns "read,write" into the reference's levels. The reference's own
// spelling ("Permissions management") is accepted too.
func parseAccessLevels(s string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		i := slices.IndexFunc(accessLevels, func(l struct{ flag, level string }) bool {
			return strings.EqualFold(name, l.flag) || strings.EqualFold(name, l.level)
		})
		if i < 0 {
			return nil, fmt.Errorf("unknown access level %q (%s)", name, accessLevelNames())
		}
		if !slices.Contains(out, accessLevels[i].level) {
			out = append(out, accessLevels[i].level)
		}
	}
	return out, nil
}

// actionQuery is what `policy actions` selects: actions of one service with any of the access
// levels and any of the resource types (none: all), whose names match the search.
type actionQuery struct {
	service   string
	levels    []string // the reference's levels; empty for all
	resources []string // resource type names; empty for all
	search    [][]string
}

// parseSearch turns --search into alternatives (separated by commas) of words (separated by
// spaces) that must all match.
func parseSearch(s string) [][]string {
	var out [][]string
	for _, alt := range strings.Split(s, ",") {
		if words := strings.Fields(strings.ToLower(alt)); len(words) > 0 {
			out = append(out, words)
		}
	}
	return out
}

// wordStarts returns the byte indexes at which the words of a CamelCase name begin:
// BatchGetItem 0, 5, 8 (Batch Get Item); GetSAMLProvider 0, 3, 7 (Get SAML Provider);
// PutBucketV2 0, 3, 9 (Put Bucket V2).
func wordStarts(name string) []int {
	r := []rune(name)
	var out []int
	byteAt := 0
	for i, c := range r {
		start := i == 0
		if i > 0 {
			prev := r[i-1]
			switch {
			case unicode.IsUpper(c) && (unicode.IsLower(prev) || unicode.IsDigit(prev)):
				start = true
			case unicode.IsUpper(c) && unicode.IsUpper(prev) && i+1 < len(r) && unicode.IsLower(r[i+1]):
				start = true // the last capital of an acronym starts the next word: SAML|Provider
			case unicode.IsDigit(c) && unicode.IsLower(prev):
				start = true
			case !unicode.IsLetter(prev) && !unicode.IsDigit(prev) && (unicode.IsLetter(c) || unicode.IsDigit(c)):
				start = true
			}
		}
		if start {
			out = append(out, byteAt)
		}
		byteAt += len(string(c))
	}
	return out
}

// matchesWords reports whether every word begins at a word of the CamelCase name, ignoring
// case: "item" matches GetItem and BatchWriteItem, "getitem" GetItem and BatchGetItem, "tem"
// neither.
func matchesWords(name string, words []string) bool {
	lower := strings.ToLower(name)
	starts := wordStarts(name)
	for _, w := range words {
		if !slices.ContainsFunc(starts, func(i int) bool { return strings.HasPrefix(lower[i:], w) }) {
			return false
		}
	}
	return true
}

func (q *actionQuery) matches(a servicedata.Action) bool {
	if len(q.levels) > 0 && !slices.Contains(q.levels, a.Level()) {
		return false
	}
	if len(q.resources) > 0 && !slices.ContainsFunc(a.Resources(), func(r servicedata.ActionResource) bool {
		return slices.ContainsFunc(q.resources, func(t string) bool { return strings.EqualFold(t, r.Name) })
	}) {
		return false
	}
	if len(q.search) > 0 && !slices.ContainsFunc(q.search, func(words []string) bool { return matchesWords(a.Name, words) }) {
		return false
	}
	return true
}

// selectActions returns the service and its actions the query selects, by name, or an error
// a person can act on: an unknown service (with close prefixes), an unknown resource type
// (with the service's), or nothing selected.
func selectActions(ref *servicedata.Reference, q *actionQuery) (*servicedata.Service, []servicedata.Action, error) {
	svc, ok := ref.Service(q.service)
	if !ok {
		msg := fmt.Sprintf("unknown service prefix %q", q.service)
		if close := closePrefixes(ref, q.service); len(close) > 0 {
			msg += "; did you mean " + strings.Join(close, ", ") + "?"
		} else {
			msg += " (service prefixes are those of action names, e.g. s3 in s3:GetObject)"
		}
		return nil, nil, errors.New(msg)
	}
	for i, t := range q.resources {
		rt, ok := svc.ResourceType(t)
		if !ok {
			var names []string
			for _, rt := range svc.ResourceTypes() {
				names = append(names, rt.Name)
			}
			if len(names) == 0 {
				return nil, nil, fmt.Errorf("%s (%s) has no resource types; its actions take Resource \"*\"", svc.Name, svc.Prefix)
			}
			return nil, nil, fmt.Errorf("%s (%s) has no resource type %q; its resource types: %s", svc.Name, svc.Prefix, t, strings.Join(names, ", "))
		}
		q.resources[i] = rt.Name
	}
	var out []servicedata.Action
	for _, a := range svc.ActionsByLevel() {
		if q.matches(a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return svc, nil, fmt.Errorf("no action of %s (%s) matches", svc.Name, svc.Prefix)
	}
	return svc, out, nil
}

// closePrefixes returns up to five service prefixes close to s: starting with it, or at most two
// edits away, the closest first.
func closePrefixes(ref *servicedata.Reference, s string) []string {
	s = strings.ToLower(s)
	type cand struct {
		prefix string
		dist   int
	}
	var cands []cand
	for _, svc := range ref.Services() {
		p := strings.ToLower(svc.Prefix)
		d := editDistance(s, p)
		if strings.HasPrefix(p, s) || strings.HasPrefix(s, p) && len(p) >= 3 {
			d = min(d, 1)
		}
		if d <= 2 {
			cands = append(cands, cand{svc.Prefix, d})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return a.dist - b.dist })
	var out []string
	for i := 0; i < len(cands) && i < 5; i++ {
		out = append(out, cands[i].prefix)
	}
	return out
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// actionKeys returns the condition keys of the action: its own and those it lists with its
// resource types, sorted, once each.
func actionKeys(a servicedata.Action) []string {
	keys := slices.Clone(a.ConditionKeys())
	for _, r := range a.Resources() {
		keys = append(keys, r.ConditionKeys...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// actionDeps returns the dependent actions of the action, its own and its resource types',
// sorted, once each.
func actionDeps(a servicedata.Action) []string {
	deps := slices.Clone(a.DependentActions())
	for _, r := range a.Resources() {
		deps = append(deps, r.DependentActions...)
	}
	slices.Sort(deps)
	return slices.Compact(deps)
}

// actionJSON is one action of `policy actions --output json`.
type actionJSON struct {
	Action           string               `json:"action"`
	AccessLevel      string               `json:"accessLevel"`
	ResourceTypes    []actionResourceJSON `json:"resourceTypes"`
	ConditionKeys    []string             `json:"conditionKeys"`
	DependentActions []string             `json:"dependentActions"`
}

type actionResourceJSON struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	ARN      string `json:"arn"` // the reference's template
	// ConditionKeys are the keys the reference lists for the action with this type,
	// TypeConditionKeys those of the resource type itself (e.g. aws:ResourceTag/${TagKey}).
	ConditionKeys     []string `json:"conditionKeys"`
	TypeConditionKeys []string `json:"resourceTypeConditionKeys"`
}

func newActionJSON(svc *servicedata.Service, a servicedata.Action) actionJSON {
	o := actionJSON{Action: svc.Prefix + ":" + a.Name, AccessLevel: a.Level(), ResourceTypes: []actionResourceJSON{},
		ConditionKeys: orEmpty(slices.Clone(a.ConditionKeys())), DependentActions: orEmpty(slices.Clone(a.DependentActions()))}
	for _, r := range a.Resources() {
		rt, _ := svc.ResourceType(r.Name)
		o.ResourceTypes = append(o.ResourceTypes, actionResourceJSON{Name: r.Name, Required: r.Required, ARN: rt.ARN,
			ConditionKeys: orEmpty(slices.Clone(r.ConditionKeys)), TypeConditionKeys: orEmpty(slices.Clone(rt.ConditionKeys))})
		for _, d := range r.DependentActions {
			if !slices.Contains(o.DependentActions, d) {
				o.DependentActions = append(o.DependentActions, d)
			}
		}
	}
	return o
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// writeActionTable writes the actions as an aligned table: action, access level, resource
// types (required ones marked "*", "-" for an action that takes only Resource "*"), condition keys.
func writeActionTable(w io.Writer, svc *servicedata.Service, actions []servicedata.Action) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tACCESS LEVEL\tRESOURCE TYPES\tCONDITION KEYS")
	for _, a := range actions {
		types := strings.Join(a.ResourceTypes, ",")
		if types == "" {
			types = "-"
		}
		keys := strings.Join(actionKeys(a), ",")
		if keys == "" {
			keys = "-"
		}
		fmt.Fprintf(tw, "%s:%s\t%s\t%s\t%s\n", svc.Prefix, a.Name, a.Level(), types, keys)
	}
	return tw.Flush()
}

// arnPattern turns an ARN template of the reference into a Resource pattern: ${Partition}
// becomes "aws" (IAM refuses a wildcard partition), every other ${...} variable "*", adjacent
// ones ("${DomainName}${Pattern}") one "*".
func arnPattern(template string) string {
	var b strings.Builder
	for {
		i := strings.Index(template, "${")
		j := strings.IndexByte(template[max(i, 0):], '}')
		if i < 0 || j < 0 {
			break
		}
		b.WriteString(template[:i])
		switch {
		case template[i:i+j+1] == "${Partition}":
			b.WriteString("aws")
		case i > 0 || !strings.HasSuffix(b.String(), "*"):
			b.WriteByte('*')
		}
		template = template[i+j+1:]
	}
	b.WriteString(template)
	return b.String()
}

// identityPolicy is the document `policy actions --policy` prints.
type identityPolicy struct {
	Version   string
	Statement []identityStatement
}

type identityStatement struct {
	Effect   string
	Action   []string
	Resource any // a string, or a list of them
}

// actionsPolicy returns an identity policy allowing the actions on the resource types (their ARN
// templates as patterns; "*" without types, or when the policy checks refuse a pattern), and
// notes for a person: actions that need another resource type too, dependent actions the
// policy does not include, a pattern replaced by "*".
func actionsPolicy(svc *servicedata.Service, actions []servicedata.Action, types []string) ([]byte, []string, error) {
	st := identityStatement{Effect: "Allow", Resource: "*"}
	var notes []string
	for _, a := range actions {
		st.Action = append(st.Action, svc.Prefix+":"+a.Name)
		if len(types) > 0 {
			for _, r := range a.Resources() {
				if r.Required && !slices.Contains(types, r.Name) {
					notes = append(notes, fmt.Sprintf("%s:%s also requires a %s resource, which the policy's Resource does not match", svc.Prefix, a.Name, r.Name))
				}
			}
		}
		if deps := actionDeps(a); len(deps) > 0 {
			notes = append(notes, fmt.Sprintf("%s:%s also needs %s, which the policy does not allow", svc.Prefix, a.Name, strings.Join(deps, ", ")))
		}
	}
	slices.Sort(st.Action)
	if len(types) > 0 {
		var patterns []string
		for _, t := range types {
			rt, _ := svc.ResourceType(t)
			if p := arnPattern(rt.ARN); !slices.Contains(patterns, p) {
				patterns = append(patterns, p)
			}
		}
		switch refused := slices.IndexFunc(patterns, func(p string) bool { return resourceError(st.Action[0], p) != "" }); {
		case refused >= 0:
			notes = append(notes, fmt.Sprintf("policy validate refuses Resource %q (%s); the policy has Resource \"*\" instead",
				patterns[refused], resourceError(st.Action[0], patterns[refused])))
		case len(patterns) == 1:
			st.Resource = patterns[0]
		default:
			st.Resource = patterns
		}
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(identityPolicy{Version: "2012-10-17", Statement: []identityStatement{st}}); err != nil {
		return nil, nil, err
	}
	return []byte(b.String()), notes, nil
}

// resourceError returns the message of the policy checks (IAM's) for a statement allowing
// action on resource, "" when they accept it.
func resourceError(action, resource string) string {
	doc, _ := json.Marshal(identityPolicy{Version: "2012-10-17", Statement: []identityStatement{{Effect: "Allow", Action: []string{action}, Resource: resource}}})
	if _, err := policy.Parse(doc, policy.Identity); err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return pe.Message
		}
		return err.Error()
	}
	return ""
}

// parseInterspersed parses flags that may come before or after the positional arguments, as in
// `policy actions dynamodb --access-level read`, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(io.Discard)
				return nil, err
			}
			return nil, errUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if parsed := len(args) - len(rest); parsed > 0 && args[parsed-1] == "--" {
			return append(positional, rest...), nil // after "--", everything is positional
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func runPolicyActions(_ context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "policy actions", "List the actions of a service from the embedded Service Authorization Reference\n"+
		"(AWS's list of the actions, resource types and condition keys of every service)\n"+
		"with their access level, the resource types they take (required ones marked *;\n"+
		"- for an action that takes only Resource \"*\") and their condition keys (the\n"+
		"action's own and those listed for it with a resource type; --output json gives\n"+
		"them apart, with each resource type's ARN template and own keys). With --policy,\n"+
		"print an identity policy that allows them instead. Exit status 1 when no action\n"+
		"matches.\n\n"+
		"The filters combine: an action is listed when it has one of the access levels,\n"+
		"takes one of the resource types and its name matches the search. An action the\n"+
		"reference files under both Tagging (or Permissions management) and Write counts\n"+
		"as Tagging (Permissions management).\n\n"+
		"--search matches words at the starts of the CamelCase words of action names,\n"+
		"ignoring case: \"item\" matches GetItem and BatchWriteItem, \"get item\" (every word\n"+
		"must match) GetItem and BatchGetItem; commas separate alternatives: \"item,query\".\n\n"+
		"--policy prints one Allow statement with the actions, sorted, and as Resource the\n"+
		"ARN templates of the --resource types with ${Partition} as aws and every other\n"+
		"${...} variable as \"*\" (\"*\" without --resource); replace the *s to narrow it.\n"+
		"Notes about actions that need more than that go to stderr.\n\n"+
		"Example: the reads and writes of DynamoDB table items, without the table management:\n"+
		"  gatehouse policy actions dynamodb --access-level read,write --resource table --search item,query,scan --policy\n\n"+
		"Usage: gatehouse policy actions SERVICE [--access-level LEVELS] [--resource TYPES] [--search WORDS] [--policy] [--output text|json]")
	var levels []string
	var resources, search string
	var asPolicy bool
	output := outputFlag("text")
	fs.Func("access-level", "comma-separated `LEVELS`: "+accessLevelNames()+" (default all)", func(s string) error {
		l, err := parseAccessLevels(s)
		levels = append(levels, l...)
		return err
	})
	fs.StringVar(&resources, "resource", "", "comma-separated resource `TYPES` of the service, e.g. table (default all; an action is listed when it takes one)")
	fs.StringVar(&search, "search", "", "`WORDS` the action's name must match (see above)")
	fs.BoolVar(&asPolicy, "policy", false, "print an identity policy (JSON) allowing the actions instead of the list")
	fs.Var(&output, "output", "output format of the list: text (a table) or json")
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		if len(positional) == 0 {
			fmt.Fprintln(env.Stderr, "give the SERVICE prefix, e.g. dynamodb or s3")
		} else {
			hint := ""
			if search != "" {
				hint = `; quote several --search words: --search "get item"`
			}
			fmt.Fprintf(env.Stderr, "unexpected argument %q (one SERVICE%s)\n", positional[1], hint)
		}
		fs.Usage()
		return errUsage
	}
	q := &actionQuery{service: positional[0], levels: levels, search: parseSearch(search)}
	for _, t := range strings.Split(resources, ",") {
		if t = strings.TrimSpace(t); t != "" {
			q.resources = append(q.resources, t)
		}
	}
	ref, err := servicedata.Load()
	if err != nil {
		return err
	}
	svc, actions, err := selectActions(ref, q)
	if err != nil {
		return err
	}
	switch {
	case asPolicy:
		doc, notes, err := actionsPolicy(svc, actions, q.resources)
		if err != nil {
			return err
		}
		for _, n := range notes {
			fmt.Fprintln(env.Stderr, "note: "+n)
		}
		_, err = env.Stdout.Write(doc)
		return err
	case output == "json":
		out := make([]actionJSON, 0, len(actions))
		for _, a := range actions {
			out = append(out, newActionJSON(svc, a))
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return writeActionTable(env.Stdout, svc, actions)
}
