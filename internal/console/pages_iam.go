package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/policylint"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// Groups, roles and policies: lists, details and the changes their pages offer, each through
// the IAM API as the signed-in identity.

type groupsView struct{ Groups []types.Group }

func (c *Console) groupsPage(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	p := page{Title: "User groups", S: cs, CSRF: cs.CSRF, Error: c.sessions.takeFlash(r.Context(), cs)}
	v := groupsView{}
	pages := iam.NewListGroupsPaginator(c.iamClient(cs), &iam.ListGroupsInput{})
	for pages.HasMorePages() {
		out, err := pages.NextPage(r.Context())
		if err != nil {
			p.fail(apiMessage(err))
			break
		}
		v.Groups = append(v.Groups, out.Groups...)
	}
	p.Data = v
	c.render(w, http.StatusOK, "groups", p)
}

func (c *Console) createGroup(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if _, err := c.iamClient(cs).CreateGroup(r.Context(), &iam.CreateGroupInput{GroupName: aws.String(name)}); err != nil {
		c.sessions.setFlash(r.Context(), cs, apiMessage(err))
		http.Redirect(w, r, Prefix+"/iam/groups", http.StatusSeeOther)
		return
	}
	c.redirectTo(w, r, cs, "/iam/groups/"+url.PathEscape(name), "")
}

type groupView struct {
	Group    *types.Group
	Users    []types.User
	Attached []types.AttachedPolicy
	Inline   []string
}

func (c *Console) groupPage(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	ctx, client, name := r.Context(), c.iamClient(cs), r.PathValue("name")
	p := page{Title: "User group " + name, S: cs, CSRF: cs.CSRF, Error: c.sessions.takeFlash(r.Context(), cs)}
	out, err := client.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(name)})
	if err != nil {
		p.fail(apiMessage(err))
		c.render(w, http.StatusOK, "group", p)
		return
	}
	v := groupView{Group: out.Group, Users: out.Users}
	var errs []string
	if a, err := client.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(name)}); err == nil {
		v.Attached = a.AttachedPolicies
	} else {
		errs = append(errs, apiMessage(err))
	}
	if in, err := client.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String(name)}); err == nil {
		v.Inline = in.PolicyNames
	} else {
		errs = append(errs, apiMessage(err))
	}
	p.fail(strings.Join(errs, "\n"))
	p.Data = v
	c.render(w, http.StatusOK, "group", p)
}

// groupAction attaches or detaches a managed policy, or deletes the group after removing its
// members and policies (as the console does).
func (c *Console) groupAction(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	ctx, client, name := r.Context(), c.iamClient(cs), r.PathValue("name")
	group, policyARN := aws.String(name), aws.String(strings.TrimSpace(r.PostFormValue("policy")))
	var err error
	switch r.PathValue("action") {
	case "attach":
		_, err = client.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: group, PolicyArn: policyARN})
	case "detach":
		_, err = client.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: group, PolicyArn: policyARN})
	case "delete":
		if err = deleteGroup(r, client, name); err == nil {
			http.Redirect(w, r, Prefix+"/iam/groups", http.StatusSeeOther)
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	c.redirectTo(w, r, cs, "/iam/groups/"+url.PathEscape(name), errMessage(err))
}

func deleteGroup(r *http.Request, client *iam.Client, name string) error {
	ctx, group := r.Context(), aws.String(name)
	out, err := client.GetGroup(ctx, &iam.GetGroupInput{GroupName: group})
	if err != nil {
		return err
	}
	for _, u := range out.Users {
		if _, err := client.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: group, UserName: u.UserName}); err != nil {
			return err
		}
	}
	attached, err := client.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: group})
	if err != nil {
		return err
	}
	for _, a := range attached.AttachedPolicies {
		if _, err := client.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: group, PolicyArn: a.PolicyArn}); err != nil {
			return err
		}
	}
	inline, err := client.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: group})
	if err != nil {
		return err
	}
	for _, n := range inline.PolicyNames {
		if _, err := client.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: group, PolicyName: aws.String(n)}); err != nil {
			return err
		}
	}
	_, err = client.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: group})
	return err
}

type rolesView struct {
	Roles        []types.Role
	DefaultTrust string
}

func (c *Console) rolesPage(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	p := page{Title: "Roles", S: cs, CSRF: cs.CSRF, Error: c.sessions.takeFlash(r.Context(), cs)}
	v := rolesView{DefaultTrust: `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::` + cs.Account + `:root"},
      "Action": "sts:AssumeRole"
    }
  ]
}`}
	pages := iam.NewListRolesPaginator(c.iamClient(cs), &iam.ListRolesInput{})
	for pages.HasMorePages() {
		out, err := pages.NextPage(r.Context())
		if err != nil {
			p.fail(apiMessage(err))
			break
		}
		v.Roles = append(v.Roles, out.Roles...)
	}
	p.Data = v
	c.render(w, http.StatusOK, "roles", p)
}

func (c *Console) createRole(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	name, trust := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("trust")
	if msg := c.invalidDocument(trust, policy.Trust); msg != "" {
		c.redirectTo(w, r, cs, "/iam/roles", msg)
		return
	}
	if _, err := c.iamClient(cs).CreateRole(r.Context(), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		c.redirectTo(w, r, cs, "/iam/roles", apiMessage(err))
		return
	}
	c.redirectTo(w, r, cs, "/iam/roles/"+url.PathEscape(name), "")
}

