package e2e

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// acctAliases lists the account's aliases through c.
func acctAliases(t *testing.T, c *iam.Client) []string {
	t.Helper()
	out, err := c.ListAccountAliases(context.Background(), &iam.ListAccountAliasesInput{})
	pmOK(t, err)
	if out.IsTruncated || out.Marker != nil {
		t.Fatalf("ListAccountAliases truncated: %+v", out)
	}
	return out.AccountAliases
}

func acctWantAliases(t *testing.T, c *iam.Client, want ...string) {
	t.Helper()
	if got := acctAliases(t, c); !slices.Equal(got, want) {
		t.Fatalf("aliases = %q, want %q", got, want)
	}
}

// acctSummary is GetAccountSummary's SummaryMap through c.
func acctSummary(t *testing.T, c *iam.Client) map[string]int32 {
	t.Helper()
	out, err := c.GetAccountSummary(context.Background(), &iam.GetAccountSummaryInput{})
	pmOK(t, err)
	return out.SummaryMap
}

// TestAccountAlias: one alias per account, a new one overwriting the old ("If you create a new
// alias for your AWS account, the new alias overwrites the previous alias", IAM User Guide,
// "Your AWS account ID and its alias"); unique across the deployment with AWS's
// EntityAlreadyExists text ("The account alias my-prod-account already exists.", as AWS
// answered in aws-nuke issue 697); the model's length as a constraint violation and its pattern
// as IAM's own ValidationError text (AWS's answer quoted in app-sre/qontract-schemas PR 824);
// DeleteAccountAlias only of the account's own alias; denied and failed calls change nothing.
func TestAccountAlias(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, other, _ := e.newAccount(t)
	create := func(c *iam.Client, alias string) error {
		_, err := c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String(alias)})
		return err
	}
	del := func(c *iam.Client, alias string) error {
		_, err := c.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String(alias)})
		return err
	}

	acctWantAliases(t, e.IAM)
	pmOK(t, create(e.IAM, "gatehouse-first"))
	acctWantAliases(t, e.IAM, "gatehouse-first")
	pmOK(t, create(e.IAM, "gatehouse-second"))
	acctWantAliases(t, e.IAM, "gatehouse-second")
	pmOK(t, create(other, "gatehouse-first")) // freed by the overwrite
	acctWantAliases(t, other, "gatehouse-first")

	gkErr(t, create(other, "gatehouse-second"), "EntityAlreadyExists", "The account alias gatehouse-second already exists.")
	gkErr(t, create(e.IAM, "gatehouse-second"), "EntityAlreadyExists", "The account alias gatehouse-second already exists.")

	pattern := "The specified value for accountAlias is invalid. It must be a minimum length of 3 characters and maximum length of 63 characters, contain only digits, lowercase letters, and hyphens (-), but cannot begin or end with a hyphen."
	for _, tc := range []struct{ alias, msg string }{
		{"Upper", pattern},
		{"double--dash", pattern},
		{"-leading", pattern},
		{"under_score", pattern},
		{"ab", "1 validation error detected: Value 'ab' at 'accountAlias' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{strings.Repeat("a", 64), "1 validation error detected: Value '" + strings.Repeat("a", 64) + "' at 'accountAlias' failed to satisfy constraint: Member must have length less than or equal to 63"},
		{"123456789012", "The account alias 123456789012 is invalid: an alias cannot be a 12-digit number, which would read as an account ID."},
	} {
		gkErr(t, create(e.IAM, tc.alias), "ValidationError", tc.msg)
	}
	gkErr(t, del(e.IAM, "Upper"), "ValidationError", pattern)
	gkErr(t, del(e.IAM, "gatehouse-first"), "NoSuchEntity", "The account alias gatehouse-first cannot be found.")
	gkErr(t, del(e.IAM, "never-created"), "NoSuchEntity", "The account alias never-created cannot be found.")

	// A user without policies is denied each operation, and nothing changes.
	nobody, _ := e.newUser(t, "nobody")
	for _, tc := range []struct {
		action string
		call   func() error
	}{
		{"iam:CreateAccountAlias", func() error { return create(nobody, "gatehouse-nobody") }},
		{"iam:DeleteAccountAlias", func() error { return del(nobody, "gatehouse-second") }},
		{"iam:ListAccountAliases", func() error {
			_, err := nobody.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
			return err
		}},
	} {
		enfDenied(t, tc.call(), enfNotAuthorized(e, "nobody", tc.action, "*", "because no identity-based policy allows the "+tc.action+" action"))
	}
	acctWantAliases(t, e.IAM, "gatehouse-second")
	acctWantAliases(t, other, "gatehouse-first")

	// Paging: one alias fits any page; the SDK's paginator stops after it.
	out, err := e.IAM.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{MaxItems: aws.Int32(1)})
	pmOK(t, err)
	if !slices.Equal(out.AccountAliases, []string{"gatehouse-second"}) || out.IsTruncated {
		t.Fatalf("MaxItems 1: %+v", out)
	}
	_, err = e.IAM.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{Marker: aws.String("bogus")})
	gkErr(t, err, "ValidationError", "Invalid Marker.")
	var all []string
	for p := iam.NewListAccountAliasesPaginator(e.IAM, &iam.ListAccountAliasesInput{MaxItems: aws.Int32(1)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		pmOK(t, err)
		all = append(all, page.AccountAliases...)
	}
	if !slices.Equal(all, []string{"gatehouse-second"}) {
		t.Fatalf("paginated aliases = %q", all)
	}

	pmOK(t, del(e.IAM, "gatehouse-second"))
	acctWantAliases(t, e.IAM)
	pmOK(t, create(other, "gatehouse-second"))
	acctWantAliases(t, other, "gatehouse-second")
}

