package authz_test

import (
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/policy"
)

func TestParseCaller(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    *authz.Caller
		wantErr bool
	}{
		{name: "anonymous", in: "", want: nil},
		{name: "root", in: "arn:aws:iam::111122223333:root",
			want: &authz.Caller{Type: authz.Root, Principal: policy.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root"}}},
		{name: "user with path", in: "arn:aws:iam::111122223333:user/division/alice",
			want: &authz.Caller{Type: authz.User, Principal: policy.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/division/alice"}}},
		{name: "role session", in: "arn:aws:sts::111122223333:assumed-role/app/s1",
			want: &authz.Caller{Type: authz.AssumedRole, Principal: policy.Principal{Account: "111122223333",
				ARN: "arn:aws:sts::111122223333:assumed-role/app/s1", RoleARN: "arn:aws:iam::111122223333:role/app"}}},
		{name: "role session in another partition", in: "arn:aws-cn:sts::111122223333:assumed-role/app/s1",
			want: &authz.Caller{Type: authz.AssumedRole, Principal: policy.Principal{Account: "111122223333",
				ARN: "arn:aws-cn:sts::111122223333:assumed-role/app/s1", RoleARN: "arn:aws-cn:iam::111122223333:role/app"}}},
		{name: "federated user", in: "arn:aws:sts::111122223333:federated-user/carol",
			want: &authz.Caller{Type: authz.FederatedUser, Principal: policy.Principal{Account: "111122223333", ARN: "arn:aws:sts::111122223333:federated-user/carol"}}},
		{name: "service", in: "s3.amazonaws.com", want: &authz.Caller{Type: authz.Service, Principal: policy.Principal{Service: "s3.amazonaws.com"}}},
		{name: "role ARN is not a caller", in: "arn:aws:iam::111122223333:role/app", wantErr: true},
		{name: "session without session name", in: "arn:aws:sts::111122223333:assumed-role/app", wantErr: true},
		{name: "short account", in: "arn:aws:iam::1111:root", wantErr: true},
		{name: "bucket ARN", in: "arn:aws:s3:::bucket", wantErr: true},
		{name: "bare word", in: "alice", wantErr: true},
		{name: "malformed ARN", in: "arn:aws:iam", wantErr: true},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := authz.ParseCaller(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseCaller(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Fatalf("ParseCaller(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestDeniedMessage pins the texts of the IAM User Guide's "Troubleshoot access denied error
// messages" page, one per policy type and kind of deny.
func TestDeniedMessage(t *testing.T) {
	t.Parallel()
	user, _ := authz.ParseCaller("arn:aws:iam::123456789012:user/JohnDoe")
	session, _ := authz.ParseCaller("arn:aws:sts::111122223333:assumed-role/role-name/role-session-name")
	tests := []struct {
		name     string
		caller   *authz.Caller
		action   string
		resource string
		res      authz.Result
		want     string
	}{
		{"identity implicit", user, "codecommit:ListRepositories", "*", authz.Result{Decision: authz.ImplicitDeny, DeniedBy: authz.IdentityPolicy},
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codecommit:ListRepositories because no identity-based policy allows the codecommit:ListRepositories action"},
		{"identity explicit", user, "codedeploy:ListDeployments", "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*",
			authz.Result{Decision: authz.ExplicitDeny, DeniedBy: authz.IdentityPolicy},
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in an identity-based policy"},
		{"boundary implicit", user, "codedeploy:ListDeployments", "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*",
			authz.Result{Decision: authz.ImplicitDeny, DeniedBy: authz.BoundaryPolicy},
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* because no permissions boundary allows the codedeploy:ListDeployments action"},
		{"boundary explicit", user, "sagemaker:ListModels", "*", authz.Result{Decision: authz.ExplicitDeny, DeniedBy: authz.BoundaryPolicy},
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: sagemaker:ListModels with an explicit deny in a permissions boundary"},
		{"session implicit", user, "codecommit:ListRepositories", "", authz.Result{Decision: authz.ImplicitDeny, DeniedBy: authz.SessionPolicy},
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codecommit:ListRepositories because no session policy allows the codecommit:ListRepositories action"},
		{"session explicit", user, "codedeploy:ListDeployments", "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*",
			authz.Result{Decision: authz.ExplicitDeny, DeniedBy: authz.SessionPolicy},
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in a session policy"},
		{"resource implicit", user, "secretsmanager:GetSecretValue", "*", authz.Result{Decision: authz.ImplicitDeny, DeniedBy: authz.ResourcePolicy},
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: secretsmanager:GetSecretValue because no resource-based policy allows the secretsmanager:GetSecretValue action"},
		{"resource explicit", user, "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
			authz.Result{Decision: authz.ExplicitDeny, DeniedBy: authz.ResourcePolicy},
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:* with an explicit deny in a resource-based policy"},
		{"scp explicit", user, "codecommit:ListRepositories", "*", authz.Result{Decision: authz.ExplicitDeny, DeniedBy: authz.SCPPolicy},
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codecommit:ListRepositories with an explicit deny in a service control policy"},
		{"scp implicit", user, "codecommit:ListRepositories", "*", authz.Result{Decision: authz.ImplicitDeny, DeniedBy: authz.SCPPolicy},
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codecommit:ListRepositories because no service control policy allows the codecommit:ListRepositories action"},
		{"rcp explicit", session, "SNS:Publish", "arn:aws:sns:us-east-1:444455556666:role-name-2", authz.Result{Decision: authz.ExplicitDeny, DeniedBy: authz.RCPPolicy},
			"User: arn:aws:sts::111122223333:assumed-role/role-name/role-session-name is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:444455556666:role-name-2 with an explicit deny in a resource control policy"},
		{"trust implicit has no reason", user, "sts:AssumeRole", "arn:aws:iam::222222222222:role/deploy-role", authz.Result{Decision: authz.ImplicitDeny, DeniedBy: authz.ResourcePolicy},
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/deploy-role"},
		{"trust explicit", session, "sts:AssumeRole", "arn:aws:iam::222222222222:role/deploy-role", authz.Result{Decision: authz.ExplicitDeny, DeniedBy: authz.ResourcePolicy},
			"User: arn:aws:sts::111122223333:assumed-role/role-name/role-session-name is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/deploy-role with an explicit deny in a resource-based policy"},
		{"anonymous", nil, "s3:GetObject", "arn:aws:s3:::b/k", authz.Result{Decision: authz.ImplicitDeny, DeniedBy: authz.ResourcePolicy},
			"User: anonymous is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k because no resource-based policy allows the s3:GetObject action"},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			req := &authz.Request{Caller: tt.caller, Action: tt.action, Resource: tt.resource}
			if got := authz.DeniedMessage(req, tt.res); got != tt.want {
				t.Fatalf("DeniedMessage =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestDeniedMessageFromEvaluate checks the message of a real decision end to end.
func TestDeniedMessageFromEvaluate(t *testing.T) {
	t.Parallel()
	j := authz.RequestJSON{Principal: ptr("arn:aws:iam::123456789012:user/JohnDoe"), Action: "iam:CreateUser",
		Resource: "arn:aws:iam::123456789012:user/x"}
	req, err := j.Build()
	if err != nil {
		t.Fatal(err)
	}
	want := "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/x because no identity-based policy allows the iam:CreateUser action"
	if got := authz.DeniedMessage(req, authz.Evaluate(req)); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func ptr(s string) *string { return &s }

// TestExplain checks the diagnostics: matched statements with their sources, missing keys and
// per-type details.
func TestExplain(t *testing.T) {
	t.Parallel()
	const (
		allowS3 = `{"Version":"2012-10-17","Statement":[{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
		denyTag = `{"Version":"2012-10-17","Statement":[{"Sid":"NoProd","Effect":"Deny","Action":"s3:Delete*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}]}`
		bound   = `{"Version":"2012-10-17","Statement":[{"Sid":"B","Effect":"Allow","Action":["s3:Get*","s3:Delete*"],"Resource":"*"}]}`
	)
	tests := []struct {
		name        string
		req         string
		want        authz.Decision
		wantMatched []string // Source.ID#Sid
		wantMissing []string
		wantDetails []authz.Detail
	}{
		{
			name: "allowed by identity and boundary",
			req: `{"principal":"arn:aws:iam::111122223333:user/a","action":"s3:GetObject","resource":"arn:aws:s3:::b/k",
				"identityPolicies":[` + allowS3 + `,` + denyTag + `],"permissionsBoundaries":[` + bound + `]}`,
			want:        authz.Allowed,
			wantMatched: []string{"identityPolicies[0]#S3", "permissionsBoundaries[0]#B"},
			wantDetails: []authz.Detail{{authz.IdentityPolicy, authz.Allowed}, {authz.BoundaryPolicy, authz.Allowed}},
		},
		{
			name: "missing key for a deny condition",
			req: `{"principal":"arn:aws:iam::111122223333:user/a","action":"s3:DeleteObject","resource":"arn:aws:s3:::b/k",
				"identityPolicies":[` + allowS3 + `,` + denyTag + `]}`,
			want:        authz.Allowed,
			wantMatched: []string{"identityPolicies[0]#S3"},
			wantMissing: []string{"aws:ResourceTag/env"},
			wantDetails: []authz.Detail{{authz.IdentityPolicy, authz.Allowed}},
		},
		{
			name: "explicit deny reports only the deny",
			req: `{"principal":"arn:aws:iam::111122223333:user/a","action":"s3:DeleteObject","resource":"arn:aws:s3:::b/k",
				"context":{"aws:ResourceTag/env":"prod"},"identityPolicies":[` + allowS3 + `,` + denyTag + `]}`,
			want:        authz.ExplicitDeny,
			wantMatched: []string{"identityPolicies[1]#NoProd"},
			wantDetails: []authz.Detail{{authz.IdentityPolicy, authz.ExplicitDeny}},
		},
		{
			name: "cross-account details",
			req: `{"principal":"arn:aws:iam::111122223333:user/a","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resourceAccount":"444455556666",
				"identityPolicies":[` + allowS3 + `],
				"resourcePolicy":{"Version":"2012-10-17","Statement":[{"Sid":"R","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:PutObject","Resource":"*"}]},
				"serviceControlPolicies":[[{"Version":"2012-10-17","Statement":[{"Sid":"Full","Effect":"Allow","Action":"*","Resource":"*"}]}]],
				"resourceControlPolicies":[[]]}`,
			want:        authz.ImplicitDeny,
			wantMatched: []string{"identityPolicies[0]#S3", "serviceControlPolicies[0][0]#Full"},
			wantDetails: []authz.Detail{{authz.IdentityPolicy, authz.Allowed}, {authz.ResourcePolicy, authz.ImplicitDeny},
				{authz.SCPPolicy, authz.Allowed}, {authz.RCPPolicy, authz.Allowed}},
		},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			rs, err := authz.DecodeRequests([]byte(tt.req))
			if err != nil {
				t.Fatal(err)
			}
			req, err := rs[0].Build()
			if err != nil {
				t.Fatal(err)
			}
			r := authz.Explain(req)
			if r.Decision != tt.want {
				t.Fatalf("decision %s, want %s", r.Decision, tt.want)
			}
			var got []string
			for _, m := range r.Matched {
				got = append(got, m.Source.ID+"#"+m.Sid)
				if m.Start.Line == 0 || m.End.Offset <= m.Start.Offset {
					t.Errorf("match %s has no position: %+v-%+v", m.Sid, m.Start, m.End)
				}
			}
			if !slices.Equal(got, tt.wantMatched) {
				t.Errorf("matched %q, want %q", got, tt.wantMatched)
			}
			if !slices.Equal(r.Missing, tt.wantMissing) {
				t.Errorf("missing %q, want %q", r.Missing, tt.wantMissing)
			}
			if !slices.Equal(r.Details, tt.wantDetails) {
				t.Errorf("details %v, want %v", r.Details, tt.wantDetails)
			}
		})
	}
}

func TestDecodeRequestsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"unknown field", `{"action":"s3:GetObject","identityPolicy":[]}`},
		{"not JSON", `{`},
		{"bad principal", `{"principal":"nobody","action":"s3:GetObject"}`},
		{"no action", `{"principal":null}`},
		{"invalid identity policy", `{"action":"s3:GetObject","identityPolicies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}]}`},
		{"identity policy with a principal", `{"action":"s3:GetObject","identityPolicies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}]}`},
		{"context object", `{"action":"s3:GetObject","context":{"k":{"a":1}}}`},
		{"invalid SCP", `{"action":"s3:GetObject","serviceControlPolicies":[[{"Statement":[]}]]}`},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			rs, err := authz.DecodeRequests([]byte(tt.in))
			if err == nil {
				_, err = rs[0].Build()
			}
			if err == nil {
				t.Fatalf("%s: no error", tt.in)
			}
		})
	}
}

// TestContextShapes checks that context values keep their shape: a string is single-valued, an
// array multivalued, and numbers and booleans are their text.
func TestContextShapes(t *testing.T) {
	t.Parallel()
	rs, err := authz.DecodeRequests([]byte(`{"action":"x:Y","context":{"one":"a","many":["a","b"],"none":[],"n":3,"b":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	req, err := rs[0].Build()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key   string
		multi bool
		vals  []string
	}{{"one", false, []string{"a"}}, {"many", true, []string{"a", "b"}}, {"none", true, nil}, {"n", false, []string{"3"}}, {"b", false, []string{"true"}}}
	for _, c := range checks {
		v, ok := req.Context.Get(c.key)
		if !ok || v.Multi != c.multi || !slices.Equal(v.Values, c.vals) && len(v.Values)+len(c.vals) > 0 {
			t.Errorf("context %s = %+v (present %v), want multi=%v %q", c.key, v, ok, c.multi, c.vals)
		}
	}
	if req.Caller != nil {
		t.Errorf("absent principal gave caller %+v, want anonymous", req.Caller)
	}
}