type roleView struct {
	Role     *types.Role
	Trust    string
	Trusted  []trustedEntity
	Attached []types.AttachedPolicy
	Inline   []string
	Profiles []types.InstanceProfile
}

func (c *Console) rolePage(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	ctx, client, name := r.Context(), c.iamClient(cs), r.PathValue("name")
	p := page{Title: "Role " + name, S: cs, CSRF: cs.CSRF, Error: c.sessions.takeFlash(r.Context(), cs)}
	out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		p.fail(apiMessage(err))
		c.render(w, http.StatusOK, "role", p)
		return
	}
	doc := aws.ToString(out.Role.AssumeRolePolicyDocument)
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	v := roleView{Role: out.Role, Trust: prettyDocument(doc), Trusted: trustedEntities(doc)}
	var errs []string
	if a, err := client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)}); err == nil {
		v.Attached = a.AttachedPolicies
	} else {
		errs = append(errs, apiMessage(err))
	}
	if in, err := client.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)}); err == nil {
		v.Inline = in.PolicyNames
	} else {
		errs = append(errs, apiMessage(err))
	}
	if ip, err := client.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(name)}); err == nil {
		v.Profiles = ip.InstanceProfiles
	} else {
		errs = append(errs, apiMessage(err))
	}
	p.fail(strings.Join(errs, "\n"))
	p.Data = v
	c.render(w, http.StatusOK, "role", p)
}

func (c *Console) roleAction(w http.ResponseWriter, r *http.Request, cs *consoleSession) {
	ctx, client, name := r.Context(), c.iamClient(cs), r.PathValue("name")
	role := aws.String(name)
	var err error
	switch r.PathValue("action") {
	case "trust":
		doc := r.PostFormValue("trust")
		if msg := c.invalidDocument(doc, policy.Trust); msg != "" {
			c.redirectTo(w, r, cs, "/iam/roles/"+url.PathEscape(name), msg)
			return
		}
		_, err = client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: role, PolicyDocument: aws.String(doc)})
	case "attach":
		_, err = client.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: aws.String(strings.TrimSpace(r.PostFormValue("policy")))})
	case "detach":
		_, err = client.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: role, PolicyArn: aws.String(r.PostFormValue("policy"))})
	default:
		http.NotFound(w, r)
		return
	}
	c.redirectTo(w, r, cs, "/iam/roles/"+url.PathEscape(name), errMessage(err))
}

// validate answers the editors' validation as you type (static/editor.js): the policy
// package's findings for the document, as JSON.
func (c *Console) validate(w http.ResponseWriter, r *http.Request, _ *consoleSession) {
	t := policy.Identity
	if r.PostFormValue("type") == "trust" {
		t = policy.Trust
	}
	type jsonFinding struct {
		Line    int    `json:"line,omitempty"`
		Column  int    `json:"column,omitempty"`
		Message string `json:"message"`
		Warning bool   `json:"warning"`
	}
	found, _ := policylint.Check([]byte(r.PostFormValue("document")), t, c.ref)
	out := struct {
		Findings []jsonFinding `json:"findings"`
	}{Findings: []jsonFinding{}}
	for _, f := range found {
		out.Findings = append(out.Findings, jsonFinding{f.Pos.Line, f.Pos.Column, f.Message, f.Warning})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// trustedEntity is one line of "who can assume this role": whom the trust policy names and
// whether a condition narrows it.
type trustedEntity struct {
	Effect, Kind, Who, Actions string
	Conditional                bool
}

// trustedEntities lists the principals of the trust policy's statements, as the console's
// "Trusted entities" does.
func trustedEntities(doc string) []trustedEntity {
	p, err := policy.ParseStored([]byte(doc), policy.Trust)
	if err != nil {
		return nil
	}
	var out []trustedEntity
	for _, s := range p.Statements() {
		if s.Principal == nil {
			continue
		}
		add := func(kind string, who []string) {
			for _, w := range who {
				e := trustedEntity{Effect: s.Effect.String(), Kind: kind, Who: w, Actions: strings.Join(s.Action, ", "), Conditional: len(s.Condition) > 0}
				if s.NotPrincipal {
					e.Kind = "everyone except " + kind
				}
				out = append(out, e)
			}
		}
		if s.Principal.Any {
			add("anyone", []string{"*"})
		}
		add("AWS", s.Principal.AWS)
		add("service", s.Principal.Service)
		add("federated", s.Principal.Federated)
	}
	return out
}

// invalidDocument is what the console says before sending a document IAM would refuse: the
// policy package's error with its line and column ("" when the document is valid).
func (c *Console) invalidDocument(doc string, t policy.Type) string {
	findings, valid := policylint.Check([]byte(doc), t, c.ref)
	if valid {
		return ""
	}
	return "MalformedPolicyDocument: " + findingText(findings[0])
}

func findingText(f policylint.Finding) string {
	if f.Pos.Line > 0 {
		return "line " + f.Pos.String() + ": " + f.Message
	}
	return f.Message
}

// prettyDocument indents a JSON document for reading; a document that is not JSON is shown
// as it is.
func prettyDocument(doc string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(doc), "", "  "); err != nil {
		return doc
	}
	return buf.String()
}

func errMessage(err error) string {
	if err == nil {
		return ""
	}
	return apiMessage(err)
}

// redirectTo shows a console page with msg as its message.
func (c *Console) redirectTo(w http.ResponseWriter, r *http.Request, cs *consoleSession, path, msg string) {
	c.sessions.setFlash(r.Context(), cs, msg)
	http.Redirect(w, r, Prefix+path, http.StatusSeeOther)
}
