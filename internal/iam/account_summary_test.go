package iam

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// TestAccountSummaryKeys: the SummaryMap has every key of the API Reference's SummaryKeyType
// that AWS answers for an account whose root user has no console password (the answers
// recorded from AWS leave AccountPasswordPresent out then; it appears, as 1, once
// SetRootPassword gives the root user one), and a new account's counts: nothing but the root
// user's access key, and
// GlobalEndpointTokenVersion 1 (AWS's answer for an account that never set it). The quotas
// are the limits the handlers enforce.
func TestAccountSummaryKeys(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	out, err := f.svc.GetAccountSummary(f.root, &iam.GetAccountSummaryInput{})
	f.must(err)
	var want []string
	for _, k := range types.SummaryKeyType("").Values() {
		if k != types.SummaryKeyTypeAccountPasswordPresent {
			want = append(want, string(k))
		}
	}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(out.SummaryMap)); !slices.Equal(got, want) {
		t.Fatalf("keys = %q\nwant   %q", got, want)
	}
	for k, v := range map[string]int32{
		"Users": 0, "Groups": 0, "Roles": 0, "Policies": 0, "InstanceProfiles": 0, "ServerCertificates": 0,
		"Providers": 0, "MFADevices": 0, "MFADevicesInUse": 0, "PolicyVersionsInUse": 0,
		"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1, "AccountSigningCertificatesPresent": 0,
		"GlobalEndpointTokenVersion": 1,
		// Gatehouse's limits (AWS's defaults too), and AWS's defaults where Gatehouse has none.
		"UsersQuota": 5000, "GroupsQuota": maxGroupsPerAccount, "RolesQuota": maxRolesPerAccount,
		"PoliciesQuota": maxPoliciesPerAccount, "InstanceProfilesQuota": maxInstanceProfilesPerAccount,
		"ServerCertificatesQuota": maxServerCertificates, "PolicyVersionsInUseQuota": 10000,
		"VersionsPerPolicyQuota": maxPolicyVersions, "PolicySizeQuota": maxManagedPolicySize,
		"UserPolicySizeQuota": maxUserInlinePolicySize, "GroupPolicySizeQuota": maxGroupInlinePolicySize,
		"RolePolicySizeQuota": maxRoleInlinePolicySize, "AssumeRolePolicySizeQuota": maxTrustPolicySize,
		"AttachedPoliciesPerUserQuota": maxAttachedPolicies, "AttachedPoliciesPerGroupQuota": maxAttachedPolicies,
		"AttachedPoliciesPerRoleQuota": maxAttachedPolicies, "GroupsPerUserQuota": maxGroupsPerUser,
		"AccessKeysPerUserQuota": maxAccessKeysPerUser, "SigningCertificatesPerUserQuota": maxSigningCertificatesPerUser,
	} {
		if out.SummaryMap[k] != v {
			t.Errorf("%s = %d, want %d", k, out.SummaryMap[k], v)
		}
	}
	f.must(f.svc.SetRootPassword(f.root, f.account, "Root-pw-123"))
	out, err = f.svc.GetAccountSummary(f.root, &iam.GetAccountSummaryInput{})
	f.must(err)
	want = append(want, string(types.SummaryKeyTypeAccountPasswordPresent))
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(out.SummaryMap)); !slices.Equal(got, want) || out.SummaryMap["AccountPasswordPresent"] != 1 {
		t.Fatalf("with a root password: keys = %q, AccountPasswordPresent = %d", got, out.SummaryMap["AccountPasswordPresent"])
	}
}

