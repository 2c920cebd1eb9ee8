package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The classic IAM privilege-escalation paths, each allowed exactly when a policy allows it.
//
// AWS's AccessDenied message is "User: ARN is not authorized to perform: ACTION on resource:
// RESOURCE because no TYPE policy allows the ACTION action", or "... with an explicit deny in
// a TYPE policy" (IAM User Guide, "Troubleshoot access denied error messages"). IAM names an
// existing entity found by name as "user NAME", "group NAME", "role NAME" and a managed policy
// as "policy ARN": quoted from AWS's answers in cds-snc/dns#523 ("on resource: policy
// arn:aws:iam::866996500832:policy/Route53TerraformDeploy because no identity-based policy
// allows the iam:DeletePolicyVersion action") and aws-samples/aws-hpc-tutorials#175 ("on
// resource: role cluster-RoleHeadNode-...").

// escScene is one server with the attacker, mallory, an IAM user signed with her own key.
type escScene struct {
	t          *testing.T
	e          *env
	ctx        context.Context
	mallory    *iam.Client
	mallorySTS *sts.Client
	// gained is the client an escalation yields: mallory herself, or the access key or role
	// session she obtained.
	gained *iam.Client
	proofs int
}

func newEscScene(t *testing.T) *escScene {
	e := newEnv(t)
	s := &escScene{t: t, e: e, ctx: context.Background()}
	s.mallory, s.mallorySTS = e.newUser(t, "mallory")
	s.gained = s.mallory
	return s
}

func (s *escScene) arn(kind, name string) string {
	return "arn:aws:iam::" + s.e.Account + ":" + kind + "/" + name
}

func (s *escScene) ok(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("as root: %v", err)
	}
}

// createUser creates a user as root, with the managed policies attached.
func (s *escScene) createUser(name string, policies ...string) {
	s.t.Helper()
	_, err := s.e.IAM.CreateUser(s.ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	s.ok(err)
	for _, p := range policies {
		_, err := s.e.IAM.AttachUserPolicy(s.ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(p)})
		s.ok(err)
	}
}

// createPolicy creates a customer managed policy as root, then further versions of it that
// are not the default, and returns its ARN.
func (s *escScene) createPolicy(name string, docs ...string) string {
	s.t.Helper()
	out, err := s.e.IAM.CreatePolicy(s.ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(docs[0])})
	s.ok(err)
	for _, d := range docs[1:] {
		_, err := s.e.IAM.CreatePolicyVersion(s.ctx, &iam.CreatePolicyVersionInput{PolicyArn: out.Policy.Arn, PolicyDocument: aws.String(d)})
		s.ok(err)
	}
	return *out.Policy.Arn
}

func (s *escScene) putUserPolicy(user, name, doc string) {
	s.t.Helper()
	_, err := s.e.IAM.PutUserPolicy(s.ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
	s.ok(err)
}

// createUserAs makes a user through c, the act that proves c has administrator rights.
func (s *escScene) createUserAs(c *iam.Client) error {
	s.proofs++
	_, err := c.CreateUser(s.ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("proof-%d", s.proofs))})
	return err
}

// policyVersions reads a managed policy's versions and its default version back as root.
func (s *escScene) policyVersions(arn string) string {
	s.t.Helper()
	out, err := s.e.IAM.ListPolicyVersions(s.ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	s.ok(err)
	p, err := s.e.IAM.GetPolicy(s.ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	s.ok(err)
	var b strings.Builder
	for _, v := range out.Versions {
		fmt.Fprintf(&b, "%s default=%t; ", *v.VersionId, v.IsDefaultVersion)
	}
	return b.String() + "policy default " + *p.Policy.DefaultVersionId
}

func (s *escScene) attached(user string) string {
	s.t.Helper()
	out, err := s.e.IAM.ListAttachedUserPolicies(s.ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)})
	s.ok(err)
	var arns []string
	for _, p := range out.AttachedPolicies {
		arns = append(arns, *p.PolicyArn)
	}
	return user + " attached " + strings.Join(arns, ",")
}

func (s *escScene) inline(user string) string {
	s.t.Helper()
	out, err := s.e.IAM.ListUserPolicies(s.ctx, &iam.ListUserPoliciesInput{UserName: aws.String(user)})
	s.ok(err)
	return user + " inline " + strings.Join(out.PolicyNames, ",")
}