// TestAccountSummary: every key AWS answers (the API Reference's SummaryKeyType, without
// AccountPasswordPresent, which AWS leaves out while the root user has no console password),
// counts that follow what is created and deleted in the caller's account only, the root
// user's flags from its own credentials, GlobalEndpointTokenVersion from
// SetSecurityTokenServicePreferences, and denied calls that change nothing.
func TestAccountSummary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, other, _ := e.newAccount(t)

	s := acctSummary(t, e.IAM)
	var keys []string
	for _, k := range types.SummaryKeyType("").Values() {
		if k != types.SummaryKeyTypeAccountPasswordPresent {
			keys = append(keys, string(k))
		}
	}
	slices.Sort(keys)
	if got := slices.Sorted(maps.Keys(s)); !slices.Equal(got, keys) {
		t.Fatalf("SummaryMap keys = %q\nwant %q", got, keys)
	}
	// AWS's default quotas, which are Gatehouse's limits too (IAM User Guide, "IAM and AWS STS
	// quotas"; the values of AWS's recorded answers).
	for k, v := range map[string]int32{
		"UsersQuota": 5000, "GroupsQuota": 300, "RolesQuota": 1000, "PoliciesQuota": 1500,
		"InstanceProfilesQuota": 1000, "ServerCertificatesQuota": 20, "PolicyVersionsInUseQuota": 10000,
		"VersionsPerPolicyQuota": 5, "PolicySizeQuota": 6144, "UserPolicySizeQuota": 2048,
		"GroupPolicySizeQuota": 5120, "RolePolicySizeQuota": 10240, "AssumeRolePolicySizeQuota": 2048,
		"AttachedPoliciesPerUserQuota": 10, "AttachedPoliciesPerGroupQuota": 10, "AttachedPoliciesPerRoleQuota": 10,
		"GroupsPerUserQuota": 10, "AccessKeysPerUserQuota": 2, "SigningCertificatesPerUserQuota": 2,
		// A new account: its root user's access key, version 1 tokens.
		"Users": 0, "Roles": 0, "Policies": 0, "AccountAccessKeysPresent": 1, "AccountMFAEnabled": 0,
		"GlobalEndpointTokenVersion": 1,
	} {
		if s[k] != v {
			t.Errorf("%s = %d, want %d", k, s[k], v)
		}
	}

	expect := func(step string, changes map[string]int32) {
		t.Helper()
		maps.Copy(s, changes)
		got := acctSummary(t, e.IAM)
		for k, v := range s {
			if got[k] != v {
				t.Errorf("after %s: %s = %d, want %d", step, k, got[k], v)
			}
		}
	}
	nobody, _ := e.newUser(t, "nobody") // a user with an access key and no policies
	expect("a user", map[string]int32{"Users": 1})

	_, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
	pmOK(t, err)
	_, err = e.IAM.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	pmOK(t, err)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	_, err = e.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(trust)})
	pmOK(t, err)
	_, err = e.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app")})
	pmOK(t, err)
	expect("a user, group, role and instance profile", map[string]int32{"Users": 2, "Groups": 1, "Roles": 1, "InstanceProfiles": 1})

	pol, err := e.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}`)})
	pmOK(t, err)
	_, err = e.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: pol.Policy.Arn})
	pmOK(t, err)
	_, err = e.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
	pmOK(t, err)
	expect("a customer-managed policy and two attachments", map[string]int32{"Policies": 1, "PolicyVersionsInUse": 2})

	_, err = e.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	pmOK(t, err)
	expect("a user's access key", nil) // the root flag is the root user's alone

	now := pmStep()
	dev := pmCreateDevice(t, e.IAM, e.Account, "", "alice-phone")
	expect("a virtual MFA device", map[string]int32{"MFADevices": 1})
	_, err = e.IAM.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(dev.serial), AuthenticationCode1: aws.String(dev.code(now - 1)), AuthenticationCode2: aws.String(dev.code(now))})
	pmOK(t, err)
	expect("alice's MFA device", map[string]int32{"MFADevicesInUse": 1})
	root := pmCreateDevice(t, e.IAM, e.Account, "", "root-account-mfa-device")
	pmOK(t, e.app.IAM.EnableRootMFADevice(ctx, e.Account, root.serial, root.code(now-1), root.code(now)))
	expect("the root user's MFA device", map[string]int32{"MFADevices": 2, "MFADevicesInUse": 2, "AccountMFAEnabled": 1})

	cert := newCertPEM(t, "root-signing", certRSA(), nil, false)
	_, err = e.IAM.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{CertificateBody: aws.String(cert.cert)})
	pmOK(t, err)
	expect("the root user's signing certificate", map[string]int32{"AccountSigningCertificatesPresent": 1})

	// GlobalEndpointTokenVersion follows SetSecurityTokenServicePreferences; a value outside
	// the model's enum is the model's ValidationError.
	_, err = e.IAM.SetSecurityTokenServicePreferences(ctx, &iam.SetSecurityTokenServicePreferencesInput{GlobalEndpointTokenVersion: types.GlobalEndpointTokenVersionV2Token})
	pmOK(t, err)
	expect("v2Token", map[string]int32{"GlobalEndpointTokenVersion": 2})
	_, err = e.IAM.SetSecurityTokenServicePreferences(ctx, &iam.SetSecurityTokenServicePreferencesInput{GlobalEndpointTokenVersion: "v3Token"})
	gkErr(t, err, "ValidationError", "1 validation error detected: Value 'v3Token' at 'globalEndpointTokenVersion' failed to satisfy constraint: Member must satisfy enum value set: [v1Token, v2Token]")
	expect("a refused version", nil)

	// Denied: the user without policies reads nothing and sets nothing.
	_, err = nobody.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	enfDenied(t, err, enfNotAuthorized(e, "nobody", "iam:GetAccountSummary", "*", "because no identity-based policy allows the iam:GetAccountSummary action"))
	_, err = nobody.SetSecurityTokenServicePreferences(ctx, &iam.SetSecurityTokenServicePreferencesInput{GlobalEndpointTokenVersion: types.GlobalEndpointTokenVersionV1Token})
	enfDenied(t, err, enfNotAuthorized(e, "nobody", "iam:SetSecurityTokenServicePreferences", "*", "because no identity-based policy allows the iam:SetSecurityTokenServicePreferences action"))
	expect("denied calls", nil)

	// The other account counts only its own entities.
	o := acctSummary(t, other)
	for _, k := range []string{"Users", "Groups", "Roles", "Policies", "InstanceProfiles", "PolicyVersionsInUse", "MFADevices", "MFADevicesInUse", "AccountMFAEnabled", "AccountSigningCertificatesPresent"} {
		if o[k] != 0 {
			t.Errorf("other account: %s = %d, want 0", k, o[k])
		}
	}
	if o["GlobalEndpointTokenVersion"] != 1 {
		t.Errorf("other account: GlobalEndpointTokenVersion = %d, want 1", o["GlobalEndpointTokenVersion"])
	}

	_, err = e.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
	pmOK(t, err)
	_, err = e.IAM.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("app")})
	pmOK(t, err)
	_, err = e.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("app")})
	pmOK(t, err)
	expect("deleting the role and its profile", map[string]int32{"Roles": 0, "InstanceProfiles": 0, "PolicyVersionsInUse": 1})
}
