package console

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/arn"
	"github.com/gatehouse-iam/gatehouse/internal/policylint"
	"github.com/gatehouse-iam/gatehouse/internal/servicedata"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// policiesPerPage is the policies list's page size.
const policiesPerPage = 100

// accessLevels are the Service Authorization Reference's access levels, in the console's order.
func accessLevels() []string {
	return []string{"List", "Read", "Write", "Permissions management", "Tagging"}
}

type policiesView struct {
	Scope, Search string
	Policies      []types.Policy
	Next          string
}

// policiesPage lists managed policies: all, AWS-managed or customer-managed, with a search.
func (c *Console) policiesPage(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	p := page{Title: "Policies", S: cs, CSRF: cs.CSRF, Error: c.sessions.takeFlash(r.Context(), cs)}
	v := policiesView{Scope: r.FormValue("scope"), Search: r.FormValue("search")}
	scope := types.PolicyScopeType(v.Scope)
	if !slices.Contains(scope.Values(), scope) {
		scope, v.Scope = types.PolicyScopeTypeAll, string(types.PolicyScopeTypeAll)
	}
	client := c.iamClient(cs)
	var err error
	v.Policies, v.Next, err = search(r, policiesPerPage, func(p types.Policy) string { return *p.PolicyName },
		func(marker *string, max int32) ([]types.Policy, *string, error) {
			out, err := client.ListPolicies(r.Context(), &iam.ListPoliciesInput{Scope: scope, Marker: marker, MaxItems: aws.Int32(max)})
			if err != nil {
				return nil, nil, err
			}
			return out.Policies, out.Marker, nil
		})
	if err != nil {
		p.fail(apiMessage(err))
	}
	p.Data = v
	c.render(w, http.StatusOK, "policies", p)
}

// summaryRow is one line of a policy summary: what a policy allows or denies of a service.
type summaryRow struct {
	Effect, Service, Access string
}

type policyView struct {
	Policy   *types.Policy
	Versions []types.PolicyVersion
	Document string
	Summary  []summaryRow
	Findings []string
}

// policyPage shows a managed policy (?arn=): its default version's JSON with the policy
// package's warnings, a summary by service and access level, and its versions.
func (c *Console) policyPage(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	ctx, client, policyARN := r.Context(), c.iamClient(cs), aws.String(r.FormValue("arn"))
	p := page{Title: "Policy", S: cs, CSRF: cs.CSRF, Error: c.sessions.takeFlash(r.Context(), cs)}
	out, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: policyARN})
	if err != nil {
		p.fail(apiMessage(err))
		c.render(w, http.StatusOK, "policy", p)
		return
	}
	p.Title = "Policy " + aws.ToString(out.Policy.PolicyName)
	v := policyView{Policy: out.Policy}
	if vs, err := client.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: policyARN}); err == nil {
		v.Versions = vs.Versions
	} else {
		p.fail(apiMessage(err))
	}
	ver, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: policyARN, VersionId: out.Policy.DefaultVersionId})
	if err != nil {
		p.fail(apiMessage(err))
	} else if doc, err := url.QueryUnescape(aws.ToString(ver.PolicyVersion.Document)); err == nil {
		v.Document = prettyDocument(doc)
		v.Summary, v.Findings = c.describe(doc)
	}
	p.Data = v
	c.render(w, http.StatusOK, "policy", p)
}

// describe summarizes a valid identity policy and lists its warnings.
func (c *Console) describe(doc string) ([]summaryRow, []string) {
	findings, valid := policylint.Check([]byte(doc), policy.Identity, c.ref)
	var notes []string
	for _, f := range findings {
		notes = append(notes, findingText(f))
	}
	if !valid {
		return nil, notes
	}
	pol, err := policy.ParseStored([]byte(doc), policy.Identity)
	if err != nil {
		return nil, notes
	}
	return summarize(pol, c.ref), notes
}