// TestAccountSummaryCounts: each count follows the store as entities come and go, counts only
// the caller's account, and the root user's flags follow the root user's own credentials.
func TestAccountSummaryCounts(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	other := f.rootCtx(f.newAccount())
	summary := func() map[string]int32 {
		t.Helper()
		out, err := f.svc.GetAccountSummary(f.root, &iam.GetAccountSummaryInput{})
		f.must(err)
		return out.SummaryMap
	}
	base := summary()
	expect := func(step string, changes map[string]int32) {
		t.Helper()
		got := summary()
		for k, v := range changes {
			base[k] = v
		}
		for k, v := range base {
			if got[k] != v {
				t.Errorf("after %s: %s = %d, want %d", step, k, got[k], v)
			}
		}
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

	f.user("alice", "")
	f.user("bob", "")
	_, err := f.svc.CreateAccessKey(f.root, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	f.must(err)
	expect("two users and a user's access key", map[string]int32{"Users": 2})

	_, err = f.svc.CreateGroup(f.root, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	f.must(err)
	_, err = f.svc.CreateRole(f.root, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(trust)})
	f.must(err)
	_, err = f.svc.CreateInstanceProfile(f.root, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app")})
	f.must(err)
	expect("a group, a role and an instance profile", map[string]int32{"Groups": 1, "Roles": 1, "InstanceProfiles": 1})

	p := f.managed("read", allow("iam:Get*", "*", ""))
	f.attach("alice", p)
	f.attach("bob", p)
	_, err = f.svc.AttachRolePolicy(f.root, &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String(azReadOnly)})
	f.must(err)
	_, err = f.svc.AttachGroupPolicy(f.root, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(azReadOnly)})
	f.must(err)
	expect("a customer policy attached twice, an AWS policy twice", map[string]int32{"Policies": 1, "PolicyVersionsInUse": 4})

	_, err = f.svc.DetachUserPolicy(f.root, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(p)})
	f.must(err)
	expect("a detach", map[string]int32{"PolicyVersionsInUse": 3})

	_, err = f.svc.CreateOpenIDConnectProvider(f.root, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.example.com"), ThumbprintList: []string{"0123456789012345678901234567890123456789"}})
	f.must(err)
	expect("an OIDC provider", map[string]int32{"Providers": 1})

	// MFA: two virtual devices, one enabled for alice, one for the root user.
	step := mfaCode.Step(f.now)
	device := func(name string) (string, []byte) {
		out, err := f.svc.CreateVirtualMFADevice(f.root, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(name)})
		f.must(err)
		seed, err := totp.DecodeSeed(string(out.VirtualMFADevice.Base32StringSeed))
		f.must(err)
		return *out.VirtualMFADevice.SerialNumber, seed
	}
	aliceSerial, aliceSeed := device("alice-phone")
	rootSerial, rootSeed := device("root-phone")
	expect("two virtual MFA devices", map[string]int32{"MFADevices": 2})
	_, err = f.svc.EnableMFADevice(f.root, &iam.EnableMFADeviceInput{
		UserName: aws.String("alice"), SerialNumber: aws.String(aliceSerial),
		AuthenticationCode1: aws.String(mfaCode.CodeAt(aliceSeed, step-1)), AuthenticationCode2: aws.String(mfaCode.CodeAt(aliceSeed, step)),
	})
	f.must(err)
	expect("a user's MFA device", map[string]int32{"MFADevicesInUse": 1})
	f.must(f.svc.EnableRootMFADevice(f.root, f.account, rootSerial, mfaCode.CodeAt(rootSeed, step-1), mfaCode.CodeAt(rootSeed, step)))
	expect("the root user's MFA device", map[string]int32{"MFADevicesInUse": 2, "AccountMFAEnabled": 1})

	// Root signing certificate: UploadSigningCertificate without UserName, as root.
	c := newTestCert(t, "root", testRSAKey(), nil, false, f.now.Add(-time.Hour), f.now.Add(time.Hour))
	_, err = f.svc.UploadSigningCertificate(f.root, &iam.UploadSigningCertificateInput{CertificateBody: aws.String(c.pem)})
	f.must(err)
	expect("the root user's signing certificate", map[string]int32{"AccountSigningCertificatesPresent": 1})

	// The other account sees none of it.
	out, err := f.svc.GetAccountSummary(other, &iam.GetAccountSummaryInput{})
	f.must(err)
	for _, k := range []string{"Users", "Groups", "Roles", "Policies", "PolicyVersionsInUse", "MFADevices", "MFADevicesInUse", "AccountMFAEnabled", "Providers", "InstanceProfiles", "AccountSigningCertificatesPresent"} {
		if out.SummaryMap[k] != 0 {
			t.Errorf("other account: %s = %d, want 0", k, out.SummaryMap[k])
		}
	}

	_, err = f.svc.DeleteUser(f.root, &iam.DeleteUserInput{UserName: aws.String("bob")})
	f.must(err)
	expect("a deleted user", map[string]int32{"Users": 1})
}

// TestSecurityTokenServicePreferences: the version is per account, shown as 1 or 2 in
// GetAccountSummary; a value outside the model's enum (v1Token, v2Token) is AWS's
// ValidationError constraint text and changes nothing.
func TestSecurityTokenServicePreferences(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	other := f.rootCtx(f.newAccount())
	version := func() int32 {
		t.Helper()
		out, err := f.svc.GetAccountSummary(f.root, &iam.GetAccountSummaryInput{})
		f.must(err)
		return out.SummaryMap["GlobalEndpointTokenVersion"]
	}
	set := func(v string) error {
		_, err := f.svc.SetSecurityTokenServicePreferences(f.root, &iam.SetSecurityTokenServicePreferencesInput{GlobalEndpointTokenVersion: types.GlobalEndpointTokenVersion(v)})
		return err
	}
	for _, tc := range []struct {
		set  string
		want int32
	}{
		{"v2Token", 2},
		{"v2Token", 2},
		{"v1Token", 1},
		{"v2Token", 2},
	} {
		f.must(set(tc.set))
		if got := version(); got != tc.want {
			t.Fatalf("after %s: GlobalEndpointTokenVersion = %d, want %d", tc.set, got, tc.want)
		}
	}
	err := set("v3Token")
	if azCode(err) != "ValidationError" || azMessage(err) != "1 validation error detected: Value 'v3Token' at 'globalEndpointTokenVersion' failed to satisfy constraint: Member must satisfy enum value set: [v1Token, v2Token]" {
		t.Fatalf("v3Token: %v", err)
	}
	if got := version(); got != 2 {
		t.Fatalf("a refused value changed the version to %d", got)
	}
	out, err := f.svc.GetAccountSummary(other, &iam.GetAccountSummaryInput{})
	f.must(err)
	if out.SummaryMap["GlobalEndpointTokenVersion"] != 1 {
		t.Fatalf("another account's version = %d, want 1", out.SummaryMap["GlobalEndpointTokenVersion"])
	}
}