func (s *escScene) keys(user string) string {
	s.t.Helper()
	out, err := s.e.IAM.ListAccessKeys(s.ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	s.ok(err)
	var ids []string
	for _, k := range out.AccessKeyMetadata {
		ids = append(ids, *k.AccessKeyId)
	}
	return user + " keys " + strings.Join(ids, ",")
}

func (s *escScene) trust(role string) string {
	s.t.Helper()
	out, err := s.e.IAM.GetRole(s.ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
	s.ok(err)
	return role + " trust " + *out.Role.AssumeRolePolicyDocument
}

func (s *escScene) members(group string) string {
	s.t.Helper()
	out, err := s.e.IAM.GetGroup(s.ctx, &iam.GetGroupInput{GroupName: aws.String(group)})
	s.ok(err)
	var names []string
	for _, u := range out.Users {
		names = append(names, *u.UserName)
	}
	return group + " members " + strings.Join(names, ",")
}

func (s *escScene) boundary(user string) string {
	s.t.Helper()
	out, err := s.e.IAM.GetUser(s.ctx, &iam.GetUserInput{UserName: aws.String(user)})
	s.ok(err)
	if out.User.PermissionsBoundary == nil {
		return user + " boundary none"
	}
	return user + " boundary " + *out.User.PermissionsBoundary.PermissionsBoundaryArn
}

// escDoc is a policy document of the statements.
func escDoc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// escAllow is a statement allowing action on resource, under the condition block if any.
func escAllow(action, resource, condition string) string {
	st := fmt.Sprintf(`{"Effect":"Allow","Action":%q,"Resource":%q`, action, resource)
	if condition != "" {
		st += `,"Condition":` + condition
	}
	return st + "}"
}

var escAdminDoc = escDoc(escAllow("*", "*", ""))

// escTry is one call of an escalation action by mallory on the entity kind/name.
type escTry struct {
	kind, name string // "user", "mallory"
	call       func(s *escScene) error
}

// shown names the entity as AWS's AccessDenied message does.
func (t escTry) shown(s *escScene) string {
	if t.kind == "policy" {
		return "policy " + s.arn("policy", t.name)
	}
	return t.kind + " " + t.name
}

// escPath is one escalation path: an action that lets its caller gain permissions.
type escPath struct {
	name   string
	action string
	setup  func(s *escScene) // as root
	// grant is the statement root then gives mallory: exactly action on exactly the resource
	// of try.
	grant func(s *escScene) string
	try   escTry
	// others are the same action on other resources (or outside grant's condition): denied
	// with the grant too.
	others []escTry
	// state is what try would change, read back as root.
	state func(s *escScene) string
	// escalated does what the escalation makes possible (nil: s.gained creates a user); it
	// must fail before try succeeds and work after.
	escalated func(s *escScene) error
}

func TestEscalationPaths(t *testing.T) {
	t.Parallel()
	limited := escDoc(escAllow("iam:GetUser", "*", ""))
	paths := []escPath{
		{
			// Rewriting a policy attached to oneself: a new default version grants anything.
			name:   "CreatePolicyVersion of a policy attached to oneself",
			action: "iam:CreatePolicyVersion",
			setup: func(s *escScene) {
				mine := s.createPolicy("mallory-policy", limited)
				s.createPolicy("other-policy", limited)
				_, err := s.e.IAM.AttachUserPolicy(s.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("mallory"), PolicyArn: aws.String(mine)})
				s.ok(err)
			},
			grant: func(s *escScene) string {
				return escAllow("iam:CreatePolicyVersion", s.arn("policy", "mallory-policy"), "")
			},
			try:    escPolicyTry("mallory-policy", createAdminVersion),
			others: []escTry{escPolicyTry("other-policy", createAdminVersion)},
			state: func(s *escScene) string {
				return s.policyVersions(s.arn("policy", "mallory-policy")) + " | " + s.policyVersions(s.arn("policy", "other-policy"))
			},
		},
		{
			// Making an older, broader version of one's own policy the default.
			name:   "SetDefaultPolicyVersion of a policy attached to oneself",
			action: "iam:SetDefaultPolicyVersion",
			setup: func(s *escScene) {
				mine := s.createPolicy("mallory-policy", limited, escAdminDoc)
				s.createPolicy("other-policy", limited, escAdminDoc)
				_, err := s.e.IAM.AttachUserPolicy(s.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("mallory"), PolicyArn: aws.String(mine)})
				s.ok(err)
			},
			grant: func(s *escScene) string {
				return escAllow("iam:SetDefaultPolicyVersion", s.arn("policy", "mallory-policy"), "")
			},
			try:    escPolicyTry("mallory-policy", setDefaultV2),
			others: []escTry{escPolicyTry("other-policy", setDefaultV2)},
			state: func(s *escScene) string {
				return s.policyVersions(s.arn("policy", "mallory-policy")) + " | " + s.policyVersions(s.arn("policy", "other-policy"))
			},
		},
		{
			// Attaching AdministratorAccess to oneself, granted only for that policy ARN
			// through iam:PolicyARN (Service Authorization Reference: AttachUserPolicy's
			// condition keys are iam:PermissionsBoundary and iam:PolicyARN).
			name:   "AttachUserPolicy AdministratorAccess to oneself",
			action: "iam:AttachUserPolicy",
			setup:  func(s *escScene) { s.createUser("bob") },
			grant: func(s *escScene) string {
				return escAllow("iam:AttachUserPolicy", s.arn("user", "mallory"), fmt.Sprintf(`{"ArnEquals":{"iam:PolicyARN":%q}}`, enfAdmin))
			},
			try: escAttachTry("mallory", enfAdmin),
			others: []escTry{
				escAttachTry("bob", enfAdmin),        // another user
				escAttachTry("mallory", enfReadOnly), // a policy ARN outside the granted one
			},
			state: func(s *escScene) string { return s.attached("mallory") + " | " + s.attached("bob") },
		},
		{
			// Writing an inline policy that allows everything into oneself.
			name:   "PutUserPolicy on oneself",
			action: "iam:PutUserPolicy",
			setup:  func(s *escScene) { s.createUser("bob") },
			grant:  func(s *escScene) string { return escAllow("iam:PutUserPolicy", s.arn("user", "mallory"), "") },
			try:    escPutTry("mallory"),
			others: []escTry{escPutTry("bob")},
			state:  func(s *escScene) string { return s.inline("mallory") + " | " + s.inline("bob") },
		},
		{
			// Minting a key for a more powerful user and acting as that user.
			name:   "CreateAccessKey for another user",
			action: "iam:CreateAccessKey",
			setup: func(s *escScene) {
				s.createUser("admin", enfAdmin)
				s.createUser("carol", enfAdmin)
			},
			grant: func(s *escScene) string { return escAllow("iam:CreateAccessKey", s.arn("user", "admin"), "") },
			try: escTry{"user", "admin", func(s *escScene) error {
				out, err := s.mallory.CreateAccessKey(s.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("admin")})
				if err == nil {
					s.gained, _ = s.e.clients(*out.AccessKey.AccessKeyId, *out.AccessKey.SecretAccessKey, "")
				}
				return err
			}},
			others: []escTry{escKeyTry("carol"), escKeyTry("mallory")}, // another user; her own key
			state: func(s *escScene) string {
				return s.keys("admin") + " | " + s.keys("carol") + " | " + s.keys("mallory")
			},
		},
		{
			// Rewriting a powerful role's trust policy to let oneself in, then assuming it.
			// Nothing else is needed: in one account a trust policy naming the user allows
			// her even with no identity-based policy (IAM User Guide, "Policy evaluation
			// logic": "If a resource-based policy grants permission directly to the IAM user
			// ... an implicit deny in an identity-based policy ... does not impact the final
			// decision").
			name:   "UpdateAssumeRolePolicy of a role to trust oneself",
			action: "iam:UpdateAssumeRolePolicy",
			setup: func(s *escScene) {
				ec2 := escDoc(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`)
				for _, r := range []string{"admin-role", "other-role"} {
					_, err := s.e.IAM.CreateRole(s.ctx, &iam.CreateRoleInput{RoleName: aws.String(r), AssumeRolePolicyDocument: aws.String(ec2)})
					s.ok(err)
					_, err = s.e.IAM.AttachRolePolicy(s.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(r), PolicyArn: aws.String(enfAdmin)})
					s.ok(err)
				}
			},
			grant: func(s *escScene) string {
				return escAllow("iam:UpdateAssumeRolePolicy", s.arn("role", "admin-role"), "")
			},
			try:    escTrustTry("admin-role"),
			others: []escTry{escTrustTry("other-role")},
			state:  func(s *escScene) string { return s.trust("admin-role") + " | " + s.trust("other-role") },
			escalated: func(s *escScene) error {
				out, err := s.mallorySTS.AssumeRole(s.ctx, &sts.AssumeRoleInput{RoleArn: aws.String(s.arn("role", "admin-role")), RoleSessionName: aws.String("esc")})
				if err != nil {
					return err
				}
				c, _ := s.e.clients(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
				return s.createUserAs(c)
			},
		},
		{
			// Joining a group that has AdministratorAccess.
			name:   "AddUserToGroup of oneself to an admin group",
			action: "iam:AddUserToGroup",
			setup: func(s *escScene) {
				for _, g := range []string{"admins", "ops"} {
					_, err := s.e.IAM.CreateGroup(s.ctx, &iam.CreateGroupInput{GroupName: aws.String(g)})
					s.ok(err)
					_, err = s.e.IAM.AttachGroupPolicy(s.ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(g), PolicyArn: aws.String(enfAdmin)})
					s.ok(err)
				}
			},
			grant:  func(s *escScene) string { return escAllow("iam:AddUserToGroup", s.arn("group", "admins"), "") },
			try:    escJoinTry("admins"),
			others: []escTry{escJoinTry("ops")},
			state:  func(s *escScene) string { return s.members("admins") + " | " + s.members("ops") },
		},
		{
			// Removing one's own boundary, so that a broad identity policy applies in full.
			// The boundary allows the deletion; only the identity policy decides it.
			name:   "DeleteUserPermissionsBoundary of oneself",
			action: "iam:DeleteUserPermissionsBoundary",
			setup: func(s *escScene) {
				s.putUserPolicy("mallory", "base", escDoc(escAllow("iam:CreateUser", "*", "")))
				b := s.createPolicy("dev-boundary", escDoc(escAllow("iam:DeleteUserPermissionsBoundary", "*", ""), escAllow("iam:GetUser", "*", "")))
				s.createUser("bob")
				for _, u := range []string{"mallory", "bob"} {
					_, err := s.e.IAM.PutUserPermissionsBoundary(s.ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String(u), PermissionsBoundary: aws.String(b)})
					s.ok(err)
				}
			},
			grant: func(s *escScene) string {
				return escAllow("iam:DeleteUserPermissionsBoundary", s.arn("user", "mallory"), "")
			},
			try:    escUnboundTry("mallory"),
			others: []escTry{escUnboundTry("bob")},
			state:  func(s *escScene) string { return s.boundary("mallory") + " | " + s.boundary("bob") },
		},
	}
	for _, p := range paths {
		t.Run("path="+p.name, func(t *testing.T) {
			t.Parallel()
			s := newEscScene(t)
			p.setup(s)
			escalated := p.escalated
			if escalated == nil {
				escalated = func(s *escScene) error { return s.createUserAs(s.gained) }
			}
			reason := "because no identity-based policy allows the " + p.action + " action"
			enfDenied(t, escalated(s), "")

			// Without a grant: AccessDenied with AWS's message, and nothing changes.
			before := p.state(s)
			enfDenied(t, p.try.call(s), enfNotAuthorized(s.e, "mallory", p.action, p.try.shown(s), reason))
			if got := p.state(s); got != before {
				t.Errorf("the denied %s changed state\n got %s\nwant %s", p.action, got, before)
			}

			// Granted exactly this action on exactly this resource: elsewhere still denied.
			s.putUserPolicy("mallory", "grant", escDoc(p.grant(s)))
			before = p.state(s) // the grant itself shows in PutUserPolicy's state
			for _, o := range p.others {
				enfDenied(t, o.call(s), enfNotAuthorized(s.e, "mallory", p.action, o.shown(s), reason))
			}
			if got := p.state(s); got != before {
				t.Errorf("a denied %s elsewhere changed state\n got %s\nwant %s", p.action, got, before)
			}
			enfDenied(t, escalated(s), "")

			// The granted call works, and the escalation takes effect.
			enfOK(t, p.try.call(s))
			if got := p.state(s); got == before {
				t.Errorf("the allowed %s changed nothing: %s", p.action, got)
			}
			enfOK(t, escalated(s))
		})
	}
}

func escPolicyTry(policy string, call func(s *escScene, arn string) error) escTry {
	return escTry{"policy", policy, func(s *escScene) error { return call(s, s.arn("policy", policy)) }}
}

func createAdminVersion(s *escScene, arn string) error {
	_, err := s.mallory.CreatePolicyVersion(s.ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(escAdminDoc), SetAsDefault: true})
	return err
}

func setDefaultV2(s *escScene, arn string) error {
	_, err := s.mallory.SetDefaultPolicyVersion(s.ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v2")})
	return err
}

func escAttachTry(user, policy string) escTry {
	return escTry{"user", user, func(s *escScene) error {
		_, err := s.mallory.AttachUserPolicy(s.ctx, &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(policy)})
		return err
	}}
}

func escPutTry(user string) escTry {
	return escTry{"user", user, func(s *escScene) error {
		_, err := s.mallory.PutUserPolicy(s.ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("escalate"), PolicyDocument: aws.String(escAdminDoc)})
		return err
	}}
}

func escKeyTry(user string) escTry {
	return escTry{"user", user, func(s *escScene) error {
		_, err := s.mallory.CreateAccessKey(s.ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
		return err
	}}
}

func escTrustTry(role string) escTry {
	return escTry{"role", role, func(s *escScene) error {
		doc := escDoc(fmt.Sprintf(`{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole"}`, s.arn("user", "mallory")))
		_, err := s.mallory.UpdateAssumeRolePolicy(s.ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(role), PolicyDocument: aws.String(doc)})
		return err
	}}
}

func escJoinTry(group string) escTry {
	return escTry{"group", group, func(s *escScene) error {
		_, err := s.mallory.AddUserToGroup(s.ctx, &iam.AddUserToGroupInput{GroupName: aws.String(group), UserName: aws.String("mallory")})
		return err
	}}
}

func escUnboundTry(user string) escTry {
	return escTry{"user", user, func(s *escScene) error {
		_, err := s.mallory.DeleteUserPermissionsBoundary(s.ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String(user)})
		return err
	}}
}