// summarize is the console's policy summary: per statement effect and service, "Full access"
// when the actions cover every action of the service, otherwise "Limited:" and the access
// levels they reach. NotAction is shown as such, as its meaning is "everything else".
func summarize(p *policy.Policy, ref *servicedata.Reference) []summaryRow {
	type key struct{ effect, service string }
	levels := map[key]map[string]bool{}
	full := map[key]bool{}
	var order []key
	add := func(k key) {
		if _, ok := levels[k]; !ok {
			levels[k] = map[string]bool{}
			order = append(order, k)
		}
	}
	var rows []summaryRow
	for _, s := range p.Statements() {
		effect := s.Effect.String()
		if s.NotAction {
			rows = append(rows, summaryRow{effect, "All services except the listed actions", "NotAction: " + strings.Join(s.Action, ", ")})
			continue
		}
		for _, a := range s.Action {
			if a == "*" {
				k := key{effect, "All services"}
				add(k)
				full[k] = true
				continue
			}
			prefix, name, _ := strings.Cut(a, ":")
			svc, ok := ref.Service(prefix)
			if !ok {
				k := key{effect, prefix + " (unknown service)"}
				add(k)
				continue
			}
			k := key{effect, svc.Name}
			add(k)
			all := svc.ActionsByLevel()
			matched := 0
			for _, act := range all {
				if arn.Glob(name, act.Name, true) {
					levels[k][act.Level()] = true
					matched++
				}
			}
			if matched == len(all) {
				full[k] = true
			}
		}
	}
	for _, k := range order {
		access := "Full access"
		if !full[k] {
			var ls []string
			for _, l := range accessLevels() {
				if levels[k][l] {
					ls = append(ls, l)
				}
			}
			access = "Limited: " + strings.Join(ls, ", ")
			if len(ls) == 0 {
				access = "None: no action matches"
			}
		}
		rows = append(rows, summaryRow{k.effect, k.service, access})
	}
	return rows
}

// actionGroup is a service's actions of one access level, for the visual editor.
type actionGroup struct {
	Level   string
	Actions []servicedata.Action
}

type newPolicyView struct {
	Name, Document string
	Services       []*servicedata.Service
	Service        *servicedata.Service
	Groups         []actionGroup
	Findings       []string
	Summary        []summaryRow
}

const emptyPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [],
      "Resource": "*"
    }
  ]
}`

// newPolicyPage is the policy editor: a JSON document, and a visual editor that lists a
// service's actions by access level (?service=dynamodb) so a person picks them by what they do.
func (c *Console) newPolicyPage(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	v := newPolicyView{Document: emptyPolicy}
	c.render(w, http.StatusOK, "policy_new", c.editorPage(r, cs, v, c.sessions.takeFlash(r.Context(), cs)))
}

func (c *Console) editorPage(r *http.Request, cs *consoleSession, v newPolicyView, msg string) page {
	v.Services = c.ref.Services()
	if svc, ok := c.ref.Service(r.FormValue("service")); ok {
		v.Service = svc
		byLevel := map[string][]servicedata.Action{}
		for _, a := range svc.ActionsByLevel() {
			byLevel[a.Level()] = append(byLevel[a.Level()], a) // "Tagging, Write" under Tagging
		}
		for _, l := range accessLevels() {
			if len(byLevel[l]) > 0 {
				v.Groups = append(v.Groups, actionGroup{l, byLevel[l]})
			}
		}
	}
	return page{Title: "Create policy", S: cs, CSRF: cs.CSRF, Error: msg, Data: v}
}

// createPolicy handles the editor's three buttons: "add" puts the chosen actions into the
// document, "validate" shows the policy package's findings and summary, "create" creates the
// policy through the API (an invalid document is shown with its line and column first).
func (c *Console) createPolicy(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	v := newPolicyView{Name: strings.TrimSpace(r.PostFormValue("name")), Document: r.PostFormValue("document")}
	switch r.PostFormValue("do") {
	case "add":
		doc, err := addActions(v.Document, r.PostForm["action"], strings.TrimSpace(r.PostFormValue("resource")))
		if err != nil {
			c.render(w, http.StatusBadRequest, "policy_new", c.editorPage(r, cs, v, "MalformedPolicyDocument: "+err.Error()))
			return
		}
		v.Document = doc
		v.Summary, v.Findings = c.describe(doc)
		c.render(w, http.StatusOK, "policy_new", c.editorPage(r, cs, v, ""))
	case "validate":
		v.Summary, v.Findings = c.describe(v.Document)
		if len(v.Findings) == 0 {
			v.Findings = []string{"The policy is valid and has no warnings."}
		}
		c.render(w, http.StatusOK, "policy_new", c.editorPage(r, cs, v, c.invalidDocument(v.Document, policy.Identity)))
	default:
		if msg := c.invalidDocument(v.Document, policy.Identity); msg != "" {
			c.render(w, http.StatusBadRequest, "policy_new", c.editorPage(r, cs, v, msg))
			return
		}
		out, err := c.iamClient(cs).CreatePolicy(r.Context(), &iam.CreatePolicyInput{PolicyName: aws.String(v.Name), PolicyDocument: aws.String(v.Document),
			Description: aws.String(strings.TrimSpace(r.PostFormValue("description")))})
		if err != nil {
			c.render(w, http.StatusBadRequest, "policy_new", c.editorPage(r, cs, v, apiMessage(err)))
			return
		}
		http.Redirect(w, r, Prefix+"/iam/policy?arn="+url.QueryEscape(aws.ToString(out.Policy.Arn)), http.StatusSeeOther)
	}
}

// addActions appends an Allow statement with the chosen actions on resource ("*" when empty)
// to the document, keeping the order people read a policy in (Version, Statement; Effect,
// Action, Resource).
func addActions(doc string, actions []string, resource string) (string, error) {
	var d struct {
		Version   string            `json:"Version"`
		ID        string            `json:"Id,omitempty"`
		Statement []json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return "", err
	}
	// Drop the editor's empty starting statement.
	d.Statement = slices.DeleteFunc(d.Statement, func(raw json.RawMessage) bool {
		var s struct{ Action []string }
		return json.Unmarshal(raw, &s) == nil && s.Action != nil && len(s.Action) == 0
	})
	stmt, err := json.Marshal(struct {
		Effect   string
		Action   []string
		Resource string
	}{"Allow", actions, cmp.Or(resource, "*")})
	if err != nil {
		return "", err
	}
	d.Statement = append(d.Statement, stmt)
	d.Version = cmp.Or(d.Version, "2012-10-17")
	b, err := json.MarshalIndent(d, "", "  ")
	return string(b), err
}

// policyAction changes a managed policy: a new default version from edited JSON, another
// default version, a deleted version.
func (c *Console) policyAction(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	ctx, client := r.Context(), c.iamClient(cs)
	policyARN := aws.String(r.PostFormValue("arn"))
	var err error
	switch r.PathValue("action") {
	case "version":
		doc := r.PostFormValue("document")
		if msg := c.invalidDocument(doc, policy.Identity); msg != "" {
			c.sessions.setFlash(r.Context(), cs, msg)
			break
		}
		_, err = client.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: policyARN, PolicyDocument: aws.String(doc), SetAsDefault: true})
	case "default":
		_, err = client.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: policyARN, VersionId: aws.String(r.PostFormValue("version"))})
	case "delete-version":
		_, err = client.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: policyARN, VersionId: aws.String(r.PostFormValue("version"))})
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		c.sessions.setFlash(r.Context(), cs, apiMessage(err))
	}
	http.Redirect(w, r, Prefix+"/iam/policy?arn="+url.QueryEscape(aws.ToString(policyARN)), http.StatusSeeOther)
}