// TestEscalationDelegatedBoundary is the IAM User Guide's pattern for delegating user
// creation ("Permissions boundaries for IAM entities", "Delegating responsibility to others
// using permissions boundaries"), with its policies as written there: zhang has iam:* but his
// boundary, DelegatedUserBoundary, lets him create users and manage their policies and
// boundaries only when iam:PermissionsBoundary is XCompanyBoundaries, and denies him editing
// the boundary policies and deleting any boundary. "The operation fails and access is denied"
// when he forgets the boundary.
func TestEscalationDelegatedBoundary(t *testing.T) {
	t.Parallel()
	s := newEscScene(t)
	company := s.createPolicy("XCompanyBoundaries", escDoc(
		`{"Sid":"ServiceBoundaries","Effect":"Allow","Action":["s3:*","cloudwatch:*","ec2:*","dynamodb:*"],"Resource":"*"}`,
		`{"Sid":"AllowIAMConsoleForCredentials","Effect":"Allow","Action":["iam:ListUsers","iam:GetAccountPasswordPolicy"],"Resource":"*"}`,
		`{"Sid":"AllowManageOwnPasswordAndAccessKeys","Effect":"Allow","Action":["iam:*AccessKey*","iam:ChangePassword","iam:GetUser","iam:*ServiceSpecificCredential*","iam:*SigningCertificate*"],"Resource":["arn:aws:iam::*:user/${aws:username}"]}`,
		`{"Sid":"DenyS3Logs","Effect":"Deny","Action":"s3:*","Resource":["arn:aws:s3:::logs","arn:aws:s3:::logs/*"]}`))
	delegated := s.arn("policy", "DelegatedUserBoundary")
	s.createPolicy("DelegatedUserBoundary", escDoc(
		fmt.Sprintf(`{"Sid":"CreateOrChangeOnlyWithBoundary","Effect":"Allow","Action":["iam:CreateUser","iam:DeleteUserPolicy","iam:AttachUserPolicy","iam:DetachUserPolicy","iam:PutUserPermissionsBoundary"],"Resource":"*","Condition":{"StringEquals":{"iam:PermissionsBoundary":%q}}}`, company),
		`{"Sid":"CloudWatchAndOtherIAMTasks","Effect":"Allow","Action":["cloudwatch:*","iam:GetUser","iam:ListUsers","iam:DeleteUser","iam:UpdateUser","iam:CreateAccessKey","iam:CreateLoginProfile","iam:GetAccountPasswordPolicy","iam:GetLoginProfile","iam:*Group*","iam:CreatePolicy","iam:DeletePolicy","iam:DeletePolicyVersion","iam:GetPolicy","iam:GetPolicyVersion","iam:GetUserPolicy","iam:GetRolePolicy","iam:ListPolicies","iam:ListPolicyVersions","iam:ListEntitiesForPolicy","iam:ListUserPolicies","iam:ListAttachedUserPolicies","iam:ListRolePolicies","iam:ListAttachedRolePolicies","iam:PutUserPolicy","iam:SetDefaultPolicyVersion","iam:SimulatePrincipalPolicy","iam:SimulateCustomPolicy"],"Resource":"*"}`,
		fmt.Sprintf(`{"Sid":"NoBoundaryPolicyEdit","Effect":"Deny","Action":["iam:CreatePolicyVersion","iam:DeletePolicy","iam:DeletePolicyVersion","iam:SetDefaultPolicyVersion"],"Resource":[%q,%q]}`, company, delegated),
		`{"Sid":"NoBoundaryUserDelete","Effect":"Deny","Action":"iam:DeleteUserPermissionsBoundary","Resource":"*"}`))
	permissions := s.createPolicy("DelegatedUserPermissions", escDoc(`{"Sid":"IAM","Effect":"Allow","Action":"iam:*","Resource":"*"}`))
	zhang, _ := s.e.newUser(t, "zhang")
	_, err := s.e.IAM.PutUserPermissionsBoundary(s.ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("zhang"), PermissionsBoundary: aws.String(delegated)})
	s.ok(err)
	_, err = s.e.IAM.AttachUserPolicy(s.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("zhang"), PolicyArn: aws.String(permissions)})
	s.ok(err)
	s.createUser("legacy") // made before the delegation, without a boundary

	const (
		noBoundary = "because no permissions boundary allows the "
		denyIn     = "with an explicit deny in a permissions boundary"
	)
	var nikhil *iam.Client
	for _, tc := range []struct {
		name     string
		action   string
		resource string // as the message shows it; "" when allowed
		reason   string // noBoundary is completed with the action
		call     func() error
	}{
		{"create a user without a boundary", "iam:CreateUser", s.arn("user", "nikhil"), noBoundary, func() error {
			_, err := zhang.CreateUser(s.ctx, &iam.CreateUserInput{UserName: aws.String("nikhil")})
			return err
		}},
		{"create a user with another boundary", "iam:CreateUser", s.arn("user", "nikhil"), noBoundary, func() error {
			_, err := zhang.CreateUser(s.ctx, &iam.CreateUserInput{UserName: aws.String("nikhil"), PermissionsBoundary: aws.String(enfAdmin)})
			return err
		}},
		{"create a user with XCompanyBoundaries", "", "", "", func() error {
			_, err := zhang.CreateUser(s.ctx, &iam.CreateUserInput{UserName: aws.String("nikhil"), PermissionsBoundary: aws.String(company)})
			return err
		}},
		{"give the new user IAMFullAccess", "", "", "", func() error {
			_, err := zhang.AttachUserPolicy(s.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("nikhil"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMFullAccess")})
			return err
		}},
		{"a key for the new user", "", "", "", func() error {
			out, err := zhang.CreateAccessKey(s.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("nikhil")})
			if err == nil {
				nikhil, _ = s.e.clients(*out.AccessKey.AccessKeyId, *out.AccessKey.SecretAccessKey, "")
			}
			return err
		}},
		{"swap the new user's boundary for AdministratorAccess", "iam:PutUserPermissionsBoundary", "user nikhil", noBoundary, func() error {
			_, err := zhang.PutUserPermissionsBoundary(s.ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("nikhil"), PermissionsBoundary: aws.String(enfAdmin)})
			return err
		}},
		{"attach a policy to a user without the boundary", "iam:AttachUserPolicy", "user legacy", noBoundary, func() error {
			_, err := zhang.AttachUserPolicy(s.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("legacy"), PolicyArn: aws.String(enfAdmin)})
			return err
		}},
		{"bring that user under the boundary", "", "", "", func() error {
			_, err := zhang.PutUserPermissionsBoundary(s.ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("legacy"), PermissionsBoundary: aws.String(company)})
			return err
		}},
		{"delete the new user's boundary", "iam:DeleteUserPermissionsBoundary", "user nikhil", denyIn, func() error {
			_, err := zhang.DeleteUserPermissionsBoundary(s.ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("nikhil")})
			return err
		}},
		{"delete his own boundary", "iam:DeleteUserPermissionsBoundary", "user zhang", denyIn, func() error {
			_, err := zhang.DeleteUserPermissionsBoundary(s.ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("zhang")})
			return err
		}},
		{"rewrite XCompanyBoundaries", "iam:CreatePolicyVersion", "policy " + company, denyIn, func() error {
			_, err := zhang.CreatePolicyVersion(s.ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(company), PolicyDocument: aws.String(escAdminDoc), SetAsDefault: true})
			return err
		}},
		{"rewrite his own boundary", "iam:CreatePolicyVersion", "policy " + delegated, denyIn, func() error {
			_, err := zhang.CreatePolicyVersion(s.ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(delegated), PolicyDocument: aws.String(escAdminDoc), SetAsDefault: true})
			return err
		}},
		{"give himself a new boundary", "iam:PutUserPermissionsBoundary", "user zhang", noBoundary, func() error {
			_, err := zhang.PutUserPermissionsBoundary(s.ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("zhang"), PermissionsBoundary: aws.String(enfAdmin)})
			return err
		}},
	} {
		// In order: each case builds on the ones before.
		t.Run("case="+tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.action == "" {
				enfOK(t, err)
				return
			}
			reason := tc.reason
			if reason == noBoundary {
				reason += tc.action + " action"
			}
			enfDenied(t, err, enfNotAuthorized(s.e, "zhang", tc.action, tc.resource, reason))
		})
	}

	// The new user has IAMFullAccess, but XCompanyBoundaries caps it: he manages his own key,
	// not other users.
	if nikhil == nil {
		t.Fatal("no key for nikhil")
	}
	_, err = nikhil.CreateUser(s.ctx, &iam.CreateUserInput{UserName: aws.String("eve")})
	enfDenied(t, err, enfNotAuthorized(s.e, "nikhil", "iam:CreateUser", s.arn("user", "eve"), noBoundary+"iam:CreateUser action"))
	_, err = nikhil.ListAccessKeys(s.ctx, &iam.ListAccessKeysInput{})
	enfOK(t, err)

	// Read back: only what was allowed happened.
	got := []string{s.boundary("nikhil"), s.boundary("legacy"), s.boundary("zhang"), s.attached("nikhil"), s.attached("legacy"),
		s.policyVersions(company), s.policyVersions(delegated)}
	want := []string{"nikhil boundary " + company, "legacy boundary " + company, "zhang boundary " + delegated,
		"nikhil attached arn:aws:iam::aws:policy/IAMFullAccess", "legacy attached ",
		"v1 default=true; policy default v1", "v1 default=true; policy default v1"}
	if !slices.Equal(got, want) {
		t.Errorf("state\n got %q\nwant %q", got, want)
	}
	if users := enfUsers(t, s.e); !slices.Equal(users, []string{"legacy", "mallory", "nikhil", "zhang"}) {
		t.Errorf("users: %v", users)
	}
}

// TestEscalationPassRole: no operation Gatehouse implements passes a role to a service (AWS's
// AddRoleToInstanceProfile, "The caller of this operation must be granted the PassRole
// permission on the IAM role", is not implemented), so nothing enforces iam:PassRole on a
// request yet. What is checked here is the decision a service would ask for, through
// SimulatePrincipalPolicy: a deployer role may pass exactly app-role, exactly to EC2
// (iam:PassedToService, IAM User Guide "Granting a user permissions to pass a role to an AWS
// service").
func TestEscalationPassRole(t *testing.T) {
	t.Parallel()
	s := newEscScene(t)
	ec2 := escDoc(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`)
	for _, r := range []string{"deployer", "app-role", "admin-role"} {
		_, err := s.e.IAM.CreateRole(s.ctx, &iam.CreateRoleInput{RoleName: aws.String(r), AssumeRolePolicyDocument: aws.String(ec2)})
		s.ok(err)
	}
	_, err := s.e.IAM.AttachRolePolicy(s.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("admin-role"), PolicyArn: aws.String(enfAdmin)})
	s.ok(err)

	simulate := func(service string) map[string]types.PolicyEvaluationDecisionType {
		t.Helper()
		out, err := s.e.IAM.SimulatePrincipalPolicy(s.ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: aws.String(s.arn("role", "deployer")),
			ActionNames:     []string{"iam:PassRole"},
			ResourceArns:    []string{s.arn("role", "app-role"), s.arn("role", "admin-role")},
			ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("iam:PassedToService"),
				ContextKeyValues: []string{service}, ContextKeyType: types.ContextKeyTypeEnumString}},
		})
		s.ok(err)
		got := map[string]types.PolicyEvaluationDecisionType{}
		for _, r := range out.EvaluationResults {
			got[strings.TrimPrefix(*r.EvalResourceName, s.arn("role", ""))] = r.EvalDecision
		}
		return got
	}
	deny, allow := types.PolicyEvaluationDecisionTypeImplicitDeny, types.PolicyEvaluationDecisionTypeAllowed
	check := func(when, service string, want map[string]types.PolicyEvaluationDecisionType) {
		t.Helper()
		if got := simulate(service); !maps.Equal(got, want) {
			t.Errorf("%s, passed to %s: %v, want %v", when, service, got, want)
		}
	}
	check("without a policy", "ec2.amazonaws.com", map[string]types.PolicyEvaluationDecisionType{"app-role": deny, "admin-role": deny})
	_, err = s.e.IAM.PutRolePolicy(s.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("pass"),
		PolicyDocument: aws.String(escDoc(escAllow("iam:PassRole", s.arn("role", "app-role"), `{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}`)))})
	s.ok(err)
	check("granted app-role to EC2", "ec2.amazonaws.com", map[string]types.PolicyEvaluationDecisionType{"app-role": allow, "admin-role": deny})
	check("granted app-role to EC2", "lambda.amazonaws.com", map[string]types.PolicyEvaluationDecisionType{"app-role": deny, "admin-role": deny})
}

// TestEscalationBoundaryAssumeRole: a trust policy that names a user does not free her from
// her permissions boundary. The IAM User Guide ("Update a role trust policy", formerly
// "Modifying a role"): "If a user is listed as the principal in a role's trust policy but
// cannot assume the role, check the user's permissions boundary. If a permissions boundary is
// set for the user, then it must allow the sts:AssumeRole action." (Role trust policies are
// the exception to the rule that a resource-based policy naming the user directly is not
// capped by her boundary: "Policy evaluation logic".) Without this, a bounded user who can
// edit a trust policy, or is already named in one, gets the role's permissions past her
// boundary.
func TestEscalationBoundaryAssumeRole(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		identity bool // mallory's identity policy allows sts:AssumeRole
	}{{"identity policy allows sts:AssumeRole", true}, {"no identity policy", false}} {
		t.Run("case="+tc.name, func(t *testing.T) {
			t.Parallel()
			s := newEscScene(t)
			boundary := s.createPolicy("dev-boundary", escDoc(escAllow("iam:GetUser", "*", "")))
			_, err := s.e.IAM.PutUserPermissionsBoundary(s.ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("mallory"), PermissionsBoundary: aws.String(boundary)})
			s.ok(err)
			if tc.identity {
				s.putUserPolicy("mallory", "assume", escDoc(escAllow("sts:AssumeRole", "*", "")))
			}
			role := s.arn("role", "admin-role")
			_, err = s.e.IAM.CreateRole(s.ctx, &iam.CreateRoleInput{RoleName: aws.String("admin-role"),
				AssumeRolePolicyDocument: aws.String(escDoc(fmt.Sprintf(`{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole"}`, s.arn("user", "mallory"))))})
			s.ok(err)
			_, err = s.e.IAM.AttachRolePolicy(s.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("admin-role"), PolicyArn: aws.String(enfAdmin)})
			s.ok(err)
			assume := func() error {
				_, err := s.mallorySTS.AssumeRole(s.ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("esc")})
				return err
			}

			msg := "" // AWS does not document which policy type it names when none allows
			if tc.identity {
				msg = "User: " + s.arn("user", "mallory") + " is not authorized to perform: sts:AssumeRole on resource: " + role +
					" because no permissions boundary allows the sts:AssumeRole action"
			}
			enfDenied(t, assume(), msg)

			// Once the boundary allows it, she may.
			_, err = s.e.IAM.CreatePolicyVersion(s.ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(boundary), SetAsDefault: true,
				PolicyDocument: aws.String(escDoc(escAllow("iam:GetUser", "*", ""), escAllow("sts:AssumeRole", role, "")))})
			s.ok(err)
			enfOK(t, assume())
		})
	}
}
